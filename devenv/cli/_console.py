"""Where output goes: data to stdout, messages to stderr."""

from __future__ import annotations

import sys

from rich.console import Console
from rich.markup import escape

from devenv.errors import DevenvError

__all__ = ["err_console", "out_console", "report_error", "verdict", "write_data"]

out_console = Console(soft_wrap=True)
err_console = Console(stderr=True, soft_wrap=True)


def write_data(text: str) -> None:
    """Bytes for machines (YAML, JSON): no styling, no wrapping."""
    sys.stdout.write(text)
    sys.stdout.flush()


def report_error(error: DevenvError) -> None:
    """One red line, the details, the hint: with every secret value redacted, since
    details carry other programs' output (stderr tails, a failing pod's logs)."""
    from devenv.secrets.redaction import redactor

    redact = redactor()
    err_console.print(f"[bold red]error:[/] {escape(redact(error.message))}", highlight=False)
    for line in error.details():
        err_console.print(f"  {escape(redact(line))}", highlight=False)
    if error.hint:
        err_console.print(f"[dim]hint:[/] {escape(redact(error.hint))}", highlight=False)


def verdict(ok: bool) -> str:
    """The ok/FAIL cell of a check's row (doctor, secrets check)."""
    return "[green]ok[/]" if ok else "[red]FAIL[/]"
