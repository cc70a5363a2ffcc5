"""Files of a pinned release from a Go module proxy: the zip is checked against
the checksum database's h1 hash before anything is kept. A local HTTP server
plays the proxy; the hash function is checked against the go command's."""

from __future__ import annotations

import http.server
import io
import zipfile
from collections.abc import Iterator
from pathlib import Path
from typing import ClassVar

import pytest

from devenv.errors import ToolError
from devenv.tools.go_module import (
    ModulePin,
    h1_hash,
    module_files,
    module_zip,
    proxy_url,
    release_pin,
)
from tests.local_http import serving

MODULE = "example.com/Some/Thing"
VERSION = "v1.2.3"


def _zip(files: dict[str, str]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for name, text in files.items():
            archive.writestr(f"{MODULE}@{VERSION}/{name}", text)
    return buffer.getvalue()


GOOD = _zip({"deploy/crds/a.yaml": "kind: A\n", "deploy/crds/b.yaml": "kind: B\n", "go.mod": ""})


class _Proxy(http.server.BaseHTTPRequestHandler):
    body = GOOD
    asked: ClassVar[list[str]] = []

    def do_GET(self) -> None:
        type(self).asked.append(self.path)
        self.send_response(200)
        self.send_header("Content-Length", str(len(self.body)))
        self.end_headers()
        self.wfile.write(self.body)

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture
def proxy(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Iterator[type[_Proxy]]:
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    _Proxy.asked = []
    _Proxy.body = GOOD
    with serving(_Proxy) as address:
        monkeypatch.setenv("GOPROXY", f"http://{address},direct")
        yield _Proxy


def _pin(h1: str) -> ModulePin:
    return ModulePin("thing", MODULE, VERSION, h1, "test", {"crds": "deploy/crds/*.yaml"})


def _h1_of(body: bytes, tmp_path: Path) -> str:
    path = tmp_path / "m.zip"
    path.write_bytes(body)
    return h1_hash(path)


def test_h1_is_the_checksum_databases_hash_of_a_real_release() -> None:
    """cert-manager's zip, from the real proxy, hashes to what sum.golang.org
    publishes for it (the pin): our dirhash is the go command's."""
    pin = release_pin("cert-manager")
    assert h1_hash(module_zip(pin)) == pin.h1 == "h1:UWgoYM+KLNtRlqmoWOKjKBOBUPVHeepQ6/ac3ERJW68="


def test_the_files_come_from_the_proxy_once_verified(proxy: type[_Proxy], tmp_path: Path) -> None:
    pin = _pin(_h1_of(GOOD, tmp_path))
    files = module_files(pin, "deploy/crds/*.yaml")
    assert files == {"deploy/crds/a.yaml": "kind: A\n", "deploy/crds/b.yaml": "kind: B\n"}
    # The proxy protocol's case encoding: upper case becomes '!' + lower case.
    assert proxy.asked == [f"/example.com/!some/!thing/@v/{VERSION}.zip"]
    module_files(pin, "deploy/crds/*.yaml")
    assert len(proxy.asked) == 1  # the second time from the cache


def test_a_zip_that_does_not_match_its_hash_is_refused_and_not_kept(
    proxy: type[_Proxy], tmp_path: Path
) -> None:
    pin = _pin(_h1_of(GOOD, tmp_path))
    proxy.body = _zip({"deploy/crds/a.yaml": "kind: Evil\n", "go.mod": ""})
    with pytest.raises(ToolError, match="checksum mismatch") as raised:
        module_files(pin, "deploy/crds/*.yaml")
    assert "GOPROXY" in (raised.value.hint or "")
    assert not list((tmp_path / "cache").rglob("*.zip"))
    assert not list((tmp_path / "cache").rglob("*.part"))
    proxy.body = b"not a zip at all"
    with pytest.raises(ToolError, match="not a zip file"):
        module_files(pin, "deploy/crds/*.yaml")


def test_an_unreachable_proxy_is_one_error_with_a_hint(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    monkeypatch.setenv("GOPROXY", "http://127.0.0.1:9")
    with pytest.raises(ToolError, match="download failed") as raised:
        module_files(_pin("h1:x"), "*")
    assert "GOPROXY" in (raised.value.hint or "")


def test_goproxy_is_read_as_the_go_command_reads_it() -> None:
    assert proxy_url({}) == "https://proxy.golang.org"
    assert proxy_url({"GOPROXY": "direct"}) == "https://proxy.golang.org"
    assert proxy_url({"GOPROXY": "off|https://a.example/,https://b.example"}) == "https://a.example"
