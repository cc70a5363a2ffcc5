"""Options shared by several commands, and loading what they name."""

from __future__ import annotations

import os
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

if TYPE_CHECKING:
    from devenv._images import ImageSet
    from devenv._topology import Topology

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
    from devenv._loader import load_topology

    loaded = load_topology(topology)
    loaded.profile(profile)
    return loaded


def images(overrides: Path | None) -> ImageSet:
    from devenv._images import resolve_images

    return resolve_images(overrides, os.environ)
