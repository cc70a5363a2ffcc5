"""`devenv secrets check` verdicts, from pod objects and /secrets views."""

from __future__ import annotations

import hashlib
from typing import Any

from devenv.secrets.files import secret_file_content
from devenv.topology.model import Topology
from devenv.verify.injection import evaluate_pod

DATA = {"gemini_api_key": "x"}
CONTENT = secret_file_content(DATA, 2)
DIGEST = hashlib.sha256(CONTENT.encode()).hexdigest()[:12]


def pod(*containers: str, init: tuple[str, ...] = ("vault-agent-init",)) -> dict[str, Any]:
    return {
        "spec": {
            "containers": [{"name": c} for c in containers],
            "initContainers": [{"name": c} for c in init],
        }
    }


def view(**files: tuple[bool, str | None]) -> dict[str, Any]:
    return {
        "secrets": [
            {"name": name, "present": present, "sha256": digest}
            for name, (present, digest) in files.items()
        ]
    }


def test_secret_file_content_is_what_go_json_marshal_writes() -> None:
    assert (
        secret_file_content({"b": "2", "a": "1"}, 3) == '{"version": 3, "data": {"a":"1","b":"2"}}'
    )


def test_a_healthy_pod(topology: Topology) -> None:
    component = topology.components["optimization-agent"]  # reads llm-api-keys only
    expected = {"llm-api-keys": (DIGEST, 2)}
    good = view(**{"llm-api-keys": (True, DIGEST)})
    assert evaluate_pod(topology, component, pod("stub", "vault-agent"), good, expected) == ()


def test_a_pod_without_injection_is_a_failure(topology: Topology) -> None:
    component = topology.components["optimization-agent"]
    problems = evaluate_pod(
        topology, component, pod("stub", init=()), view(**{"llm-api-keys": (False, None)}), {}
    )
    assert any("came up without injection" in p for p in problems)
    assert any("vault-agent-init" in p for p in problems)
    assert any("missing or empty" in p for p in problems)


def test_stale_content_names_both_versions(topology: Topology) -> None:
    component = topology.components["optimization-agent"]
    stale = view(**{"llm-api-keys": (True, "0123456789ab")})
    (problem,) = evaluate_pod(
        topology, component, pod("stub", "vault-agent"), stale, {"llm-api-keys": (DIGEST, 2)}
    )
    assert f"OpenBao has version 2 (hash {DIGEST})" in problem


def test_an_unreachable_stub(topology: Topology) -> None:
    component = topology.components["optimization-agent"]
    assert evaluate_pod(topology, component, pod("stub", "vault-agent"), None, {}) == (
        "its /secrets endpoint did not answer",
    )


def test_a_file_openbao_does_not_have_is_a_failure(topology: Topology) -> None:
    component = topology.components["optimization-agent"]
    present = view(**{"llm-api-keys": (True, DIGEST)})
    (problem,) = evaluate_pod(topology, component, pod("stub", "vault-agent"), present, {})
    assert problem == "/vault/secrets/llm-api-keys: OpenBao has no such secret to compare with"
