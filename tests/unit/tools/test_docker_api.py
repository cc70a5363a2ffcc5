"""Which socket the Docker reads go over: the one the docker CLI would use, or
none (then the CLI itself). Real files and a real listening unix socket."""

from __future__ import annotations

import hashlib
import json
import socket
from collections.abc import Iterator
from pathlib import Path

import pytest

from devenv.tools.docker_api import DockerApi, engine_socket
from devenv.tools.process import DaemonDown


@pytest.fixture
def listening(tmp_path: Path) -> Iterator[Path]:
    """A unix socket something listens on (the path an engine would have)."""
    path = tmp_path / "docker.sock"
    server = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    server.bind(str(path))
    server.listen()
    try:
        yield path
    finally:
        server.close()


def _context(config: Path, name: str, host: str) -> None:
    meta = config / "contexts" / "meta" / hashlib.sha256(name.encode()).hexdigest()
    meta.mkdir(parents=True)
    endpoint = {"Name": name, "Endpoints": {"docker": {"Host": host}}}
    (meta / "meta.json").write_text(json.dumps(endpoint))


def test_docker_host_names_the_socket(listening: Path) -> None:
    assert engine_socket({"DOCKER_HOST": f"unix://{listening}"}) == listening


def test_a_remote_engine_is_left_to_the_cli(listening: Path) -> None:
    assert engine_socket({"DOCKER_HOST": "tcp://10.0.0.5:2376"}) is None
    assert engine_socket({"DOCKER_HOST": "ssh://me@build-box"}) is None


def test_a_missing_socket_is_left_to_the_cli(tmp_path: Path) -> None:
    assert engine_socket({"DOCKER_HOST": f"unix://{tmp_path / 'gone.sock'}"}) is None


def test_the_current_context_names_the_socket(tmp_path: Path, listening: Path) -> None:
    config = tmp_path / "docker-config"
    _context(config, "desktop-linux", f"unix://{listening}")
    (config / "config.json").write_text(json.dumps({"currentContext": "desktop-linux"}))
    assert engine_socket({"DOCKER_CONFIG": str(config)}) == listening


def test_docker_context_overrides_the_config(tmp_path: Path, listening: Path) -> None:
    config = tmp_path / "docker-config"
    _context(config, "remote", "ssh://me@build-box")
    (config / "config.json").write_text(json.dumps({"currentContext": "default"}))
    env = {"DOCKER_CONFIG": str(config), "DOCKER_CONTEXT": "remote"}
    assert engine_socket(env) is None


def test_an_unreadable_context_is_left_to_the_cli(tmp_path: Path) -> None:
    config = tmp_path / "docker-config"
    config.mkdir()
    (config / "config.json").write_text(json.dumps({"currentContext": "vanished"}))
    assert engine_socket({"DOCKER_CONFIG": str(config)}) is None


def test_a_socket_nobody_serves_is_a_stopped_engine(tmp_path: Path) -> None:
    path = tmp_path / "stale.sock"
    stale = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    stale.bind(str(path))
    stale.close()  # the file stays; nothing listens (an engine that died)
    with pytest.raises(DaemonDown, match="does not answer"):
        DockerApi(path).ping()
