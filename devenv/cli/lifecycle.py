"""`devenv up`, `status`, `logs`, `down`: the environment's life cycle."""

from __future__ import annotations

import json
import os
import time
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer
from rich.live import Live
from rich.table import Table

from devenv.cli._console import err_console, out_console, verdict, write_data
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
    from devenv.apply.up import PhaseResult

JsonOption = Annotated[bool, typer.Option("--json", help="Print JSON for machines.")]


def register(app: typer.Typer) -> None:
    app.command("up")(up_command)
    app.command("status")(status_command)
    app.command("logs")(logs_command)
    app.command("down")(down_command)
    app.command("doctor")(doctor_command)


def _phase_line(result: PhaseResult) -> str:
    """One phase as it ends: its span on the run's timeline (phases overlap), then
    what it did."""
    mark = "[dim]·[/]" if result.skipped else "[green]✓[/]"
    state = "skipped, unchanged" if result.skipped else result.detail
    end = result.started + result.seconds
    return f"{mark} {result.name:<12} {result.started:6.1f}s → {end:6.1f}s  {state}"


def up_command(
    *,
    topology: TopologyOption = None,
    profile: ProfileOption = "dev",
    images_file: ImagesOption = None,
    context: ContextOption = None,
    addon_manifests: Annotated[
        list[Path] | None,
        typer.Option(
            "--addon-manifests",
            envvar="DEVENV_ADDON_MANIFESTS",
            help="Manifests applied once the cluster is up, e.g. a NetworkPolicy enforcer.",
            show_default=False,
        ),
    ] = None,
    cni_manifests: Annotated[
        Path | None,
        typer.Option(
            "--cni-manifests",
            help="A CNI to install instead of kindnet (where kindnet cannot enforce policies).",
            show_default=False,
        ),
    ] = None,
    policy_enforcer: Annotated[
        str | None,
        typer.Option(
            "--policy-enforcer",
            envvar="DEVENV_POLICY_ENFORCER",
            help="Who enforces NetworkPolicies: kindnet (kind's own) or kube-router"
            " (for kernels without nftables queue). Default: chosen for this machine"
            " (`devenv doctor` shows which).",
            show_default=False,
        ),
    ] = None,
    timeout: Annotated[float, typer.Option(help="Seconds to wait for readiness.")] = 300,
    registry: Annotated[
        bool,
        typer.Option(
            "--registry/--no-registry",
            help="A local registry beside the kind cluster: stub images are pushed, not loaded.",
        ),
    ] = True,
    force: Annotated[
        bool,
        typer.Option("--force", help="Run every phase (e.g. after editing the cluster by hand)."),
    ] = False,
    push_to: Annotated[
        str | None,
        typer.Option(
            "--push-to",
            envvar="DEVENV_PUSH_TO",
            help="With --context on a cluster that pulls its images: push the built images to"
            " this registry (one that cluster pulls from) and deploy them by digest.",
            show_default=False,
        ),
    ] = None,
    mirror: Annotated[
        bool,
        typer.Option(
            "--mirror", help="With --push-to: push every catalog image held here there too."
        ),
    ] = False,
    prune: Annotated[
        bool,
        typer.Option(
            "--prune",
            help="Delete NetworkPolicies in the environment's namespaces that devenv did not"
            " create (without it, `up` lists them).",
        ),
    ] = False,
    install: Annotated[
        bool,
        typer.Option(
            "--install/--no-install",
            envvar="DEVENV_INSTALL_TOOLS",
            help="Install kind and kubectl (pinned, checksum-verified, into devenv's data"
            " directory) when they are missing or too old.",
        ),
    ] = True,
    as_json: JsonOption = False,
) -> None:
    """Create (or reuse) the cluster and deploy everything; skips what did not change."""
    from devenv.apply.up import (
        UpOptions,
        foreign_policies,
        prune_policies,
        run_up,
        summary_rows,
    )
    from devenv.render.kind_config import GATEWAY_HOST_PORT
    from devenv.secrets.cluster_ca import default_ca_file
    from devenv.tools.kind import kind_context

    loaded = load(topology, profile)
    target = kube_context(loaded, context)
    options = UpOptions(
        profile=profile,
        images=images(images_file),
        context=None if target == kind_context(loaded.cluster.name) else target,
        addon_manifests=tuple(addon_manifests or ()),
        cni_manifests=cni_manifests,
        timeout=timeout,
        force=force,
        registry=registry,
        policy_enforcer=policy_enforcer,
        install_tools=install,
        push_to=push_to,
        mirror=mirror,
    )
    with err_console.status("devenv up") as status:
        outcome = run_up(
            loaded,
            options,
            report=status.update,
            on_phase=lambda result: err_console.print(_phase_line(result)),
        )
    results = outcome.phases
    # Phases overlap: the run took as long as its last phase ran to.
    total = max((r.started + r.seconds for r in results), default=0.0)
    skipped = sum(r.skipped for r in results)
    err_console.print(f"[bold]up[/] in {total:.1f}s ({skipped} phase(s) skipped, unchanged)")
    foreign = foreign_policies(loaded, target)
    if foreign and prune:
        prune_policies(target, foreign)
        err_console.print(
            f"[yellow]pruned[/] NetworkPolicies devenv did not create: {', '.join(foreign)}"
        )
    elif foreign:
        err_console.print(
            f"[yellow]warning:[/] NetworkPolicies devenv did not create: {', '.join(foreign)}"
            " (each may open what the zone rules block: `devenv policy --live` names it;"
            " `devenv up --prune` removes them)"
        )
    rows = summary_rows(loaded, target, outcome.workloads)
    if as_json:
        timings = [
            {
                "phase": r.name,
                "started": round(r.started, 3),
                "seconds": round(r.seconds, 3),
                "skipped": r.skipped,
            }
            for r in results
        ]
        report = {
            "phases": timings,
            "components": rows,
            "foreign_policies": {"names": foreign, "pruned": bool(foreign and prune)},
        }
        write_data(json.dumps(report, indent=2) + "\n")
        return
    table = Table(title="Components")
    for header in ("component", "namespace", "zone", "ready", "URL"):
        table.add_column(header, overflow="fold")
    for row in rows:
        table.add_row(row["component"], row["namespace"], row["zone"],
                      "[green]yes[/]" if row["ready"] else "[red]no[/]", row["url"])  # fmt: skip
    out_console.print(table)
    ca_file = default_ca_file(loaded)
    err_console.print(
        f"HTTPS: the gateway's certificate is issued by the dev CA (cert-manager); `devenv ca`"
        f" writes it to {ca_file}, then: curl --cacert {ca_file} https://localhost:{GATEWAY_HOST_PORT}/health"
    )


def status_command(
    *,
    topology: TopologyOption = None,
    context: ContextOption = None,
    as_json: JsonOption = False,
    watch: Annotated[bool, typer.Option("--watch", "-w", help="Refresh every 2 s.")] = False,
) -> None:
    """Per component: namespace, zone, ready, restarts, /health, secrets injected."""
    from devenv.verify.environment import require_environment
    from devenv.verify.status import component_status

    loaded = load(topology, "dev")
    target = kube_context(loaded, context)
    require_environment(loaded, target)
    if as_json:
        rows = [row.as_dict() for row in component_status(loaded, target)]
        write_data(json.dumps(rows, indent=2) + "\n")
        return
    if not watch:
        out_console.print(_status_table(component_status(loaded, target)))
        return
    with Live(console=out_console, auto_refresh=False) as live:
        while True:
            live.update(_status_table(component_status(loaded, target)), refresh=True)
            time.sleep(2)


def _status_table(rows: list[Any]) -> Table:
    table = Table(title="Status")
    for header in ("component", "namespace", "zone", "ready", "restarts", "/health", "secrets"):
        table.add_column(header, overflow="fold")
    for row in rows:
        table.add_row(
            row.component, row.namespace, row.zone,
            f"[green]{row.ready}[/]" if row.is_ready else f"[red]{row.ready}[/]",
            str(row.restarts), row.health, row.secrets,
        )  # fmt: skip
    return table


def logs_command(
    component: Annotated[str, typer.Argument(help="The component, e.g. cost-agent.")],
    *,
    topology: TopologyOption = None,
    context: ContextOption = None,
    follow: Annotated[bool, typer.Option("--follow", "-f", help="Keep streaming.")] = False,
    tail: Annotated[int, typer.Option(help="Lines of history.")] = 100,
) -> None:
    """The component's logs (its main container; -f to follow)."""
    from devenv.errors import ConfigError
    from devenv.verify.environment import require_environment
    from devenv.verify.status import stream_logs

    loaded = load(topology, "dev")
    if component not in loaded.components:
        raise ConfigError(
            f"unknown component {component!r}",
            hint=f"components: {', '.join(sorted(loaded.components))}",
        )
    target = kube_context(loaded, context)
    require_environment(loaded, target)
    stream_logs(loaded, target, component, follow=follow, tail=tail)


def down_command(
    *,
    topology: TopologyOption = None,
    context: ContextOption = None,
    keep_cluster: Annotated[
        bool, typer.Option("--keep-cluster", help="Remove the environment, keep the kind cluster.")
    ] = False,
    purge: Annotated[
        bool,
        typer.Option(
            "--purge",
            help="Also remove the local registry devenv started (the image cache the next"
            " `up` would push nothing to).",
        ),
    ] = False,
) -> None:
    """Remove exactly what `devenv up` created (the local registry stays, as a cache)."""
    from devenv.apply.down import run_down

    loaded = load(topology, "dev")
    for line in run_down(loaded, context=context, keep_cluster=keep_cluster, purge=purge):
        err_console.print(line)


def doctor_command(
    *,
    topology: TopologyOption = None,
    profile: ProfileOption = "dev",
    images_file: ImagesOption = None,
    context: ContextOption = None,
    push_to: Annotated[
        str | None,
        typer.Option("--push-to", envvar="DEVENV_PUSH_TO", help="As `devenv up --push-to`."),
    ] = None,
    as_json: JsonOption = False,
) -> None:
    """Check this machine for `devenv up`: one row per check, a hint for each failure."""
    from devenv.apply.doctor import diagnose, image_route_check, route_tool
    from devenv.apply.up import UpOptions, image_route
    from devenv.errors import CheckFailed
    from devenv.tools.process import find_program

    loaded = load(topology, profile)
    checks = diagnose(loaded, profile, images_file, os.environ)
    if context is not None:
        options = UpOptions(profile=profile, images=images(images_file), context=context,
                            push_to=push_to)  # fmt: skip
        route = image_route(loaded, options)
        tool = route_tool(route)
        found = tool is None or find_program(tool) is not None
        checks.append(image_route_check(route, context, found))
    if as_json:
        write_data(json.dumps([c.as_dict() for c in checks], indent=2) + "\n")
    else:
        table = Table(title="devenv doctor")
        for header in ("check", "", "detail", "fix"):
            table.add_column(header, overflow="fold")
        for check in checks:
            cell = "[yellow]warn[/]" if check.warning else verdict(check.ok)
            table.add_row(check.name, cell, check.detail, check.hint)
        out_console.print(table)
    failed = [c for c in checks if c.failed]
    if failed:
        raise CheckFailed(
            f"{len(failed)} check(s) failed: {', '.join(c.name for c in failed)}", [],
            hint="each row says how to fix it",
        )  # fmt: skip
