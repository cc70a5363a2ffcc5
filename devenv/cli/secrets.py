"""`devenv secrets`: list, rotate, check and bootstrap. Never a value on screen."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table

from devenv.cli._console import err_console, out_console, verdict, write_data
from devenv.cli._options import ContextOption, ProfileOption, TopologyOption, kube_context, load

AddressOption = Annotated[
    str | None,
    typer.Option(
        "--openbao-addr",
        envvar="DEVENV_OPENBAO_ADDR",
        help="OpenBao's address (default: a port-forward to the cluster's OpenBao).",
        show_default=False,
    ),
]


secrets_app = typer.Typer(
    rich_markup_mode=None, help="OpenBao secrets: list, rotate, check.", no_args_is_help=True
)


def register(app: typer.Typer) -> None:
    app.add_typer(secrets_app, name="secrets")


@secrets_app.command("list")
def list_command(
    *,
    topology: TopologyOption = None,
    address: AddressOption = None,
    context: ContextOption = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
) -> None:
    """Each secret's path, current version and readers. No values."""
    from devenv.secrets.connection import openbao_session
    from devenv.secrets.inventory import list_secrets

    loaded = load(topology, "dev")
    with openbao_session(loaded, address=address, context=kube_context(loaded, context)) as client:
        statuses = list_secrets(client, loaded)
    if as_json:
        rows = [
            {"name": s.name, "path": s.path, "version": s.version,
             "injection": s.injection, "readers": list(s.readers)}
            for s in statuses
        ]  # fmt: skip
        write_data(json.dumps(rows, indent=2) + "\n")
        return
    table = Table(title="Secrets in OpenBao (KV v2 mount secret/)")
    for header in ("secret", "path", "version", "delivered", "read by"):
        table.add_column(header, overflow="fold")
    for s in statuses:
        version = str(s.version) if s.version is not None else "[red]missing[/]"
        delivered = "file (agent)" if s.injection == "sidecar" else "API at runtime"
        table.add_row(s.name, s.path, version, delivered, ", ".join(s.readers))
    out_console.print(table)


@secrets_app.command("rotate")
def rotate_command(
    names: Annotated[
        list[str] | None, typer.Argument(help="Secret names or KV paths.", show_default=False)
    ] = None,
    *,
    all_secrets: Annotated[bool, typer.Option("--all", help="Rotate every secret.")] = False,
    topology: TopologyOption = None,
    address: AddressOption = None,
    context: ContextOption = None,
) -> None:
    """Write a new version; agents render it within their interval, no restart."""
    from devenv.secrets.files import STATIC_SECRET_RENDER_INTERVAL
    from devenv.secrets.rotation import rotate_secrets

    loaded = load(topology, "dev")
    versions = rotate_secrets(
        loaded, names or [], all_secrets=all_secrets, address=address,
        context=kube_context(loaded, context),
    )  # fmt: skip
    for name, version in versions.items():
        out_console.print(f"{name}: now version {version}")
    err_console.print(
        f"[dim]agents render new versions within {STATIC_SECRET_RENDER_INTERVAL}"
        " (dev render interval)[/]"
    )


@secrets_app.command("bootstrap")
def bootstrap_command(
    *,
    topology: TopologyOption = None,
    address: AddressOption = None,
    context: ContextOption = None,
    kubernetes_host: Annotated[
        str | None,
        typer.Option(
            help="API server URL, for an OpenBao outside the cluster.", show_default=False
        ),
    ] = None,
    kubernetes_ca_file: Annotated[
        Path | None,
        typer.Option(
            help="The cluster CA (PEM), for an OpenBao outside the cluster.", show_default=False
        ),
    ] = None,
    follow: Annotated[
        bool,
        typer.Option(
            "--follow",
            help="Keep running; bootstrap again whenever OpenBao's pod is replaced or restarted"
            " (dev mode starts empty). The Tiltfile runs this beside the stubs.",
        ),
    ] = False,
) -> None:
    """KV v2, Kubernetes auth, a policy and role per service account, dev values."""
    from devenv.errors import ConfigError
    from devenv.secrets.bootstrap import IN_CLUSTER, KubernetesAuth, bootstrap
    from devenv.secrets.connection import dev_credentials, openbao_session
    from devenv.secrets.dev_values import KUBERNETES_ADDRESSES

    loaded = load(topology, "dev")
    if follow:
        from devenv.apply.phases.openbao import keep_bootstrapped

        if address or kubernetes_host or kubernetes_ca_file:
            raise ConfigError("--follow watches the cluster's OpenBao: drop --openbao-addr")
        err_console.print("following OpenBao: bootstrapping each new instance (Ctrl-C stops)")
        keep_bootstrapped(loaded, kube_context(loaded, context), report=err_console.print)
        return
    kubernetes = IN_CLUSTER
    if kubernetes_host or kubernetes_ca_file:
        if not (kubernetes_host and kubernetes_ca_file):
            raise ConfigError("--kubernetes-host and --kubernetes-ca-file go together")
        try:
            ca_pem = kubernetes_ca_file.read_text(encoding="utf-8")
        except OSError as error:
            raise ConfigError(f"{kubernetes_ca_file}: cannot read: {error.strerror}") from None
        kubernetes = KubernetesAuth(host=kubernetes_host, ca_pem=ca_pem)
    with openbao_session(loaded, address=address, context=kube_context(loaded, context)) as client:
        report = bootstrap(
            client, loaded, dev_credentials(loaded), KUBERNETES_ADDRESSES, kubernetes
        )
    for what, action in report.actions:
        if action != "unchanged":
            out_console.print(f"{action:>9} {what}")
    err_console.print(
        f"bootstrap: {len(report.changed)} change(s),"
        f" {len(report.actions) - len(report.changed)} already in place"
    )


@secrets_app.command("check")
def check_command(
    *,
    topology: TopologyOption = None,
    profile: ProfileOption = "dev",
    address: AddressOption = None,
    context: ContextOption = None,
) -> None:
    """Every injected pod has its agent and every file, with OpenBao's content."""
    from devenv.errors import CheckFailed
    from devenv.secrets.connection import openbao_session
    from devenv.tools.kubectl import Kubectl
    from devenv.verify.injection import check_injection, expected_hashes

    loaded = load(topology, profile)
    with openbao_session(loaded, address=address, context=kube_context(loaded, context)) as client:
        expected = expected_hashes(client, loaded)
    results = check_injection(loaded, Kubectl(kube_context(loaded, context)), expected)
    failures = [f"{r.component} ({r.pod}): {p}" for r in results for p in r.problems]
    for result in results:
        out_console.print(f"{verdict(result.ok)} {result.component} {result.pod}")
    if failures:
        raise CheckFailed(f"{len(failures)} injection problem(s)", failures)
    err_console.print(f"[green]ok[/] {len(results)} pods have every secret file, as in OpenBao")
