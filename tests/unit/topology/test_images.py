"""Image pins and the override mechanism."""

from __future__ import annotations

from pathlib import Path

import pytest

from devenv.apply.phases.registry import registry_copies
from devenv.errors import ConfigError, ImageOverrideError
from devenv.topology.images import (
    ImageSet,
    catalog,
    env_var_for,
    is_digest_pinned,
    registry_copy_ref,
    resolve_images,
)


def test_every_external_image_is_pinned_by_digest_with_a_source() -> None:
    for name, image in catalog().items():
        assert image.source.strip(), name
        if image.build_context is None:
            assert is_digest_pinned(image.ref), name


def test_env_var_names() -> None:
    assert env_var_for("vault-k8s") == "DEVENV_IMAGE_VAULT_K8S"


def test_file_then_variables(tmp_path: Path) -> None:
    overrides = tmp_path / "images.yaml"
    overrides.write_text(
        "images:\n  redis: mirror.example/redis:7\n  openbao: mirror.example/bao:2\n"
    )
    images = resolve_images(overrides, {"DEVENV_IMAGE_OPENBAO": "other.example/bao:2"})
    assert images.ref("redis") == "mirror.example/redis:7"
    assert images.ref("openbao") == "other.example/bao:2"
    assert images.overridden == {"redis": str(overrides), "openbao": "DEVENV_IMAGE_OPENBAO"}
    assert images.ref("timescaledb") == catalog()["timescaledb"].ref


def test_file_from_environment(tmp_path: Path) -> None:
    overrides = tmp_path / "images.yaml"
    overrides.write_text("images: {redis: 'mirror.example/redis:7'}\n")
    images = resolve_images(None, {"DEVENV_IMAGES_FILE": str(overrides)})
    assert images.ref("redis") == "mirror.example/redis:7"


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("images:\n  redsi: x/y:1\n", r"images\.redsi: unknown image 'redsi'"),
        (
            "images:\n  redis: 'Not A Reference!'\n",
            r"images\.redis: 'Not A Reference!' is not an image reference",
        ),
        ("imagez: {}\n", "imagez: unknown key"),
        ("images: [redis]\n", "images: expected a mapping"),
    ],
)
def test_bad_override_files_point_at_the_key(tmp_path: Path, text: str, message: str) -> None:
    overrides = tmp_path / "images.yaml"
    overrides.write_text(text)
    with pytest.raises(ImageOverrideError, match=message):
        resolve_images(overrides, {})


def test_unknown_variable() -> None:
    with pytest.raises(ImageOverrideError, match="DEVENV_IMAGE_POSTGRES: names no known image"):
        resolve_images(None, {"DEVENV_IMAGE_POSTGRES": "x/y:1"})


def test_missing_file() -> None:
    with pytest.raises(ConfigError, match="no such file"):
        resolve_images(Path("/nonexistent/images.yaml"), {})


@pytest.mark.parametrize(
    ("ref", "copy"),
    [
        ("finops-ci/postgres:15-3df5", "localhost:5001/finops-ci/postgres:15-3df5"),
        ("redis", "localhost:5001/redis:latest"),
        ("docker.io/library/redis:7.4.11-alpine@sha256:" + "ab12" * 16,
         "localhost:5001/library/redis:7.4.11-alpine-ab12ab12ab12"),
        ("quay.io/openbao/openbao@sha256:" + "cd34" * 16,
         "localhost:5001/openbao/openbao:pinned-cd34cd34cd34"),
        ("mirror.example:5000/team/bao:2", "localhost:5001/team/bao:2"),
    ],
)  # fmt: skip
def test_a_copy_in_a_registry_keeps_path_and_tag_and_names_its_pin(ref: str, copy: str) -> None:
    assert registry_copy_ref("localhost:5001", ref) == copy


def test_only_pod_images_held_here_go_through_the_local_registry() -> None:
    images = ImageSet(
        refs={
            "timescaledb": "finops-ci/postgres:15-1",  # a stand-in held here
            "redis": "docker.io/library/redis:7",  # not held here: the node pulls it
            "stub-agent": "localhost:5001/finops-devenv/stub-agent:abc",  # already named there
            "kind-node": "finops-ci/kind-node:1",  # runs on the host, never in a pod
        },
        overridden={},
    )
    held = {"finops-ci/postgres:15-1": "sha256:1", "finops-ci/kind-node:1": "sha256:2",
            "localhost:5001/finops-devenv/stub-agent:abc": "sha256:3"}  # fmt: skip
    assert registry_copies(images, held) == {
        "timescaledb": "localhost:5001/finops-ci/postgres:15-1"
    }
