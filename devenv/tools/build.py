"""Building the product's own images (the stubs), reused by content.

Each image's tag is a hash of what goes into it: every file of its build
context, the Dockerfile target and the base image reference. Building an
image whose tag exists locally is skipped, so a second run builds nothing
unless something changed.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

from devenv.errors import ConfigError
from devenv.tools.docker import Docker
from devenv.topology.images import ImageSet, catalog

__all__ = ["BuildPlan", "BuildResult", "build_args", "build_images", "plan_builds"]

BASE_IMAGE = "python"
_IGNORED = {"__pycache__", ".pytest_cache", ".mypy_cache"}


@dataclass(frozen=True)
class BuildPlan:
    name: str  # catalog name, e.g. stub-agent
    context: Path
    target: str
    base_image: str
    tag: str  # repository:content-hash


@dataclass(frozen=True)
class BuildResult:
    plan: BuildPlan
    built: bool  # False: an image with this content was already there


def source_root() -> Path:
    """Where the build contexts live: the repository (editable installs) or the wheel."""
    package = Path(__file__).parents[1]  # the devenv package
    for candidate in (package / "_build_contexts", package.parent):
        if (candidate / "stubs" / "Dockerfile").is_file():
            return candidate
    raise ConfigError(
        "cannot find stubs/Dockerfile next to the devenv package",
        hint="run devenv from a clone of finops-devenv (pip install -e .)",
    )


def _context_digest(context: Path) -> hashlib._Hash:
    digest = hashlib.sha256()
    for path in sorted(context.rglob("*")):
        if path.is_dir() or _IGNORED & set(path.relative_to(context).parts):
            continue
        digest.update(str(path.relative_to(context)).encode() + b"\0")
        digest.update(path.read_bytes() + b"\0")
    return digest


def plan_builds(images: ImageSet, root: Path | None = None) -> list[BuildPlan]:
    """One plan per catalog image that devenv builds, tagged by content."""
    root = root or source_root()
    base = images.ref(BASE_IMAGE)
    plans = []
    digests: dict[Path, str] = {}
    for name, image in catalog().items():
        if image.build_context is None:
            continue
        context = root / image.build_context
        if context not in digests:
            digests[context] = _context_digest(context).hexdigest()
        key = hashlib.sha256(f"{digests[context]}\0{image.target}\0{base}".encode()).hexdigest()[
            :12
        ]
        repository = images.ref(name).rsplit(":", 1)[0].split("@", 1)[0]
        plans.append(
            BuildPlan(
                name=name,
                context=context,
                target=image.target or name,
                base_image=base,
                tag=f"{repository}:{key}",
            )
        )
    return plans


def build_args(plan: BuildPlan) -> list[str]:
    """What follows `docker build` for a plan."""
    return [
        "--target", plan.target,
        "--build-arg", f"BASE_IMAGE={plan.base_image}",
        "--label", f"org.finops-devenv.image={plan.name}",
        "--tag", plan.tag,
        str(plan.context),
    ]  # fmt: skip


def build_images(
    plans: Sequence[BuildPlan], *, on_start: Callable[[BuildPlan], None] | None = None
) -> list[BuildResult]:
    """Build what is missing; the builds share layers, so later ones are quick."""
    docker = Docker()
    held = docker.image_ids([plan.tag for plan in plans])
    results = []
    for plan in plans:
        if plan.tag in held:
            results.append(BuildResult(plan, built=False))
            continue
        if on_start is not None:
            on_start(plan)
        docker.build(build_args(plan))
        results.append(BuildResult(plan, built=True))
    return results
