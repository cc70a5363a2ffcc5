"""The data layer: TimescaleDB (PostgreSQL) and Redis.

Their bootstrap credentials come from the ``finops-data-credentials`` Secret,
mounted as files (``devenv up`` creates it with random values); the probes
read them from files too, so no password reaches a process's arguments.
"""

from __future__ import annotations

from devenv.render.context import RenderContext
from devenv.render.objects import (
    RESTRICTED_CONTAINER,
    Manifest,
    component_objects,
    container_ports,
    credentials_volume,
    drop_none,
    exec_probe,
    pod_security,
    probe_timing,
)
from devenv.secrets.files import CREDENTIALS_DIR
from devenv.topology.model import ComponentSpec

__all__ = ["render_postgres", "render_redis"]

REDIS_UID = 999
# The official TimescaleDB image's postgres user (Alpine's uid 70); the CI stand-in
# gives its postgres user the same ids, so initdb finds itself in /etc/passwd.
POSTGRES_UID = 70


def _data_container(
    context: RenderContext,
    component: ComponentSpec,
    name: str,
    *,
    ready: Manifest,
    data_dir: str,
    security: Manifest,
    env: list[Manifest] | None = None,
    args: list[str] | None = None,
) -> Manifest:
    """A data server's container: its exec probe for both readiness and liveness,
    its data directory and the credentials as files."""
    container: Manifest = drop_none(
        {
            "name": name,
            "image": context.image(component.image),
            "imagePullPolicy": "IfNotPresent",
            "args": args,
            "env": env,
            "ports": container_ports(component),
            # Every 2 s: the data layer is often the last to be ready (an initdb on 2
            # cores takes about 10 s), and a 5 s period added up to 5 s to every `up`.
            "readinessProbe": probe_timing(ready, period=2, timeout=3, failures=5),
            "livenessProbe": probe_timing(ready, period=10, timeout=5, failures=6),
            "resources": context.sizing(component).container.as_resources(),
            "securityContext": security,
            "volumeMounts": [
                {"name": "data", "mountPath": data_dir},
                {"name": "credentials", "mountPath": CREDENTIALS_DIR, "readOnly": True},
            ],
        }
    )
    return container


def render_postgres(context: RenderContext, component: ComponentSpec) -> list[Manifest]:
    ready = exec_probe("pg_isready", "-U", "finops", "-d", "finops", "-h", "127.0.0.1")
    env = [
        {"name": "POSTGRES_USER", "value": "finops"},
        {"name": "POSTGRES_DB", "value": "finops"},
        {"name": "POSTGRES_PASSWORD_FILE", "value": f"{CREDENTIALS_DIR}/postgres-password"},
        {"name": "PGDATA", "value": "/var/lib/postgresql/data/pgdata"},
        {"name": "TIMESCALEDB_TELEMETRY", "value": "off"},
        {"name": "NO_TS_TUNE", "value": "true"},
        # The data lives in an emptyDir and dies with the pod: flushing it to disk only
        # costs time (initdb's fsyncs took seconds while the node pulled images).
        {"name": "POSTGRES_INITDB_ARGS", "value": "--no-sync"},
    ]
    container = _data_container(
        context, component, "postgres", ready=ready, data_dir="/var/lib/postgresql/data",
        args=["postgres", "-c", "fsync=off", "-c", "synchronous_commit=off",
              "-c", "full_page_writes=off"],
        # PostgreSQL writes its socket and lock files outside the data volume.
        security={**RESTRICTED_CONTAINER, "readOnlyRootFilesystem": False}, env=env,
    )  # fmt: skip
    pod_spec = {
        "securityContext": pod_security(POSTGRES_UID),
        "containers": [container],
        # Dev data is synthetic (§1.2): an emptyDir keeps the cluster free of storage drivers.
        "volumes": [{"name": "data", "emptyDir": {}}, credentials_volume("postgres-password")],
    }
    return component_objects(context, component, pod_spec=pod_spec, token=False, kind="StatefulSet")


def render_redis(context: RenderContext, component: ComponentSpec) -> list[Manifest]:
    # The password stays in files: redis.conf for the server, REDISCLI_AUTH for the probe.
    ping = exec_probe(
        "sh",
        "-c",
        f'REDISCLI_AUTH="$(cat {CREDENTIALS_DIR}/redis-password)" redis-cli ping | grep -q PONG',
    )
    container = _data_container(
        context, component, "redis", ready=ping, data_dir="/data",
        security={**RESTRICTED_CONTAINER, "readOnlyRootFilesystem": False},
        args=["redis-server", f"{CREDENTIALS_DIR}/redis.conf"],
    )  # fmt: skip
    pod_spec = {
        "securityContext": pod_security(REDIS_UID),
        "containers": [container],
        "volumes": [
            {"name": "data", "emptyDir": {}},
            credentials_volume("redis.conf", "redis-password"),
        ],
    }
    return component_objects(context, component, pod_spec=pod_spec, token=False)
