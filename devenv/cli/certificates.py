"""`devenv ca`: the dev CA's certificate, for clients on the host."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from devenv.cli._console import err_console, write_data
from devenv.cli._options import ContextOption, TopologyOption, kube_context, load


def register(app: typer.Typer) -> None:
    app.command("ca")(ca_command)


def ca_command(
    *,
    output: Annotated[
        Path | None,
        typer.Option(
            "--output",
            "-o",
            help="Where to write it ('-': stdout; default: devenv's state directory).",
            show_default=False,
        ),
    ] = None,
    topology: TopologyOption = None,
    context: ContextOption = None,
) -> None:
    """Write the dev CA's certificate (what the gateway's HTTPS is issued from) to a file."""
    from devenv.errors import ConfigError
    from devenv.render.kind_config import GATEWAY_HOST_PORT
    from devenv.secrets.cluster_ca import cluster_ca_pem, default_ca_file

    loaded = load(topology, "dev")
    pem = cluster_ca_pem(loaded, kube_context(loaded, context))
    if output == Path("-"):
        write_data(pem)
        return
    path = output or default_ca_file(loaded)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(pem, encoding="utf-8")  # a certificate: public, no key
    except OSError as error:
        raise ConfigError(
            f"{path}: cannot write the CA certificate: {error.strerror or error}",
            hint="choose another path with --output",
        ) from None
    write_data(f"{path}\n")
    err_console.print(
        f"trust it: curl --cacert {path} https://localhost:{GATEWAY_HOST_PORT}/health"
    )
