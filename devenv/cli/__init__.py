"""The `devenv` command line: parses, calls the library, prints. No logic lives here."""

from __future__ import annotations

from devenv.cli import (
    certificates,
    compose,
    images,
    integration,
    lifecycle,
    policy,
    render,
    secrets,
)
from devenv.cli._app import app

__all__ = ["app", "main"]

lifecycle.register(app)
render.register(app)
render.register_topology(app)
policy.register(app)
images.register(app)
secrets.register(app)
certificates.register(app)
compose.register(app)
integration.register(app)


def main() -> None:
    """Console-script entry point."""
    app()
