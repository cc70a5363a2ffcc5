"""Which container image each part of the environment runs (DEV-INF-004).

The catalog (``data/images.yaml``) pins every external image by digest and
says where each digest was taken from. Users on a mirror or an air-gapped
machine override references without editing the catalog:

* a file: ``images: {timescaledb: mirror.corp/timescaledb@sha256:...}``
  (``--images FILE`` or ``DEVENV_IMAGES_FILE``), then
* variables: ``DEVENV_IMAGE_TIMESCALEDB=...`` (win over the file).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from functools import cache
from importlib import resources
from pathlib import Path

from devenv.errors import ImageOverrideError
from devenv.yamlio import load_mapping, parse_mapping

__all__ = [
    "HOST_IMAGES",
    "CatalogImage",
    "ImageSet",
    "catalog",
    "env_var_for",
    "is_digest_pinned",
    "registry_copy_ref",
    "resolve_images",
]

ENV_PREFIX = "DEVENV_IMAGE_"
IMAGES_FILE_ENV = "DEVENV_IMAGES_FILE"

# docker/distribution reference grammar, simplified: [host[:port]/]path[:tag][@digest]
_REFERENCE = re.compile(
    r"^(?:[a-zA-Z0-9.-]+(?::[0-9]+)?/)?[a-z0-9]+(?:[._-][a-z0-9]+)*(?:/[a-z0-9]+(?:[._-][a-z0-9]+)*)*"
    r"(?::[A-Za-z0-9_][A-Za-z0-9_.-]{0,127})?(?:@sha256:[a-f0-9]{64})?$"
)
_DIGEST = re.compile(r"@sha256:[a-f0-9]{64}$")


@dataclass(frozen=True)
class CatalogImage:
    """One image the environment uses, as pinned in the catalog."""

    name: str
    ref: str
    source: str
    purpose: str
    build_context: str | None = None  # built by devenv from this repo directory
    target: str | None = None  # the Dockerfile stage to build


@dataclass(frozen=True)
class ImageSet:
    """The references in force: catalog pins with overrides applied."""

    refs: Mapping[str, str]
    overridden: Mapping[str, str]  # name -> where the override came from

    def ref(self, name: str) -> str:
        return self.refs[name]

    def with_refs(self, **refs: str) -> ImageSet:
        """A copy with some references replaced (e.g. a freshly built stub tag)."""
        merged = {**self.refs, **refs}
        origin = {**self.overridden, **dict.fromkeys(refs, "devenv")}
        return ImageSet(refs=merged, overridden=origin)


def env_var_for(name: str) -> str:
    """The variable that overrides an image: vault-k8s -> DEVENV_IMAGE_VAULT_K8S."""
    return ENV_PREFIX + name.upper().replace("-", "_")


def is_digest_pinned(ref: str) -> bool:
    return bool(_DIGEST.search(ref))


# Images devenv runs outside the pods: the node, the registry, the stubs' build base.
HOST_IMAGES = frozenset({"kind-node", "registry", "python"})


def registry_copy_ref(registry: str, ref: str) -> str:
    """Where a copy of ``ref`` goes in ``registry``: its repository path without its
    own host, and its tag; a digest pin becomes part of the tag (a registry gives a
    pushed image its own digest): docker.io/library/redis:7@sha256:ab12.. ->
    REGISTRY/library/redis:7-ab12..(12 hex); finops-ci/redis:7 -> REGISTRY/finops-ci/redis:7."""
    name, _, pinned = ref.partition("@")
    first, _, rest = name.partition("/")
    if rest and ("." in first or ":" in first or first == "localhost"):
        name = rest  # without its registry host; a name without one (redis:7) stays
    repository, _, tag = name.rpartition(":") if ":" in name.rsplit("/", 1)[-1] else (name, "", "")
    if pinned:
        short = pinned.removeprefix("sha256:")[:12]
        tag = f"{tag}-{short}" if tag else f"pinned-{short}"
    return f"{registry}/{repository}:{tag or 'latest'}"


@cache
def catalog() -> Mapping[str, CatalogImage]:
    """The shipped image catalog, by logical name."""
    text = resources.files("devenv").joinpath("data/images.yaml").read_text(encoding="utf-8")
    data = parse_mapping(text, source="devenv/data/images.yaml")
    return {
        name: CatalogImage(
            name=name,
            ref=entry["ref"],
            source=entry["source"],
            purpose=entry["purpose"],
            build_context=entry.get("build"),
            target=entry.get("target"),
        )
        for name, entry in data["images"].items()
    }


def _check_ref(ref: object, *, where: str) -> str:
    if not isinstance(ref, str) or not _REFERENCE.match(ref):
        raise ImageOverrideError(
            f"{where}: {ref!r} is not an image reference",
            hint="write it as registry/name:tag or registry/name@sha256:<64 hex digits>",
        )
    return ref


def _known(name: str, *, where: str) -> None:
    if name not in catalog():
        raise ImageOverrideError(
            f"{where}: unknown image {name!r}",
            hint=f"known images: {', '.join(sorted(catalog()))}",
        )


def _file_overrides(path: Path) -> dict[str, str]:
    data = load_mapping(path)
    unknown_keys = sorted(set(data) - {"images"})
    if unknown_keys:
        raise ImageOverrideError(
            f"{path}: {unknown_keys[0]}: unknown key", hint="the file holds one key, `images:`"
        )
    images = data.get("images")
    if not isinstance(images, dict):
        raise ImageOverrideError(
            f"{path}: images: expected a mapping of image name to reference",
            hint="e.g. images: {redis: mirror.example/redis:7.4.1@sha256:...}",
        )
    overrides = {}
    for name, ref in images.items():
        _known(str(name), where=f"{path}: images.{name}")
        overrides[str(name)] = _check_ref(ref, where=f"{path}: images.{name}")
    return overrides


def resolve_images(
    overrides_file: Path | None = None, environ: Mapping[str, str] | None = None
) -> ImageSet:
    """Catalog pins, then the override file, then DEVENV_IMAGE_* variables."""
    environ = {} if environ is None else environ
    refs = {name: image.ref for name, image in catalog().items()}
    origin: dict[str, str] = {}
    file_path = overrides_file or (
        Path(environ[IMAGES_FILE_ENV]) if environ.get(IMAGES_FILE_ENV) else None
    )
    if file_path is not None:
        for name, ref in _file_overrides(file_path).items():
            refs[name] = ref
            origin[name] = str(file_path)
    by_variable = {env_var_for(name): name for name in catalog()}
    for variable, value in sorted(environ.items()):
        if not variable.startswith(ENV_PREFIX):
            continue
        if variable not in by_variable:
            raise ImageOverrideError(
                f"{variable}: names no known image",
                hint=f"known: {', '.join(sorted(by_variable))}",
            )
        name = by_variable[variable]
        refs[name] = _check_ref(value, where=variable)
        origin[name] = variable
    return ImageSet(refs=refs, overridden=origin)
