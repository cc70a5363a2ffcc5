"""`devenv test-integration`: prove, on the live environment, that health
checks, network policies and secret injection really work."""

from __future__ import annotations

import contextlib
import io
import os
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Annotated, Any, TextIO

import typer
from rich.markup import escape

from devenv.cli._console import err_console, out_console
from devenv.cli._options import ContextOption, ProfileOption, TopologyOption, kube_context, load

SUITE = Path(__file__).parents[1] / "verify" / "suite"


class _RedactedStream(io.TextIOBase):
    """stdout with every secret value replaced, for pytest's own reporting."""

    def __init__(self, target: TextIO, redact: Callable[[str], str]) -> None:
        self.target = target
        self.redact = redact

    def write(self, text: str) -> int:
        self.target.write(self.redact(text))
        return len(text)

    def flush(self) -> None:
        self.target.flush()

    def isatty(self) -> bool:
        return self.target.isatty()

    @classmethod
    @contextlib.contextmanager
    def replacing_stdout(cls, redact: Callable[[str], str]) -> Iterator[None]:
        original = sys.stdout
        sys.stdout = cls(original, redact)
        try:
            yield
        finally:
            sys.stdout = original


class _Progress:
    """A pytest plugin: one live line per test, then a five-second summary."""

    def __init__(self, redact: Callable[[str], str]) -> None:
        self.redact = redact
        self.results: list[tuple[str, str, float, str]] = []
        self.started = time.monotonic()

    def pytest_runtest_logstart(self, nodeid: str, location: Any) -> None:
        err_console.print(f"[dim]… {escape(nodeid.rsplit('::', maxsplit=1)[-1])}[/]")

    def pytest_runtest_logreport(self, report: Any) -> None:
        if report.when == "call" or (report.when == "setup" and report.outcome != "passed"):
            name = report.nodeid.split("::")[-1]
            detail = "" if report.passed else self.redact(_failure_lines(report.longreprtext))
            self.results.append((name, report.outcome, report.duration, detail))
            mark = {"passed": "[green]✓[/]", "failed": "[red]✗[/]"}.get(report.outcome, "·")
            # Test output is text, not markup: "[/v1/secret]" must print as it is.
            err_console.print(f"{mark} {escape(name)} ({report.duration:.1f}s) {escape(detail)}")


def _failure_lines(text: str, most: int = 6) -> str:
    """The assertion's own message (pytest's `E` lines), not the traceback."""
    lines = [line[1:].strip() for line in text.splitlines() if line.startswith("E ")]
    lines = [line for line in lines if line and not line.startswith(("assert ", "+", "where"))]
    if not lines:
        return text.strip().splitlines()[-1][:300] if text.strip() else ""
    extra = f" (+{len(lines) - most} more)" if len(lines) > most else ""
    return "; ".join(lines[:most]) + extra


def register(app: typer.Typer) -> None:
    app.command("test-integration")(integration_command)


def integration_command(
    *,
    topology: TopologyOption = None,
    profile: ProfileOption = "dev",
    context: ContextOption = None,
    select: Annotated[
        str | None,
        typer.Option("-k", help="Only tests matching this pytest expression.", show_default=False),
    ] = None,
    junit: Annotated[
        Path | None,
        typer.Option("--junit", help="Write a JUnit XML report here.", show_default=False),
    ] = None,
) -> None:
    """Health, network policies probed live, secret injection, one request end to end."""
    import pytest

    from devenv.errors import CheckFailed
    from devenv.secrets.redaction import redactor
    from devenv.verify.environment import require_environment

    loaded = load(topology, profile)
    target = kube_context(loaded, context)
    require_environment(loaded, target)
    os.environ["DEVENV_IT_CONTEXT"] = target
    os.environ["DEVENV_IT_PROFILE"] = profile
    if topology is not None:
        os.environ["DEVENV_IT_TOPOLOGY"] = str(topology.resolve())
    args = [
        str(SUITE),
        "-q",
        "-p",
        "no:cacheprovider",
        "-c",
        os.devnull,
        "--rootdir",
        str(SUITE),
        "-s",
    ]
    if select:
        args += ["-k", select]
    if junit:
        # legacy: keeps the measured times (record_property) in the report.
        args += [f"--junit-xml={junit}", "-o", "junit_family=legacy"]
    # The suite reads logs and secret files: whatever it prints, and the report,
    # go out with every secret value redacted.
    redact = redactor()
    progress = _Progress(redact)
    with _RedactedStream.replacing_stdout(redact):
        code = pytest.main(args, plugins=[progress])
    if junit and junit.exists():  # anew: the suite may have rotated values
        junit.write_text(redactor()(junit.read_text(encoding="utf-8")), encoding="utf-8")
    elapsed = time.monotonic() - progress.started
    passed = sum(1 for _, outcome, _, _ in progress.results if outcome == "passed")
    failed = [
        (name, detail) for name, outcome, _, detail in progress.results if outcome == "failed"
    ]
    out_console.print(
        f"[bold]test-integration[/]: {passed} passed, {len(failed)} failed in {elapsed:.0f}s"
    )
    if code != 0:
        raise CheckFailed(
            f"{len(failed) or 'some'} integration test(s) failed",
            [f"{name}: {detail}" for name, detail in failed],
            hint="re-run one with -k NAME; `devenv status` and `devenv logs COMPONENT` help",
        )
