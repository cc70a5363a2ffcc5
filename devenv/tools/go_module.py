"""Files of a pinned release, taken from the Go module proxy at run time: how
devenv gets third-party manifests (cert-manager's CRDs) without copying them
into the repository.

A module's zip is checked against its ``h1:`` hash, the checksum the Go
checksum database publishes for that version (pinned in
``devenv/data/releases.yaml``, which says where it was read). The zip is kept
in devenv's cache (``XDG_CACHE_HOME``), written under a temporary name and
moved into place only once the hash matches: an unreachable proxy, a mismatch
or an interrupt leaves nothing behind.
``GOPROXY`` is honoured as the go command reads it (its first http(s) entry).
"""

from __future__ import annotations

import base64
import fnmatch
import hashlib
import os
import zipfile
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from functools import cache
from importlib import resources
from pathlib import Path
from typing import Any

from devenv.errors import ConfigError, ToolError
from devenv.tools.install import download_verified
from devenv.yamlio import parse_documents, parse_mapping

__all__ = [
    "ModulePin",
    "h1_hash",
    "module_files",
    "module_zip",
    "pinned_crds",
    "proxy_url",
    "release_pin",
]

PROXY_ENV = "GOPROXY"
DEFAULT_PROXY = "https://proxy.golang.org"


@dataclass(frozen=True)
class ModulePin:
    name: str
    module: str
    version: str
    h1: str
    source: str
    files: Mapping[str, str]  # what devenv reads from it: a name -> a pattern of its files

    @property
    def zip_prefix(self) -> str:
        """Every file in the module zip sits under ``module@version/``."""
        return f"{self.module}@{self.version}/"


@cache
def release_pin(name: str) -> ModulePin:
    """A pinned release from ``devenv/data/releases.yaml``."""
    where = "devenv/data/releases.yaml"
    data = parse_mapping(
        resources.files("devenv").joinpath("data/releases.yaml").read_text(), source=where
    )
    entry = data.get("releases", {}).get(name)
    if not isinstance(entry, dict):
        raise ConfigError(f"{where}: releases.{name}: missing", hint="reinstall devenv")
    return ModulePin(
        name, entry["module"], entry["version"], entry["h1"], entry["source"], entry["files"]
    )


def proxy_url(environ: Mapping[str, str] | None = None) -> str:
    """The module proxy the go command would ask first (``GOPROXY``'s first URL)."""
    env = os.environ if environ is None else environ
    for entry in env.get(PROXY_ENV, "").replace("|", ",").split(","):
        if entry.strip().startswith(("https://", "http://")):
            return entry.strip().rstrip("/")
    return DEFAULT_PROXY


def _escape(path: str) -> str:
    """The proxy protocol's case encoding: an upper-case letter becomes '!' + lower."""
    return "".join(f"!{c.lower()}" if c.isupper() else c for c in path)


def h1_hash(zip_path: Path) -> str:
    """The go command's ``h1:`` hash of a module zip (dirhash Hash1): SHA-256 over
    the sorted lines "<sha256 of file>  <file name>"."""
    lines = []
    with zipfile.ZipFile(zip_path) as archive:
        for name in sorted(archive.namelist()):
            lines.append(f"{hashlib.sha256(archive.read(name)).hexdigest()}  {name}\n")
    return "h1:" + base64.b64encode(hashlib.sha256("".join(lines).encode()).digest()).decode()


def _cache_dir() -> Path:
    base = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache")
    return base / "finops-devenv" / "go-modules"


def module_zip(
    pin: ModulePin,
    *,
    environ: Mapping[str, str] | None = None,
    report: Callable[[str], None] = lambda _: None,
) -> Path:
    """The pinned module's zip, from the cache or downloaded and verified now."""
    target = _cache_dir() / f"{_escape(pin.module).replace('/', '_')}@{pin.version}.zip"
    if target.is_file():
        return target
    url = f"{proxy_url(environ)}/{_escape(pin.module)}/@v/{pin.version}.zip"
    report(f"downloading {pin.name} {pin.version} from {url}")

    def verify(partial: Path, _sha256: str) -> None:
        try:
            found = h1_hash(partial)
        except zipfile.BadZipFile:
            found = "not a zip file"
        if found != pin.h1:
            raise ToolError(
                f"{url}: checksum mismatch (expected {pin.h1}, got {found})",
                hint=f"nothing was kept; check that {PROXY_ENV} names a trustworthy proxy",
            )

    hint = f"check the network, or set {PROXY_ENV} to a reachable Go module proxy"
    return download_verified(url, target, verify, hint=hint)


def module_files(
    pin: ModulePin,
    pattern: str,
    *,
    environ: Mapping[str, str] | None = None,
    report: Callable[[str], None] = lambda _: None,
) -> dict[str, str]:
    """The text of the module's files matching ``pattern`` (relative to the module
    root, e.g. ``deploy/crds/*.yaml``), by relative name, sorted."""
    path = module_zip(pin, environ=environ, report=report)
    found = {}
    with zipfile.ZipFile(path) as archive:
        for name in sorted(archive.namelist()):
            relative = name.removeprefix(pin.zip_prefix)
            if fnmatch.fnmatch(relative, pattern):
                found[relative] = archive.read(name).decode("utf-8")
    if not found:
        raise ToolError(
            f"{pin.module}@{pin.version} has no file matching {pattern}",
            hint=f"remove {path} and run again",
        )
    return found


def pinned_crds(
    name: str, *, report: Callable[[str], None] = lambda _: None
) -> list[dict[str, Any]]:
    """The CRDs a pinned release publishes (its ``crds`` files), as parsed documents;
    read once per process (`policy --manifests` asks for each file it checks)."""
    module_zip(release_pin(name), report=report)  # downloaded (and said so) if missing
    return list(_parsed_crds(name))


@cache
def _parsed_crds(name: str) -> tuple[dict[str, Any], ...]:
    pin = release_pin(name)
    files = module_files(pin, pin.files["crds"])
    return tuple(
        document
        for file, text in files.items()
        for document in parse_documents(text, source=f"{pin.module}@{pin.version}/{file}")
        if document.get("kind") == "CustomResourceDefinition"
    )
