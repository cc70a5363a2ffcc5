"""Renderers: golden files, determinism, schema validity, quotas that hold every pod."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from devenv.apply.phases.cert_manager import cert_manager_crds
from devenv.check.kubernetes_schema import schema_problems
from devenv.render import Manifest, render_manifests
from devenv.topology.images import ImageSet, resolve_images
from devenv.topology.model import Topology
from devenv.topology.quantity import parse_cpu, parse_memory
from devenv.yamlio import dump_documents

GOLDEN = Path(__file__).parents[2] / "golden"


def _object(manifests: list[Manifest], kind: str, name: str) -> Manifest:
    return next(m for m in manifests if m["kind"] == kind and m["metadata"]["name"] == name)


@pytest.mark.parametrize("profile", ["dev", "prodlike"])
def test_render_matches_golden_file(topology: Topology, image_set: ImageSet, profile: str) -> None:
    """Any change to the output is deliberate: UPDATE_GOLDEN=1 rewrites the files."""
    rendered = dump_documents(render_manifests(topology, profile, image_set))
    golden = GOLDEN / f"{profile}.yaml"
    if os.environ.get("UPDATE_GOLDEN") == "1":
        golden.write_text(rendered, encoding="utf-8")
    assert rendered == golden.read_text(encoding="utf-8")


@pytest.mark.parametrize("hash_seed", ["1", "4242"])
def test_render_is_the_same_in_another_process(hash_seed: str) -> None:
    # Set iteration order depends on the string hash seed, which is fixed within a
    # process: only another process with another seed can catch an unsorted set.
    ours = subprocess.run(
        [sys.executable, "-m", "devenv", "render"], capture_output=True, text=True, check=True,
        env={**os.environ, "PYTHONHASHSEED": hash_seed},
    ).stdout  # fmt: skip
    assert ours == (GOLDEN / "dev.yaml").read_text(encoding="utf-8")


@pytest.mark.parametrize("profile", ["dev", "prodlike"])
def test_every_object_validates_against_kubernetes_schema(
    topology: Topology, image_set: ImageSet, profile: str
) -> None:
    manifests = render_manifests(topology, profile, image_set)
    # cert-manager's resources against the pinned release's CRDs.
    crds = cert_manager_crds()
    assert schema_problems(manifests, topology.cluster.kubernetes_version, crds) == []


def test_schema_validation_catches_a_bad_field(topology: Topology, image_set: ImageSet) -> None:
    manifests = render_manifests(topology, "dev", image_set)
    deployment = next(m for m in manifests if m["kind"] == "Deployment")
    deployment["spec"]["replica"] = 1
    problems = schema_problems([deployment], "1.34")
    assert len(problems) == 1
    assert "'replica' was unexpected" in problems[0]


def test_namespaces_carry_zone_labels(topology: Topology, image_set: ImageSet) -> None:
    namespaces = {
        m["metadata"]["name"]: m["metadata"]["labels"]
        for m in render_manifests(topology, "dev", image_set)
        if m["kind"] == "Namespace"
    }
    assert namespaces["finops-agents"]["finops.io/zone"] == "app"
    assert namespaces["finops-agents"]["zone.finops.io/dmz"] == "true"  # hosts ag-ui-server
    assert namespaces["finops-data"]["finops.io/zone"] == "data"


def _pod_charge(template: dict, agent: tuple[int, int, int, int]) -> tuple[int, int, int, int]:
    totals = [0, 0, 0, 0]
    for container in template["spec"]["containers"]:
        resources = container["resources"]
        totals[0] += parse_cpu(resources["requests"]["cpu"])
        totals[1] += parse_memory(resources["requests"]["memory"])
        totals[2] += parse_cpu(resources["limits"]["cpu"])
        totals[3] += parse_memory(resources["limits"]["memory"])
    annotations = template["metadata"].get("annotations") or {}
    if annotations.get("vault.hashicorp.com/agent-inject") == "true":
        prefix = "vault.hashicorp.com/agent-"
        sidecar = (
            parse_cpu(annotations[prefix + "requests-cpu"]),
            parse_memory(annotations[prefix + "requests-mem"]),
            parse_cpu(annotations[prefix + "limits-cpu"]),
            parse_memory(annotations[prefix + "limits-mem"]),
        )
        totals = [t + s for t, s in zip(totals, sidecar, strict=True)]
    return tuple(totals)  # type: ignore[return-value]


@pytest.mark.parametrize("profile", ["dev", "prodlike"])
def test_quotas_hold_every_pod_with_its_secret_agent_and_a_surge(
    topology: Topology, image_set: ImageSet, profile: str
) -> None:
    manifests = render_manifests(topology, profile, image_set)
    quotas = {
        m["metadata"]["namespace"]: m["spec"]["hard"]
        for m in manifests
        if m["kind"] == "ResourceQuota"
    }
    assert set(quotas) == set(topology.namespaces)
    used: dict[str, list[int]] = {}
    largest: dict[str, list[int]] = {}
    for m in manifests:
        if m["kind"] not in ("Deployment", "StatefulSet"):
            continue
        namespace = m["metadata"]["namespace"]
        charge = _pod_charge(m["spec"]["template"], (0, 0, 0, 0))
        total = used.setdefault(namespace, [0, 0, 0, 0])
        for i in range(4):
            total[i] += charge[i] * m["spec"]["replicas"]
        big = largest.setdefault(namespace, [0, 0, 0, 0])
        largest[namespace] = [max(a, b) for a, b in zip(big, charge, strict=True)]
    for namespace, hard in quotas.items():
        need = [u + b for u, b in zip(used[namespace], largest[namespace], strict=True)]
        assert parse_cpu(hard["requests.cpu"]) >= need[0], namespace
        assert parse_memory(hard["requests.memory"]) >= need[1], namespace
        assert parse_cpu(hard["limits.cpu"]) >= need[2], namespace
        assert parse_memory(hard["limits.memory"]) >= need[3], namespace


def test_stub_pods_get_one_secret_file_per_topology_secret(
    topology: Topology, image_set: ImageSet
) -> None:
    manifests = render_manifests(topology, "dev", image_set)
    deployment = _object(manifests, "Deployment", "cost-agent")
    annotations = deployment["spec"]["template"]["metadata"]["annotations"]
    assert annotations["vault.hashicorp.com/role"] == "finops-cost-agent"
    assert (
        annotations["vault.hashicorp.com/agent-inject-secret-llm-api-keys"]
        == "secret/data/finops/llm"
    )
    assert (
        annotations["vault.hashicorp.com/agent-inject-secret-database-url"]
        == "secret/data/finops/database"
    )
    assert "agent-inject-secret-redis-password" not in str(annotations)
    assert annotations["vault.hashicorp.com/template-static-secret-render-interval"] == "15s"


def test_image_overrides_reach_the_manifests(topology: Topology) -> None:
    images = resolve_images(None, {"DEVENV_IMAGE_REDIS": "mirror.example/redis:7"})
    manifests = render_manifests(topology, "dev", images)
    redis = _object(manifests, "Deployment", "redis")
    assert redis["spec"]["template"]["spec"]["containers"][0]["image"] == "mirror.example/redis:7"


def test_every_workload_has_both_probes(topology: Topology, image_set: ImageSet) -> None:
    for m in render_manifests(topology, "dev", image_set):
        if m["kind"] in ("Deployment", "StatefulSet"):
            for container in m["spec"]["template"]["spec"]["containers"]:
                assert "livenessProbe" in container, m["metadata"]
                assert "readinessProbe" in container, m["metadata"]


def test_the_cloud_api_simulator_is_reached_through_a_selectorless_service(
    topology: Topology, image_set: ImageSet
) -> None:
    import json

    manifests = render_manifests(topology, "dev", image_set)
    service = _object(manifests, "Service", "cloud-apis")
    assert "selector" not in service["spec"]  # devenv up adds the EndpointSlice
    assert service["metadata"]["namespace"] == "finops-mcp"
    mcp = _object(manifests, "Deployment", "aws-mcp")
    config = json.loads(mcp["spec"]["template"]["spec"]["containers"][0]["env"][0]["value"])
    assert config["external_urls"] == {
        "cloud-apis": "https://cloud-apis.finops-mcp.svc.cluster.local:443"
    }


def test_the_injector_may_patch_only_its_own_webhook(
    topology: Topology, image_set: ImageSet
) -> None:
    manifests = render_manifests(topology, "dev", image_set)
    role = _object(manifests, "ClusterRole", "openbao-agent-injector-clusterrole")
    patching = [rule for rule in role["rules"] if "patch" in rule["verbs"]]
    assert patching == [
        {
            "apiGroups": ["admissionregistration.k8s.io"],
            "resources": ["mutatingwebhookconfigurations"],
            "resourceNames": ["openbao-agent-injector-cfg"],
            "verbs": ["get", "patch"],
        }
    ]
    assert all(
        "resourceNames" in rule for rule in role["rules"] if rule["verbs"] != ["list", "watch"]
    )
