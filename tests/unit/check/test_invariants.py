"""The invariants notice each kind of breakage."""

from __future__ import annotations

from typing import Any

import pytest

from devenv.check.invariants import lint_manifests
from devenv.render import render_manifests
from devenv.topology.images import ImageSet
from devenv.topology.model import Topology


@pytest.fixture
def manifests(topology: Topology, image_set: ImageSet) -> list[dict[str, Any]]:
    return render_manifests(topology, "dev", image_set)


def _deployment(manifests: list[dict[str, Any]], name: str) -> dict[str, Any]:
    return next(m for m in manifests if m["kind"] == "Deployment" and m["metadata"]["name"] == name)


def test_rendered_manifests_keep_every_invariant(
    manifests: list[dict[str, Any]], image_set: ImageSet
) -> None:
    assert lint_manifests(manifests, image_set) == []


def test_missing_probe(manifests: list[dict[str, Any]], image_set: ImageSet) -> None:
    del _deployment(manifests, "cost-agent")["spec"]["template"]["spec"]["containers"][0][
        "readinessProbe"
    ]
    (violation,) = lint_manifests(manifests, image_set)
    assert violation.rule == "probes"
    assert "Deployment/finops-agents/cost-agent" in str(violation)


def test_unpinned_image(manifests: list[dict[str, Any]], image_set: ImageSet) -> None:
    _deployment(manifests, "redis")["spec"]["template"]["spec"]["containers"][0]["image"] = (
        "redis:7"
    )
    assert [v.rule for v in lint_manifests(manifests, image_set)] == ["pinned-images"]


def test_missing_quota_and_limit_range(
    manifests: list[dict[str, Any]], image_set: ImageSet
) -> None:
    kept = [
        m
        for m in manifests
        if not (
            m["kind"] in ("ResourceQuota", "LimitRange")
            and m["metadata"]["namespace"] == "finops-mcp"
        )
    ]
    messages = [str(v) for v in lint_manifests(kept, image_set)]
    assert any("Namespace/finops-mcp: quota lacks" in m for m in messages)
    assert any("Namespace/finops-mcp: has no LimitRange" in m for m in messages)


@pytest.mark.parametrize(
    "env",
    [
        {"name": "DB_PASSWORD", "value": "hunter2"},
        {"name": "DATABASE_URL", "value": "postgres://finops:hunter2@db:5432/finops"},
        {"name": "TOKEN", "valueFrom": {"secretKeyRef": {"name": "s", "key": "k"}}},
    ],
)
def test_secret_values_in_env(
    manifests: list[dict[str, Any]], image_set: ImageSet, env: dict[str, Any]
) -> None:
    _deployment(manifests, "cost-agent")["spec"]["template"]["spec"]["containers"][0]["env"].append(
        env
    )
    assert [v.rule for v in lint_manifests(manifests, image_set)] == ["secrets-as-files"]


def test_secret_values_in_config_maps(manifests: list[dict[str, Any]], image_set: ImageSet) -> None:
    manifests.append(
        {
            "kind": "ConfigMap",
            "metadata": {"name": "c", "namespace": "finops-mcp"},
            "data": {"api_key": "x"},
        }
    )
    assert [v.rule for v in lint_manifests(manifests, image_set)] == ["secrets-as-files"]


def test_paths_to_secret_files_are_fine(
    manifests: list[dict[str, Any]], image_set: ImageSet
) -> None:
    container = _deployment(manifests, "cost-agent")["spec"]["template"]["spec"]["containers"][0]
    container["env"].append({"name": "DB_PASSWORD_FILE", "value": "/vault/secrets/database-url"})
    assert lint_manifests(manifests, image_set) == []


def test_every_pod_meets_restricted_and_every_namespace_enforces_it(
    manifests: list[dict[str, Any]], image_set: ImageSet
) -> None:
    assert not [v for v in lint_manifests(manifests, image_set) if v.rule == "pod-security"]
    namespaces = [m for m in manifests if m["kind"] == "Namespace"]
    assert len(namespaces) == 7
    for namespace in namespaces:
        labels = namespace["metadata"]["labels"]
        for mode in ("enforce", "warn", "audit"):
            assert labels[f"pod-security.kubernetes.io/{mode}"] == "restricted"


def test_pod_security_breaches(manifests: list[dict[str, Any]], image_set: ImageSet) -> None:
    postgres = next(m for m in manifests if m["kind"] == "StatefulSet")
    pod = postgres["spec"]["template"]["spec"]
    del pod["securityContext"]["runAsNonRoot"]
    pod["containers"][0]["securityContext"] = {"privileged": True}
    pod["volumes"].append({"name": "host", "hostPath": {"path": "/"}})
    namespace = next(m for m in manifests if m["kind"] == "Namespace")
    del namespace["metadata"]["labels"]["pod-security.kubernetes.io/enforce"]
    messages = [str(v) for v in lint_manifests(manifests, image_set) if v.rule == "pod-security"]
    subject = "StatefulSet/finops-data/postgresql-timescaledb"
    assert (
        f"Namespace/{namespace['metadata']['name']}: does not enforce restricted [pod-security]"
        in messages
    )
    assert f"{subject}: volume host is hostPath [pod-security]" in messages
    for breach in (
        "is privileged",
        "does not set allowPrivilegeEscalation: false",
        "does not drop ALL capabilities",
        "may run as root (no runAsNonRoot)",
    ):
        assert f"{subject} container postgres: {breach} [pod-security]" in messages
