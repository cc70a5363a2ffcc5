"""devenv's own state files: private, whatever was there before."""

from __future__ import annotations

from pathlib import Path

from devenv.state import write_private_json


def test_state_files_and_their_directory_are_private(tmp_path: Path) -> None:
    directory = tmp_path / "state"
    directory.mkdir(mode=0o755)  # left open by something else
    write_private_json(directory / "dev-secrets.json", {"k": "v"})
    assert directory.stat().st_mode & 0o777 == 0o700
    assert (directory / "dev-secrets.json").stat().st_mode & 0o777 == 0o600
    assert sorted(p.name for p in directory.iterdir()) == ["dev-secrets.json"]  # no temp left
