"""Image build plans: content-addressed tags, argument lists, reuse."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from devenv.tools.build import build_args, build_images, plan_builds, source_root
from devenv.tools.docker import Docker
from devenv.topology.images import ImageSet, resolve_images


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    shutil.copytree(
        source_root() / "stubs", tmp_path / "stubs", ignore=shutil.ignore_patterns("__pycache__")
    )
    return tmp_path


def _tags(images: ImageSet, root: Path) -> dict[str, str]:
    return {plan.name: plan.tag for plan in plan_builds(images, root)}


def test_one_plan_per_family_with_content_tags(repo: Path, image_set: ImageSet) -> None:
    plans = plan_builds(image_set, repo)
    assert [p.target for p in plans] == ["stub-agent", "stub-mcp", "stub-worker"]
    assert plans[0].tag.startswith("localhost:5001/finops-devenv/stub-agent:")
    assert plans[0].base_image == image_set.ref("python")


def test_tags_change_with_the_code_and_the_base(repo: Path, image_set: ImageSet) -> None:
    before = _tags(image_set, repo)
    assert _tags(image_set, repo) == before  # stable
    (repo / "stubs" / "finops_stub" / "probe.py").write_text("# changed\n", encoding="utf-8")
    after_code = _tags(image_set, repo)
    assert all(after_code[name] != before[name] for name in before)
    other_base = resolve_images(None, {"DEVENV_IMAGE_PYTHON": "mirror.example/python:3.12-slim"})
    assert _tags(other_base, repo)["stub-mcp"] != after_code["stub-mcp"]


def test_docker_build_argument_list(repo: Path, image_set: ImageSet) -> None:
    plan = plan_builds(image_set, repo)[2]
    assert build_args(plan) == [
        "--target", "stub-worker",
        "--build-arg", f"BASE_IMAGE={image_set.ref('python')}",
        "--label", "org.finops-devenv.image=stub-worker",
        "--tag", plan.tag, str(repo / "stubs"),
    ]  # fmt: skip


def test_existing_images_are_reused(
    repo: Path, image_set: ImageSet, monkeypatch: pytest.MonkeyPatch
) -> None:
    plans = plan_builds(image_set, repo)
    present = {plans[0].tag}
    built: list[list[str]] = []
    monkeypatch.setattr(Docker, "image_id", lambda _, ref: "sha256:x" if ref in present else None)
    monkeypatch.setattr(Docker, "build", lambda _, args: built.append(list(args)))
    results = build_images(plans)
    assert [r.built for r in results] == [False, True, True]
    assert built == [build_args(plan) for plan in plans[1:]]
