"""Image references parsed, and a tag resolved through a local stand-in registry
that answers like Docker Hub (anonymous bearer token, index preferred)."""

from __future__ import annotations

import http.server
import json
from collections.abc import Iterator
from pathlib import Path

import pytest

from devenv.apply.pin import pin_catalog
from devenv.tools.registry_api import ImageName, parse_image, resolve_tag
from tests.local_http import serving

INDEX = "application/vnd.oci.image.index.v1+json"
INDEX_DIGEST = "sha256:" + "1" * 64


@pytest.mark.parametrize(
    ("ref", "expected"),
    [
        ("python:3.12-slim", ImageName("docker.io", "library/python", "3.12-slim")),
        ("docker.io/timescale/timescaledb:2.29.2-pg16@sha256:" + "a" * 64,
         ImageName("docker.io", "timescale/timescaledb", "2.29.2-pg16")),
        ("quay.io/openbao/openbao:2.7.1", ImageName("quay.io", "openbao/openbao", "2.7.1")),
        ("localhost:5001/finops/app:1", ImageName("localhost:5001", "finops/app", "1")),
    ],
)  # fmt: skip
def test_references_name_registry_repository_and_tag(ref: str, expected: ImageName) -> None:
    assert parse_image(ref) == expected


class _Registry(http.server.BaseHTTPRequestHandler):
    seen_accept: list[str] = []  # noqa: RUF012

    def do_GET(self) -> None:
        host = self.headers["Host"]
        if self.path.startswith("/token"):
            self._send(200, {"token": "anon"}, "application/json")
        elif self.headers.get("Authorization") != "Bearer anon":
            self.send_response(401)
            self.send_header(
                "WWW-Authenticate",
                f'Bearer realm="http://{host}/token",service="test",scope="repository:team/app:pull"',
            )
            self.end_headers()
        elif self.path == "/v2/team/app/manifests/1":
            self.seen_accept.append(self.headers["Accept"])
            self._send(200, {"manifests": []}, INDEX, digest=INDEX_DIGEST)
        else:
            self._send(404, {}, "application/json")

    def _send(self, code: int, body: object, media: str, digest: str | None = None) -> None:
        data = json.dumps(body).encode()
        self.send_response(code)
        self.send_header("Content-Type", media)
        if digest:
            self.send_header("Docker-Content-Digest", digest)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, *args: object) -> None:
        """Quiet."""


@pytest.fixture
def registry() -> Iterator[str]:
    with serving(_Registry) as address:
        yield address


def test_a_tag_resolves_to_its_index_after_an_anonymous_token(registry: str) -> None:
    resolved = resolve_tag(parse_image(f"{registry}/team/app:1"))
    assert (resolved.digest, resolved.is_index) == (INDEX_DIGEST, True)
    assert _Registry.seen_accept[-1].startswith(INDEX)  # the index asked for first


def test_pin_write_replaces_only_the_changed_digest(registry: str, tmp_path: Path) -> None:
    old = f"{registry}/team/app:1@sha256:" + "0" * 64
    catalog = tmp_path / "images.yaml"
    text = (
        "# pins, with their sources\nimages:\n"
        f"  app:\n    ref: {old}  # keep this comment\n    purpose: p\n    source: s\n"
        "  gone:\n    ref: " + f"{registry}/team/missing:9\n    purpose: p\n    source: s\n"
        "  stub:\n    ref: localhost:5001/x:dev\n    build: stubs\n    purpose: p\n    source: s\n"
    )
    catalog.write_text(text)
    pins = {p.name: p for p in pin_catalog(catalog, write=True)}
    assert pins["app"].new == f"{registry}/team/app:1@{INDEX_DIGEST}"
    assert pins["gone"].new is None
    assert "HTTP 404" in pins["gone"].problem
    assert "stub" not in pins  # built by devenv, not pinned
    assert catalog.read_text() == text.replace(old, pins["app"].new)


def test_pin_write_touches_only_whole_ref_values(registry: str, tmp_path: Path) -> None:
    # One reference is the prefix of another: only the exact value is replaced.
    short, long = f"{registry}/team/app:1", f"{registry}/team/app:1-slim@sha256:" + "2" * 64
    catalog = tmp_path / "images.yaml"
    text = (
        f"images:\n  a:\n    ref: {short}\n    purpose: p\n    source: s\n"
        f"  b:\n    ref: {long}\n    purpose: p\n    source: s\n"
    )
    catalog.write_text(text)
    pin_catalog(catalog, write=True)
    written = catalog.read_text()
    assert f"ref: {short}@{INDEX_DIGEST}\n" in written
    assert f"ref: {registry}/team/app:1-slim@sha256:" in written  # b's own ref, not a's
