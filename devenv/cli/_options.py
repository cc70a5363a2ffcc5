"""Options shared by several commands, and loading what they name."""

from __future__ import annotations

import os
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

if TYPE_CHECKING:
    from devenv.topology.images import ImageSet
    from devenv.topology.model import Topology

TopologyOption = Annotated[
    Path | None,
    typer.Option(
        "--topology",
        "-t",
        envvar="DEVENV_TOPOLOGY",
        help="Topology file (default: the one shipped with devenv).",
        show_default=False,
    ),
]
ProfileOption = Annotated[
    str, typer.Option("--profile", "-p", envvar="DEVENV_PROFILE", help="Resource profile.")
]
ContextOption = Annotated[
    str | None,
    typer.Option(
        "--context",
        envvar="DEVENV_CONTEXT",
        help="Kube context of the environment (default: the one `devenv up` last deployed to,"
        " else its kind cluster); `up` deploys into that existing cluster instead of kind.",
        show_default=False,
    ),
]
ImagesOption = Annotated[
    Path | None,
    typer.Option(
        "--images",
        envvar="DEVENV_IMAGES_FILE",
        help="Image-override file (images: {name: reference}); DEVENV_IMAGE_<NAME> wins over it.",
        show_default=False,
    ),
]


def load(topology: Path | None, profile: str) -> Topology:
    """The topology, with the profile checked so a typo fails before any work."""
    from devenv.topology.loader import load_topology

    loaded = load_topology(topology)
    loaded.profile(profile)
    return loaded


def images(overrides: Path | None) -> ImageSet:
    from devenv.topology.images import resolve_images

    return resolve_images(overrides, os.environ)


def kube_context(topology: Topology, given: str | None) -> str:
    """The one rule for the kube context (see ``devenv.state.environment_context``)."""
    from devenv.state import environment_context

    return environment_context(topology.cluster.name, given)
