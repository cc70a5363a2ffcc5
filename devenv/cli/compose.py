"""`devenv compose`: the environment under docker compose, without Kubernetes."""

from __future__ import annotations

import os
from typing import TYPE_CHECKING, Annotated

import typer

from devenv.cli._console import err_console
from devenv.cli._options import ImagesOption, TopologyOption, images, load

compose_app = typer.Typer(
    rich_markup_mode=None,
    help="The data layer and the stubs (with their OpenBao agents) under docker compose.",
    no_args_is_help=True,
)


def register(app: typer.Typer) -> None:
    app.add_typer(compose_app, name="compose")


if TYPE_CHECKING:
    from devenv.apply.compose import ComposeEnvironment


def _environment(topology: TopologyOption, images_file: ImagesOption) -> ComposeEnvironment:
    from devenv.apply.compose import ComposeEnvironment
    from devenv.secrets.connection import dev_credentials

    loaded = load(topology, "dev")
    return ComposeEnvironment(
        loaded,
        images(images_file),
        dev_credentials(loaded),
        project=os.environ.get("DEVENV_COMPOSE_PROJECT") or "finops-devenv",
        openbao_port=int(os.environ.get("DEVENV_OPENBAO_PORT") or 58200),
    )


@compose_app.command("up")
def up_command(
    *,
    topology: TopologyOption = None,
    images_file: ImagesOption = None,
    stubs: Annotated[bool, typer.Option("--stubs/--no-stubs", help="Start the stubs too.")] = True,
    only: Annotated[
        list[str] | None,
        typer.Option(
            "--only", help="Start only these stubs (repeat the option).", show_default=False
        ),
    ] = None,
) -> None:
    """Start TimescaleDB, Redis and OpenBao, bootstrap OpenBao, then the stubs."""
    from devenv.errors import ConfigError

    environment = _environment(topology, images_file)
    unknown = sorted(set(only or []) - set(environment.topology.components))
    if unknown:
        raise ConfigError(f"--only {unknown[0]}: no such component", hint="see `devenv policy`")
    environment.up(
        with_stubs=stubs, only=only or (), progress=lambda step: err_console.print(f"• {step}")
    )
    err_console.print("[green]ready[/]: `devenv compose down` stops it")


@compose_app.command("down")
def down_command(
    *,
    topology: TopologyOption = None,
    images_file: ImagesOption = None,
    volumes: Annotated[bool, typer.Option("--volumes", "-v", help="Drop the data too.")] = False,
) -> None:
    """Stop and remove what `devenv compose up` started."""
    environment = _environment(topology, images_file)
    environment.down(volumes=volumes)
    err_console.print("stopped")
