"""The dev credentials file: created once, completed when partial, stable after."""

from __future__ import annotations

import json
from pathlib import Path

from devenv.secrets.dev_values import load_or_create_credentials
from devenv.topology.model import Topology


def test_credentials_are_created_once_and_then_stable(topology: Topology, tmp_path: Path) -> None:
    path = tmp_path / "dev-secrets.json"
    first = load_or_create_credentials(path, topology)
    assert path.stat().st_mode & 0o777 == 0o600
    assert load_or_create_credentials(path, topology) == first


def test_a_partial_file_is_completed_and_saved(topology: Topology, tmp_path: Path) -> None:
    path = tmp_path / "dev-secrets.json"
    first = load_or_create_credentials(path, topology)
    stored = json.loads(path.read_text())
    del stored["redis_password"]  # every seed still there
    path.write_text(json.dumps(stored))
    completed = load_or_create_credentials(path, topology)
    assert completed.postgres_password == first.postgres_password  # kept
    assert completed.redis_password != first.redis_password  # new, and now saved:
    assert load_or_create_credentials(path, topology) == completed


def test_a_missing_seed_is_generated_and_saved(topology: Topology, tmp_path: Path) -> None:
    path = tmp_path / "dev-secrets.json"
    first = load_or_create_credentials(path, topology)
    stored = json.loads(path.read_text())
    del stored["seeds"]["llm-api-keys"]
    path.write_text(json.dumps(stored))
    completed = load_or_create_credentials(path, topology)
    assert completed.seeds["llm-api-keys"] != first.seeds["llm-api-keys"]
    assert load_or_create_credentials(path, topology) == completed
