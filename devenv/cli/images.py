"""`devenv images`: what runs, pinned where, overridden how."""

from __future__ import annotations

import json
from typing import Annotated

import typer
from rich.table import Table

from devenv.cli._console import out_console, write_data
from devenv.cli._options import ImagesOption, images


def register(app: typer.Typer) -> None:
    images_app = typer.Typer(
        rich_markup_mode=None, help="The pinned images and their overrides.", no_args_is_help=True
    )
    app.add_typer(images_app, name="images")
    _register_build(images_app)

    @images_app.command("list")
    def list_command(
        *,
        images_file: ImagesOption = None,
        as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
    ) -> None:
        """Every image with the reference in force and where it comes from."""
        from devenv.topology.images import catalog, env_var_for

        resolved = images(images_file)
        if as_json:
            rows = {
                name: {
                    "ref": resolved.ref(name),
                    "from": resolved.overridden.get(name, "catalog"),
                    "pinned_from": image.source,
                    "variable": env_var_for(name),
                }
                for name, image in catalog().items()
            }
            write_data(json.dumps(rows, indent=2) + "\n")
            return
        table = Table(title="Images")
        for header in ("name", "reference", "from", "override with"):
            table.add_column(header, overflow="fold")
        for name in catalog():
            origin = resolved.overridden.get(name, "catalog")
            table.add_row(name, resolved.ref(name), origin, env_var_for(name))
        out_console.print(table)


def _register_build(images_app: typer.Typer) -> None:
    @images_app.command("build")
    def build_command(
        *,
        images_file: ImagesOption = None,
        as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
    ) -> None:
        """Build the product's own images (the stubs) from the pinned base, reused by content."""
        from devenv.cli._console import err_console
        from devenv.tools.build import build_images, plan_builds

        plans = plan_builds(images(images_file))
        results = build_images(
            plans, on_start=lambda plan: err_console.print(f"building {plan.tag} ...")
        )
        if as_json:
            rows = {r.plan.name: {"ref": r.plan.tag, "built": r.built} for r in results}
            write_data(json.dumps(rows, indent=2) + "\n")
            return
        for result in results:
            verdict = "built" if result.built else "reused"
            out_console.print(f"{result.plan.name}: {result.plan.tag} ({verdict})")
