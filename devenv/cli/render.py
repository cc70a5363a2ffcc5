"""`devenv render`: the environment's manifests, and `--check` for what must hold."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from devenv.cli._console import err_console, write_data
from devenv.cli._options import ImagesOption, ProfileOption, TopologyOption, images, load


def register(app: typer.Typer) -> None:
    @app.command("render")
    def render_command(
        *,
        topology: TopologyOption = None,
        profile: ProfileOption = "dev",
        images_file: ImagesOption = None,
        out: Annotated[
            Path | None,
            typer.Option("--out", "-o", help="Write one file per namespace into this directory."),
        ] = None,
        check: Annotated[
            bool,
            typer.Option(
                "--check",
                help="Validate against the Kubernetes schemas and check the invariants.",
            ),
        ] = False,
        only: Annotated[
            str | None,
            typer.Option(
                "--only",
                help="Only the stubs' objects (what the Tiltfile applies) or only the platform's.",
                show_default=False,
            ),
        ] = None,
    ) -> None:
        """Render every Kubernetes object of the environment (stdout by default)."""
        from devenv.check.invariants import lint_manifests
        from devenv.check.kubernetes_schema import schema_problems
        from devenv.errors import CheckFailed, ConfigError
        from devenv.render import PARTS, RenderedFiles, is_stub_object, render_files
        from devenv.yamlio import dump_documents

        loaded = load(topology, profile)
        if only not in (None, *PARTS):
            raise ConfigError(f"--only {only}: not one of {', '.join(PARTS)}")
        image_set = images(images_file)
        rendered = render_files(loaded, profile, image_set)
        if only is not None:
            wanted = only == "stubs"
            rendered = RenderedFiles({
                name: [m for m in objects if is_stub_object(loaded, m) == wanted]
                for name, objects in rendered.files.items()
            })  # fmt: skip
        manifests = rendered.all()
        if check:
            from devenv.render.cert_manager import is_issuance_object
            from devenv.tools.go_module import pinned_crds

            version = loaded.cluster.kubernetes_version
            # cert-manager's resources against its CRDs (the pinned release's, cached).
            crds = pinned_crds("cert-manager") if any(map(is_issuance_object, manifests)) else []
            findings = [f"schema: {p}" for p in schema_problems(manifests, version, crds)]
            findings += [f"invariant: {v}" for v in lint_manifests(manifests, image_set)]
            if findings:
                raise CheckFailed(f"{len(findings)} problem(s) in the rendered manifests", findings)
            err_console.print(
                f"[green]ok[/] {len(manifests)} objects valid against Kubernetes {version};"
                " probes, quotas, pinned images and file-only secrets hold"
            )
            return
        if out is None:
            write_data(dump_documents(manifests))
            return
        try:
            out.mkdir(parents=True, exist_ok=True)
            for name, objects in rendered.files.items():
                (out / name).write_text(dump_documents(objects), encoding="utf-8")
        except OSError as error:
            raise ConfigError(
                f"{out}: cannot write manifests: {error.strerror or error}",
                hint="--out takes a directory you can write to",
            ) from None
        err_console.print(f"wrote {len(manifests)} objects in {len(rendered.files)} files to {out}")


def register_topology(app: typer.Typer) -> None:
    @app.command("topology")
    def topology_command(
        *, topology: TopologyOption = None, profile: ProfileOption = "dev"
    ) -> None:
        """The components as JSON (name, namespace, zone, kind, ports, secrets, calls)."""
        import json

        loaded = load(topology, profile)
        rows = [
            {
                "name": c.name,
                "namespace": c.namespace,
                "zone": c.zone,
                "kind": c.kind,
                "image": c.image,
                "stub": c.is_stub,
                "ports": [p.model_dump(exclude_none=True) for p in c.ports],
                "probe_scheme": c.probe_scheme,
                "secrets": list(c.secrets),
                "calls": list(c.calls),
            }
            for c in loaded.components.values()
        ]
        document = {"cluster": loaded.cluster.name, "components": rows}
        write_data(json.dumps(document, indent=2) + "\n")
