"""`devenv secrets rotate` checks every input before it writes anything."""

from __future__ import annotations

from pathlib import Path

from typer.testing import CliRunner

from devenv.cli import app


def test_an_unknown_secret_is_refused_before_anything_is_written(tmp_path: Path) -> None:
    # The default path: no DEVENV_OPENBAO_ADDR, so a port-forward would come next.
    result = CliRunner().invoke(app, ["secrets", "rotate", "llm-api-keys", "no-such-secret"])
    assert result.exit_code == 1
    assert result.stderr.startswith("error: unknown secret 'no-such-secret'")
    assert not (tmp_path / "state").exists()  # no credentials file written


def test_without_an_environment_it_says_to_run_up(tmp_path: Path) -> None:
    result = CliRunner().invoke(app, ["secrets", "rotate", "llm-api-keys"])
    assert result.exit_code == 1
    assert "no environment has been set up" in result.stderr
    assert "devenv up" in result.stderr
    assert not (tmp_path / "state").exists()
