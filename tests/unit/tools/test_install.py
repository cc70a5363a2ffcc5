"""The installer end to end against a local HTTP server standing in for the
release site: a good checksum installs a program that runs, a bad one and an
interrupted download leave nothing behind."""

from __future__ import annotations

import hashlib
import http.server
from collections.abc import Iterator
from pathlib import Path

import pytest
import yaml
from typer.testing import CliRunner

from devenv.cli import app
from devenv.errors import ToolError, ToolMissing
from devenv.tools.install import ensure_tool, host_platform, tool_pins, tool_report
from devenv.tools.process import installed_bin_dir, run
from tests.local_http import serving

FAKE_KIND = b"#!/bin/sh\necho 'kind v0.30.0 go1.24.6 linux/amd64'\n"


class _Site(http.server.BaseHTTPRequestHandler):
    files: dict[str, bytes] = {}  # noqa: RUF012 - set per test

    def do_GET(self) -> None:
        body = self.files.get(self.path)
        if body is None:
            self.send_error(404)
            return
        self.send_response(200)
        if self.path.endswith("/cut"):  # promises more than it sends, then hangs up
            self.send_header("Content-Length", str(len(body) * 10))
        else:
            self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args: object) -> None:
        """Quiet."""


@pytest.fixture
def site() -> Iterator[str]:
    with serving(_Site) as address:
        yield f"http://{address}"


@pytest.fixture
def no_kind_on_path(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    empty = tmp_path / "empty-path"
    empty.mkdir()
    monkeypatch.setenv("PATH", str(empty))


def _pins(tmp_path: Path, url: str, digest: str) -> dict[str, str]:
    pins = tmp_path / "tools.yaml"
    entry = {
        "version": "v0.30.0", "minimum": "v0.24.0", "url": url, "version_args": ["version"],
        "sha256": {host_platform(): digest}, "source": "a test",
    }  # fmt: skip
    pins.write_text(yaml.safe_dump({"tools": {"kind": entry}}))
    return {"DEVENV_TOOLS_FILE": str(pins)}


def _left_behind() -> list[str]:
    directory = installed_bin_dir()
    return sorted(p.name for p in directory.iterdir()) if directory.exists() else []


@pytest.mark.usefixtures("no_kind_on_path")
def test_a_good_checksum_installs_a_program_that_runs(site: str, tmp_path: Path) -> None:
    _Site.files = {"/dl/kind-linux": FAKE_KIND}
    environ = _pins(tmp_path, site + "/dl/kind-linux", hashlib.sha256(FAKE_KIND).hexdigest())
    reports: list[str] = []
    path = ensure_tool("kind", allow_install=True, environ=environ, report=reports.append)
    assert Path(path) == installed_bin_dir() / "kind"
    assert run([path, "version"]).stdout.startswith("kind v0.30.0")
    report = tool_report(tool_pins(environ)["kind"])
    assert (report.origin, report.version, report.usable) == (
        "installed by devenv up",
        "0.30.0",
        True,
    )
    assert reports[0] == "kind is not installed: installing kind v0.30.0"
    # Found from now on: a second call downloads nothing.
    _Site.files = {}
    assert ensure_tool("kind", allow_install=True, environ=environ) == path


@pytest.mark.usefixtures("no_kind_on_path")
def test_a_bad_checksum_is_refused_and_nothing_is_installed(site: str, tmp_path: Path) -> None:
    _Site.files = {"/dl/kind-linux": FAKE_KIND}
    environ = _pins(tmp_path, site + "/dl/kind-linux", "0" * 64)
    with pytest.raises(ToolError, match=r"/dl/kind-linux: checksum mismatch \(expected 0000"):
        ensure_tool("kind", allow_install=True, environ=environ)
    assert _left_behind() == []


@pytest.mark.usefixtures("no_kind_on_path")
@pytest.mark.parametrize("path", ["/dl/cut", "/dl/gone"])
def test_an_interrupted_or_failed_download_leaves_nothing(
    site: str, tmp_path: Path, path: str
) -> None:
    _Site.files = {"/dl/cut": FAKE_KIND}
    environ = _pins(tmp_path, site + path, hashlib.sha256(FAKE_KIND).hexdigest())
    with pytest.raises(ToolError, match=rf"{site}{path}: download failed"):
        ensure_tool("kind", allow_install=True, environ=environ)
    assert _left_behind() == []


@pytest.mark.usefixtures("no_kind_on_path")
def test_the_mirror_replaces_the_host(site: str, tmp_path: Path) -> None:
    _Site.files = {"/releases/kind-linux": FAKE_KIND}
    digest = hashlib.sha256(FAKE_KIND).hexdigest()
    environ = {
        **_pins(tmp_path, "https://github.example/releases/kind-linux", digest),
        "DEVENV_TOOL_MIRROR": site,
    }
    assert ensure_tool("kind", allow_install=True, environ=environ).endswith("/kind")


@pytest.mark.usefixtures("no_kind_on_path")
def test_without_install_the_error_gives_the_manual_command() -> None:
    with pytest.raises(ToolMissing, match="kind is not installed") as caught:
        ensure_tool("kind", allow_install=False, environ={})
    hint = caught.value.hint or ""
    if host_platform() in tool_pins({})["kind"].sha256:
        assert "releases/download/v0.30.0/kind-" in hint
        assert "sha256" in hint
    assert _left_behind() == []


@pytest.mark.usefixtures("no_kind_on_path")
def test_up_without_install_is_one_line_and_writes_nothing(tmp_path: Path) -> None:
    # A machine with Docker (a stand-in whose `docker info` answers) and neither kubectl nor kind.
    docker = tmp_path / "empty-path" / "docker"
    docker.write_text("#!/bin/sh\necho {}\n")  # `docker info` answers, engine up
    docker.chmod(0o755)
    result = CliRunner().invoke(app, ["up", "--no-install"])
    assert result.exit_code == 1
    assert result.stderr.startswith("error: kubectl is not installed")
    assert "Traceback" not in result.stderr
    assert not (tmp_path / "state").exists()
    assert _left_behind() == []


def test_every_shipped_pin_has_a_source_and_four_platforms() -> None:
    for pin in tool_pins({}).values():
        assert set(pin.sha256) == {"linux-amd64", "linux-arm64", "darwin-amd64", "darwin-arm64"}
        assert pin.version in pin.url
        assert pin.source


def test_an_old_program_found_first_does_not_undo_the_install(
    site: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Without a venv, devenv's own scripts directory is /usr/local/bin, where an old
    # kind often is: the check after the install asks the installed file itself.
    own = tmp_path / "own-bin"
    own.mkdir()
    (own / "kind").write_text("#!/bin/sh\necho 'kind v0.20.0 go1.20 linux/amd64'\n")
    (own / "kind").chmod(0o755)
    monkeypatch.setattr("devenv.tools.process.own_environment_dirs", lambda: [str(own)])
    monkeypatch.setenv("PATH", "")
    _Site.files = {"/dl/kind": FAKE_KIND}
    environ = _pins(tmp_path, site + "/dl/kind", hashlib.sha256(FAKE_KIND).hexdigest())
    path = ensure_tool("kind", allow_install=True, environ=environ)
    assert Path(path) == installed_bin_dir() / "kind"
    assert Path(path).exists()


def test_a_version_is_asked_once_per_file_and_again_when_the_file_changes(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    own = tmp_path / "own-bin"
    own.mkdir()
    asked = tmp_path / "asked"
    kind = own / "kind"

    def install(version: str) -> None:
        kind.write_text(
            f"#!/bin/sh\necho . >> {asked}\necho 'kind v{version} go1.24 linux/amd64'\n"
        )
        kind.chmod(0o755)

    monkeypatch.setattr("devenv.tools.process.own_environment_dirs", lambda: [str(own)])
    pin = tool_pins({})["kind"]
    install("0.30.0")
    assert tool_report(pin).version == tool_report(pin).version == "0.30.0"
    assert asked.read_text().count(".") == 1  # the second report read the cache
    install("0.20.0")  # replaced (another size): asked again
    assert tool_report(pin).version == "0.20.0"
    assert asked.read_text().count(".") == 2
