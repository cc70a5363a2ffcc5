"""The Typer app and the one error boundary every command runs inside."""

from __future__ import annotations

from typing import Any, NoReturn

import typer
from typer.core import TyperGroup

from devenv.cli._console import report_error
from devenv.errors import DevenvError

__all__ = ["app"]


class _ErrorBoundary(TyperGroup):
    """Turns DevenvError into one red line, a hint and exit 1; Ctrl-C into exit 130.

    It sits in the command group so that typer's CliRunner sees the same behaviour
    as the installed console script. Anything else is a bug and keeps its traceback.
    """

    def invoke(self, ctx: typer.Context) -> Any:  # type: ignore[override]
        try:
            return super().invoke(ctx)
        except DevenvError as error:
            report_error(error)
            _exit(1)
        except KeyboardInterrupt:
            report_error(DevenvError("interrupted", hint="re-run the command: it resumes safely"))
            _exit(130)


def _exit(code: int) -> NoReturn:
    raise SystemExit(code)


app = typer.Typer(
    rich_markup_mode=None,
    cls=_ErrorBoundary,
    name="devenv",
    help="The FinOps platform on a laptop: kind, OpenBao, TimescaleDB, Redis and stub services.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    context_settings={"help_option_names": ["-h", "--help"]},
)
