"""The environment `devenv up` deployed, checked for real (kind cluster in CI)."""

from __future__ import annotations

import json
import subprocess

from typer.testing import CliRunner

from devenv.cli import app


def _devenv(*args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(app, list(args), catch_exceptions=False)
    return result.exit_code, result.stdout, result.stderr


def test_a_second_up_skips_every_phase(kind_context: str) -> None:
    code, stdout, stderr = _devenv("up", "--json")
    assert code == 0, stderr
    phases = {p["phase"]: p["skipped"] for p in json.loads(stdout)["phases"]}
    assert {name for name, skipped in phases.items() if not skipped} == {"preflight"}, phases


def test_up_restores_an_object_deleted_by_hand(kind_context: str) -> None:
    policy = ["networkpolicy", "default-deny", "-n", "finops-frontend"]
    kubectl = ["kubectl", "--context", kind_context]
    subprocess.run([*kubectl, "delete", *policy], check=True, capture_output=True, timeout=60)
    code, stdout, stderr = _devenv("up", "--json")
    assert code == 0, stderr
    phases = {p["phase"]: p["skipped"] for p in json.loads(stdout)["phases"]}
    # Only the phase that owns the policy, and the readiness wait after any change.
    assert {name for name, skipped in phases.items() if not skipped} == {
        "preflight",
        "namespaces",
        "wait",
    }, phases
    restored = subprocess.run(
        [*kubectl, "get", *policy], capture_output=True, text=True, timeout=60, check=False
    )
    assert restored.returncode == 0, restored.stderr


def test_every_component_is_ready_healthy_and_injected(live_context: str) -> None:
    code, stdout, stderr = _devenv("status", "--json", "--context", live_context)
    assert code == 0, stderr
    rows = json.loads(stdout)
    assert [r["component"] for r in rows if not r["is_ready"]] == []
    assert [r["component"] for r in rows if r["health"] == "unreachable"] == []
    assert [r["component"] for r in rows if r["secrets"] == "MISSING agent"] == []


def test_every_injected_file_matches_openbao(live_context: str) -> None:
    code, _, stderr = _devenv("secrets", "check", "--context", live_context)
    assert code == 0, stderr


def _opens(context: str, namespace: str, deployment: str, host: str, port: int) -> bool:
    """Whether a TCP connection opens from the deployment's stub; an exec that
    never ran the probe (no such pod or container) fails instead of counting as blocked."""
    argv = ["kubectl", "--context", context, "-n", namespace, "exec", f"deploy/{deployment}"]
    argv += ["-c", "stub", "--", "python", "-m", "finops_stub.probe", host, str(port)]
    argv += ["--timeout", "2"]
    result = subprocess.run(argv, capture_output=True, text=True, timeout=60, check=False)
    assert result.stdout.startswith(f"{host}:{port} "), result.stderr
    return result.returncode == 0


def test_policies_are_enforced(live_context: str) -> None:
    postgres = "postgresql-timescaledb.finops-data.svc.cluster.local"
    # App -> Data on 5432 is a §5.2 rule; DMZ -> Data is not.
    assert _opens(live_context, "finops-agents", "cost-agent", postgres, 5432)
    assert not _opens(live_context, "finops-agents", "ag-ui-server", postgres, 5432)
    # Public -> App: blocked, Public -> DMZ: allowed.
    agent = "cost-agent.finops-agents.svc.cluster.local"
    assert not _opens(live_context, "finops-system", "api-gateway", agent, 8080)
    frontend = "next-app.finops-frontend.svc.cluster.local"
    assert _opens(live_context, "finops-system", "api-gateway", frontend, 8080)


ALLOW_EVERYTHING = {
    "apiVersion": "networking.k8s.io/v1",
    "kind": "NetworkPolicy",
    "metadata": {"name": "allow-everything-by-hand", "namespace": "finops-data"},
    "spec": {"podSelector": {}, "policyTypes": ["Ingress"], "ingress": [{}]},
}


def test_up_names_a_policy_it_did_not_create_and_prune_removes_it(kind_context: str) -> None:
    kubectl = ["kubectl", "--context", kind_context]
    subprocess.run(
        [*kubectl, "apply", "-f", "-"], input=json.dumps(ALLOW_EVERYTHING), text=True,
        check=True, capture_output=True, timeout=60,
    )  # fmt: skip
    qualified = "finops-data/allow-everything-by-hand"
    try:
        code, stdout, stderr = _devenv("up", "--json")
        assert code == 0, stderr
        assert json.loads(stdout)["foreign_policies"] == {"names": [qualified], "pruned": False}
        assert "devenv up --prune" in stderr
        code, stdout, stderr = _devenv("up", "--prune", "--json")
        assert code == 0, stderr
        assert json.loads(stdout)["foreign_policies"] == {"names": [qualified], "pruned": True}
        left = subprocess.run(
            [*kubectl, "get", "networkpolicy", "-n", "finops-data", "allow-everything-by-hand"],
            capture_output=True, text=True, timeout=60, check=False,
        )  # fmt: skip
        assert left.returncode != 0
    finally:
        subprocess.run(
            [*kubectl, "delete", "networkpolicy", "-n", "finops-data",
             "allow-everything-by-hand", "--ignore-not-found"],
            capture_output=True, timeout=60, check=False,
        )  # fmt: skip
