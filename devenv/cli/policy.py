"""`devenv policy`: who can reach whom, according to the NetworkPolicies."""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer
from rich.markup import escape
from rich.table import Table

from devenv.cli._console import err_console, out_console, write_data
from devenv.cli._options import (
    ContextOption,
    ImagesOption,
    ProfileOption,
    TopologyOption,
    images,
    kube_context,
    load,
)

if TYPE_CHECKING:
    from devenv.check.direction_audit import DirectionFinding
    from devenv.check.matrix import Cell, PolicyMatrix
    from devenv.topology.model import Topology

_ALLOWED = "[green]●[/]"
_EXCEPTION = "[yellow]◆[/]"
_BLOCKED = "[dim]·[/]"
_MISMATCH = "[bold red]✗[/]"


def _symbol(cell: Cell, exceptions: set[str]) -> str:
    if not cell.matches:
        return _MISMATCH
    if not cell.observed:
        return _BLOCKED
    if cell.expected_by and all(name in exceptions for name in cell.expected_by):
        return _EXCEPTION
    return _ALLOWED


def _grid(matrix: PolicyMatrix) -> tuple[Table, Table]:
    """Sources down, destination ports across (numbered, with a legend)."""
    exceptions = set(matrix.exceptions)
    present = {(c.destination, c.port) for c in matrix.cells}
    columns = [
        (e.name, p.label) for e in matrix.endpoints for p in e.ports if (e.name, p.label) in present
    ]
    with_cells = {c.source for c in matrix.cells}
    sources = [e.name for e in matrix.endpoints if e.name in with_cells]
    lookup = {(c.source, c.destination, c.port): c for c in matrix.cells}
    grid = Table(title="Connections (source ↓, destination →)", box=None, pad_edge=False)
    grid.add_column("source", no_wrap=True)
    for index in range(len(columns)):
        grid.add_column(str(index + 1), justify="center", no_wrap=True)
    zones = {e.name: e.zone or e.category for e in matrix.endpoints}
    for source in sources:
        row = [f"{source} [dim]({zones.get(source, '')})[/]"]
        for destination, port in columns:
            cell = lookup.get((source, destination, port))
            row.append(_symbol(cell, exceptions) if cell else " ")
        grid.add_row(*row)
    legend = Table(box=None, show_header=False, pad_edge=False)
    for _ in range(3):
        legend.add_column(no_wrap=True)
    entries = [
        f"[bold]{i + 1}[/] {d}:{p} [dim]({zones.get(d, '')})[/]" for i, (d, p) in enumerate(columns)
    ]
    for start in range(0, len(entries), 3):
        legend.add_row(*entries[start : start + 3], *[""] * (3 - len(entries[start : start + 3])))
    return grid, legend


def _print_detail(cells: list[Cell], exceptions: set[str]) -> None:
    """One line per cell: greppable, and readable in a narrow terminal."""
    for cell in cells:
        where = f"{cell.source} -> {cell.destination}:{cell.port}"
        if not cell.matches:
            out_console.print(f"{_MISMATCH} {cell.describe()}")
        elif cell.observed:
            kind = "exception" if _symbol(cell, exceptions) == _EXCEPTION else "allowed"
            out_console.print(
                f"{_symbol(cell, exceptions)} {where} {kind}: rules {', '.join(cell.expected_by)};"
                f" policies {', '.join(cell.observed_by)}"
            )
        else:
            out_console.print(f"{_BLOCKED} {where} blocked: no rule allows it")


def _print_findings(findings: list[DirectionFinding]) -> None:
    """The per-direction audit under the matrix: one line per rule that is too wide."""
    if not findings:
        out_console.print(
            "[dim]each direction holds on its own: no ingress or egress rule admits"
            " what the zone rules block[/]"
        )
        return
    out_console.print(
        f"[bold]Each direction on its own[/] (a side must hold even where the other"
        f" side blocks): {len(findings)} finding(s)"
    )
    for finding in findings:
        out_console.print(f"{_MISMATCH} {escape(finding.describe())}", highlight=False)


def _read_objects(
    loaded: Topology,
    *,
    live: bool,
    context: str | None,
    manifests: Path | None,
    profile: str,
    images_file: Path | None,
) -> tuple[Topology, list[dict[str, Any]]]:
    """The objects to evaluate (the cluster's, the given manifests, or the rendered
    ones) and the topology to judge them by (live: pinned to the cluster's nodes
    and simulators, whose addresses its policies name)."""
    if live:
        from devenv.apply.addresses import pinned_to_environment
        from devenv.check.matrix import POLICY_INPUT_KINDS
        from devenv.tools.kubectl import Kubectl
        from devenv.verify.environment import require_environment

        target = kube_context(loaded, context)
        require_environment(loaded, target)
        err_console.print(f"[dim]NetworkPolicies as the cluster has them, context {target}[/]")
        kubectl = Kubectl(target)
        pinned = pinned_to_environment(loaded, target)
        objects = kubectl.read_namespaces(list(loaded.namespaces), containing=POLICY_INPUT_KINDS)
        return pinned, objects
    if manifests is not None:
        from devenv.check.user_manifests import load_user_manifests

        return loaded, load_user_manifests(manifests, loaded.cluster.kubernetes_version)
    from devenv.render import render_manifests

    return loaded, render_manifests(loaded, profile, images(images_file))


def _check(cells: list[Cell], findings: list[DirectionFinding], *, live: bool) -> None:
    """CheckFailed naming every differing cell and every side that is too wide."""
    from devenv.errors import CheckFailed

    mismatches = [c for c in cells if not c.matches]
    rules = sum(f.policy is not None for f in findings)
    problems = []
    if mismatches:
        problems.append(f"{len(mismatches)} cell(s) differ from the zone rules")
    if rules:
        problems.append(f"{rules} policy rule(s) admit on their own side what the zone rules block")
    if len(findings) > rules:
        problems.append(f"{len(findings) - rules} pod side(s) no policy isolates")
    if problems:
        where = "the cluster's policies (kubectl -n NAMESPACE get networkpolicy NAME -o yaml)"
        raise CheckFailed(
            "; ".join(problems),
            [c.describe() for c in mismatches] + [f.describe() for f in findings],
            hint=f"fix {where if live else 'the policies'}, or the rules in the topology if they"
            " are what changed; each direction must hold even where the other side blocks",
        )
    allowed = sum(c.observed for c in cells)
    err_console.print(
        f"[green]ok[/] {len(cells)} cells match the zone rules"
        f" ({allowed} allowed, {len(cells) - allowed} blocked);"
        " each direction holds on its own"
    )


def register(app: typer.Typer) -> None:
    @app.command("policy")
    def policy_command(
        ctx: typer.Context,
        *,
        topology: TopologyOption = None,
        profile: ProfileOption = "dev",
        images_file: ImagesOption = None,
        manifests: Annotated[
            Path | None,
            typer.Option(
                "--manifests",
                "-m",
                help="Evaluate these manifests (a file or a directory), not the rendered topology.",
            ),
        ] = None,
        live: Annotated[
            bool,
            typer.Option(
                "--live",
                help="Evaluate the NetworkPolicies, workloads and namespaces the cluster has"
                " (see --context), not the rendered topology.",
            ),
        ] = False,
        context: ContextOption = None,
        check: Annotated[
            bool,
            typer.Option(
                "--check",
                help="Exit 1 naming every cell that differs from the zone rules, and every"
                " ingress or egress rule that on its own admits what they block.",
            ),
        ] = False,
        as_json: Annotated[
            bool,
            typer.Option("--json", help="Print the matrix and the per-direction findings as JSON."),
        ] = False,
        source: Annotated[
            str | None, typer.Option("--from", help="Only cells from this endpoint.")
        ] = None,
        destination: Annotated[
            str | None, typer.Option("--to", help="Only cells to this endpoint.")
        ] = None,
    ) -> None:
        """Show which component can open a connection to which, and why."""
        from devenv.check.direction_audit import audit_directions
        from devenv.check.matrix import build_matrix
        from devenv.errors import ConfigError

        if live and manifests is not None:
            ctx.fail("--live reads the cluster and --manifests reads files: give one, not both")
        loaded, objects = _read_objects(
            load(topology, profile),
            live=live, context=context, manifests=manifests, profile=profile,
            images_file=images_file,
        )  # fmt: skip
        matrix = build_matrix(loaded, objects)
        names = {e.name for e in matrix.endpoints}
        for flag, value in (("--from", source), ("--to", destination)):
            if value is not None and value not in names:
                raise ConfigError(
                    f"{flag} {value}: no such endpoint",
                    hint=f"endpoints: {', '.join(sorted(names))}",
                )

        def wanted(cell_source: str, cell_destination: str) -> bool:
            return (source is None or cell_source == source) and (
                destination is None or cell_destination == destination
            )

        cells = [c for c in matrix.cells if wanted(c.source, c.destination)]
        findings = audit_directions(loaded, objects)
        if source or destination:
            findings = [
                narrowed
                for finding in findings
                if (narrowed := finding.only(lambda c: wanted(c.source, c.destination)))
            ]
        if as_json:
            data = matrix.to_json()
            data["cells"] = [c for c in data["cells"] if wanted(c["from"], c["to"])]
            data["wider"] = [f.to_json() for f in findings]
            write_data(json.dumps(data, indent=2) + "\n")
        elif source or destination:
            _print_detail(cells, set(matrix.exceptions))
            _print_findings(findings)
        elif not check:
            grid, legend = _grid(matrix)
            out_console.print(grid)
            out_console.print(legend)
            out_console.print(
                f"{_ALLOWED} allowed by a zone rule  {_EXCEPTION} allowed by an exception  "
                f"{_BLOCKED} blocked  {_MISMATCH} differs from the zone rules"
            )
            for name, resolution in matrix.exceptions.items():
                out_console.print(f"[yellow]exception {name}:[/] {resolution}")
            _print_findings(findings)
            out_console.print(
                "[dim]`devenv policy --from NAME` lists the policies behind each cell[/]"
            )
        if check:
            _check(cells, findings, live=live)
