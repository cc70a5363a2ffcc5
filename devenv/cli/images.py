"""`devenv images`: what runs, pinned where, overridden how."""

from __future__ import annotations

import json
from pathlib import Path
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
    _register_pin(images_app)

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


def _register_pin(images_app: typer.Typer) -> None:
    @images_app.command("pin")
    def pin_command(
        *,
        write: Annotated[
            bool, typer.Option("--write", help="Update the catalog (comments kept).")
        ] = False,
        catalog_file: Annotated[
            Path | None,
            typer.Option(
                "--catalog", help="The catalog to pin (default: devenv's own).", show_default=False
            ),
        ] = None,
    ) -> None:
        """Re-resolve each catalog tag to the digest its registry serves now."""
        from devenv.apply.pin import default_catalog_path, pin_catalog
        from devenv.cli._console import err_console
        from devenv.errors import CheckFailed

        path = catalog_file or default_catalog_path()
        pins = pin_catalog(path, write=write)
        for pin in pins:
            if pin.new is None:
                out_console.print(f"[red]?[/] {pin.name}: {pin.problem}")
            elif pin.changed:
                kind = "index" if pin.index else "single-platform manifest"
                out_console.print(f"[yellow]~[/] {pin.name}: {pin.old}\n    -> {pin.new} ({kind})")
            else:
                out_console.print(f"[green]=[/] {pin.name}: unchanged")
        changed = sum(p.changed for p in pins)
        if write and changed:
            err_console.print(f"wrote {changed} new digest(s) to {path}")
        elif changed:
            err_console.print(
                f"{changed} digest(s) differ: `devenv images pin --write` updates {path}"
            )
        failed = [p for p in pins if p.new is None]
        if failed:
            raise CheckFailed(
                f"{len(failed)} image(s) could not be resolved",
                [f"{p.name}: {p.problem}" for p in failed],
                hint="a registry must be reachable from this machine",
            )
