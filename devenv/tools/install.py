"""kind and kubectl for a machine that has neither: the pinned release for this
host, checked against its published SHA-256, installed into devenv's own data
directory (``installed_bin_dir``; never a system path, never sudo).

The pins and their sources live in ``devenv/data/tools.yaml``. A download is
written beside its target under a temporary name, hashed as it arrives and
moved into place only when the hash matches: an unreachable URL, a mismatch or
an interrupt leaves nothing behind.
"""

from __future__ import annotations

import hashlib
import json
import os
import platform
import re
import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import httpx

from devenv.errors import ConfigError, ToolError, ToolMissing
from devenv.tools.process import find_program, installed_bin_dir, own_environment_dirs, run
from devenv.yamlio import load_mapping, parse_mapping

__all__ = [
    "INSTALLABLE",
    "ToolPin",
    "ToolReport",
    "download",
    "download_verified",
    "ensure_tool",
    "host_platform",
    "install_tool",
    "tool_pins",
    "tool_report",
]

INSTALLABLE = ("kind", "kubectl")
TOOLS_FILE_ENV = "DEVENV_TOOLS_FILE"
MIRROR_ENV = "DEVENV_TOOL_MIRROR"
_VERSION = re.compile(r"v?(\d+)\.(\d+)(?:\.(\d+))?")
_SHA256 = re.compile(r"[0-9a-f]{64}")


def _version(text: str) -> tuple[int, int, int] | None:
    match = _VERSION.search(text)
    return (int(match[1]), int(match[2]), int(match[3] or 0)) if match else None


@dataclass(frozen=True)
class ToolPin:
    name: str
    version: str
    minimum: str
    url: str  # with {os} and {arch}
    version_args: tuple[str, ...]
    sha256: Mapping[str, str]  # "linux-amd64" -> hex digest
    source: str

    def url_for(self, host: str, mirror: str | None = None) -> str:
        os_name, arch = host.split("-", 1)
        url = self.url.format(os=os_name, arch=arch)
        if mirror:
            parts = urlsplit(url)
            url = mirror.rstrip("/") + parts.path
        return url

    def manual_command(self, host: str) -> str:
        if host not in self.sha256:
            return (
                f"install {self.name} >= {self.minimum} yourself ({self.source.split(' as ')[0]})"
            )
        url = self.url_for(host)
        check = "shasum -a 256 -c -" if host.startswith("darwin") else "sha256sum -c -"
        return (
            f"curl -fsSLo {self.name} {url} && echo '{self.sha256[host]}  {self.name}' | {check}"
            f" && chmod +x {self.name} && mv {self.name} ~/.local/bin/"
        )


def _pin(name: str, raw: Any, where: str) -> ToolPin:
    if not isinstance(raw, dict):
        raise ConfigError(f"{where}: tools.{name}: expected a mapping")
    missing = [k for k in ("version", "minimum", "url", "sha256", "source") if k not in raw]
    if missing:
        raise ConfigError(f"{where}: tools.{name}: missing {', '.join(missing)}")
    digests = raw["sha256"]
    if not isinstance(digests, dict):
        raise ConfigError(f"{where}: tools.{name}.sha256: expected os-arch: digest pairs")
    for host, digest in digests.items():
        if not _SHA256.fullmatch(str(digest)):
            raise ConfigError(f"{where}: tools.{name}.sha256.{host}: not a SHA-256 hex digest")
    return ToolPin(
        name=name,
        version=str(raw["version"]),
        minimum=str(raw["minimum"]),
        url=str(raw["url"]),
        version_args=tuple(raw.get("version_args") or ("version",)),
        sha256={str(k): str(v) for k, v in digests.items()},
        source=str(raw["source"]),
    )


def tool_pins(environ: Mapping[str, str] | None = None) -> dict[str, ToolPin]:
    """The pins: devenv's own, or those of DEVENV_TOOLS_FILE."""
    env = os.environ if environ is None else environ
    if env.get(TOOLS_FILE_ENV):
        where = env[TOOLS_FILE_ENV]
        data = load_mapping(Path(where))
    else:
        where = "devenv/data/tools.yaml"
        text = resources.files("devenv").joinpath("data/tools.yaml").read_text(encoding="utf-8")
        data = parse_mapping(text, source=where)
    tools = data.get("tools")
    if not isinstance(tools, dict):
        raise ConfigError(f"{where}: expected a `tools:` mapping")
    return {name: _pin(name, raw, where) for name, raw in tools.items()}


def host_platform() -> str:
    """This machine as release files name it: linux-amd64, darwin-arm64, ..."""
    machine = {"x86_64": "amd64", "aarch64": "arm64"}.get(platform.machine().lower())
    return f"{platform.system().lower()}-{machine or platform.machine().lower()}"


def _installed_version(path: str, pin: ToolPin) -> tuple[int, int, int] | None:
    key = _binary_key(path)
    cached = _read_version_cache().get(key) if key else None
    if isinstance(cached, list) and len(cached) == 3:
        return (int(cached[0]), int(cached[1]), int(cached[2]))
    try:
        result = run([path, *pin.version_args], check=False, timeout=20)
    except (OSError, ToolError):  # e.g. a binary for another CPU: Exec format error
        return None
    found = _version(result.stdout + result.stderr) if result.returncode == 0 else None
    if found is not None and key:
        _write_version_cache(key, found)
    return found


# `kubectl version --client` takes 0.1-0.2 s, and every `devenv up` asks: a version
# is remembered for the exact file (path, size, modification time), so a replaced
# binary is asked again.
def _version_cache_path() -> Path:
    base = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache")
    return base / "finops-devenv" / "tool-versions.json"


def _binary_key(path: str) -> str | None:
    try:
        real = Path(path).resolve()
        stat = real.stat()
    except OSError:
        return None
    return f"{real}:{stat.st_size}:{stat.st_mtime_ns}"


def _read_version_cache() -> dict[str, Any]:
    try:
        data = json.loads(_version_cache_path().read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}  # none yet, or unreadable: ask the programs
    return data if isinstance(data, dict) else {}


_VERSION_CACHE_LOCK = threading.Lock()  # preflight checks the tools side by side


def _write_version_cache(key: str, version: tuple[int, int, int]) -> None:
    path = _version_cache_path()
    with _VERSION_CACHE_LOCK:
        _replace_version_cache(path, {**_read_version_cache(), key: list(version)})


def _replace_version_cache(path: Path, entries: dict[str, Any]) -> None:
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        partial = path.with_name(f"{path.name}.{os.getpid()}.tmp")
        partial.write_text(json.dumps(entries, sort_keys=True), encoding="utf-8")
        partial.replace(path)  # atomic: a concurrent reader sees the old or the new
    except OSError:
        pass  # a cache only: the next run asks the program again


@dataclass(frozen=True)
class ToolReport:
    """Which program devenv will run for a tool, and where it came from."""

    name: str
    path: str | None
    version: str | None
    origin: str  # "devenv's environment", "installed by devenv up", "PATH", "missing"
    usable: bool  # present and at least the minimum


def tool_report(pin: ToolPin) -> ToolReport:
    path = find_program(pin.name)
    if path is None:
        return ToolReport(pin.name, None, None, "missing", usable=False)
    if Path(path).parent == installed_bin_dir():
        origin = "installed by devenv up"
    elif any(Path(path).parent == Path(d) for d in own_environment_dirs()):
        origin = "devenv's environment"
    else:
        origin = "PATH"
    found = _installed_version(path, pin)
    minimum = _version(pin.minimum)
    usable = found is not None and minimum is not None and found >= minimum
    shown = ".".join(map(str, found)) if found else None
    return ToolReport(pin.name, path, shown, origin, usable)


def install_tool(
    pin: ToolPin,
    *,
    host: str | None = None,
    mirror: str | None = None,
    report: Callable[[str], None] = lambda _: None,
) -> Path:
    """Download, verify and install ``pin`` for ``host``; its installed path."""
    host = host or host_platform()
    if host not in pin.sha256:
        raise ToolMissing(
            f"{pin.name} {pin.version} has no published checksum for {host} in devenv's pins",
            hint=pin.manual_command(host),
        )
    url = pin.url_for(host, mirror)
    target = installed_bin_dir() / pin.name
    report(f"downloading {pin.name} {pin.version} from {url}")

    def verify(partial: Path, digest: str) -> None:
        if digest != pin.sha256[host]:
            raise ToolError(
                f"{url}: checksum mismatch (expected {pin.sha256[host]}, got {digest})",
                hint="nothing was installed; retry, or install it yourself: "
                + pin.manual_command(host),
            )
        partial.chmod(0o755)

    return download_verified(url, target, verify)


def download_verified(
    url: str,
    target: Path,
    verify: Callable[[Path, str], None],
    *,
    hint: str = "check the network, or set DEVENV_TOOL_MIRROR, or install it yourself",
) -> Path:
    """``url`` written beside ``target`` under a temporary name, checked by
    ``verify(partial, sha256)`` (which raises to refuse it), then moved into place:
    a failure or an interrupt leaves nothing behind."""
    target.parent.mkdir(parents=True, exist_ok=True)
    partial = target.with_name(f".{target.name}.{os.getpid()}.part")
    try:
        verify(partial, download(url, partial, hint=hint))
        partial.replace(target)
    finally:
        partial.unlink(missing_ok=True)
    return target


def download(
    url: str,
    destination: Path,
    *,
    hint: str = "check the network, or set DEVENV_TOOL_MIRROR, or install it yourself",
) -> str:
    """Write ``url`` to ``destination``; its SHA-256, hashed as it arrives."""
    hashed = hashlib.sha256()
    try:
        with (
            httpx.stream("GET", url, follow_redirects=True, timeout=60) as response,
            destination.open("wb") as out,
        ):
            if response.status_code != 200:
                raise ToolError(f"{url}: download failed (HTTP {response.status_code})", hint=hint)
            for chunk in response.iter_bytes():
                hashed.update(chunk)
                out.write(chunk)
    except httpx.HTTPError as error:
        raise ToolError(
            f"{url}: download failed ({type(error).__name__}: {error})", hint=hint
        ) from None
    return hashed.hexdigest()


def ensure_tool(
    name: str,
    *,
    allow_install: bool,
    environ: Mapping[str, str] | None = None,
    report: Callable[[str], None] = lambda _: None,
) -> str:
    """A usable ``name``: the one found if it is recent enough, else the pinned
    release installed now (unless ``allow_install`` is off: then the manual command)."""
    env = os.environ if environ is None else environ
    pin = tool_pins(env)[name]
    current = tool_report(pin)
    if current.usable and current.path is not None:
        return current.path
    problem = (
        f"{name} is not installed"
        if current.path is None
        else f"{name} at {current.path} is {current.version or 'of unknown version'},"
        f" older than {pin.minimum}"
    )
    if not allow_install:
        raise ToolMissing(problem, hint=pin.manual_command(host_platform()))
    report(f"{problem}: installing {name} {pin.version}")
    path = install_tool(pin, mirror=env.get(MIRROR_ENV), report=report)
    # The file just installed, not whatever the lookup finds first.
    installed, minimum = _installed_version(str(path), pin), _version(pin.minimum)
    if installed is None or minimum is None or installed < minimum:
        path.unlink(missing_ok=True)
        raise ToolError(f"{path}: the downloaded {name} does not run on this machine")
    return str(path)
