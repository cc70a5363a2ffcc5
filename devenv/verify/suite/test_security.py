"""Least privilege, live: Pod Security admission in every namespace, the agent's
own audience-bound token, secret files only the pod's group reads, and agent
tokens that die with their pod."""

from __future__ import annotations

import base64
import json
import time
from typing import Any

import pytest

from devenv.render.stubs import AGENT_TOKEN_VOLUME
from devenv.secrets.client import OpenBaoError
from devenv.secrets.connection import openbao_session
from devenv.secrets.files import AGENT_TLS_DIR, OPENBAO_AUDIENCE, SECRETS_DIR
from devenv.tools.process import run
from devenv.verify.suite._live import Live

PROBE_COMPONENT = "cost-agent"
AGENT_CONTAINERS = ("vault-agent", "vault-agent-init")
_FILE_MODES = """
import json, os, sys
d = sys.argv[1]
modes = {n: oct(os.stat(os.path.join(d, n)).st_mode & 0o777) for n in os.listdir(d)}
print(json.dumps(modes))
"""
_API_CREDENTIALS = "/var/run/secrets/kubernetes.io/serviceaccount"
_API_CREDENTIALS_MOUNTED = f"import os; print(os.path.exists({_API_CREDENTIALS!r}))"


def _privileged_pod(namespace: str) -> dict[str, Any]:
    container = {"name": "probe", "image": "busybox", "securityContext": {"privileged": True}}
    return {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {"name": "privileged-probe", "namespace": namespace},
        "spec": {"containers": [container]},
    }


def test_every_namespace_refuses_a_privileged_pod(live: Live) -> None:
    refused = {}
    for namespace in live.topology.namespaces:
        pod = _privileged_pod(namespace)
        # A server-side dry run passes admission, Pod Security included, and stores nothing.
        argv = live.kubectl.argv("create", "--dry-run=server", "-f", "-")
        result = run(argv, input_text=json.dumps(pod), check=False, timeout=30)
        refused[namespace] = result.returncode != 0 and 'violates PodSecurity "restricted' in (
            result.stderr
        )
    assert refused == dict.fromkeys(live.topology.namespaces, True)


def _injected_pods(live: Live) -> list[tuple[str, dict[str, Any]]]:
    return [
        (component.name, pod)
        for component in live.topology.components.values()
        if component.is_stub and live.topology.injected_secrets(component)
        for pod in live.pods(component)
    ]


def test_only_the_agent_holds_a_token_and_only_for_openbao(live: Live) -> None:
    """...and the stub of a component that reads tenant credentials at run time."""
    problems = []
    for name, pod in _injected_pods(live):
        spec = pod["spec"]
        if spec.get("automountServiceAccountToken") is not False:
            problems.append(f"{name}: the API token is automounted")
        volumes = {v["name"]: v for v in spec.get("volumes", [])}
        token = volumes.get(AGENT_TOKEN_VOLUME, {}).get("projected", {}).get("sources", [{}])[0]
        audience = token.get("serviceAccountToken", {}).get("audience")
        if audience != OPENBAO_AUDIENCE:
            problems.append(f"{name}: agent token audience {audience!r}")
        # A reader of tenant credentials logs in itself, per request (§6.2): its stub
        # holds the same OpenBao-only token. No other container does.
        component = live.topology.components[name]
        holders = {*AGENT_CONTAINERS, *(["stub"] if component.clouds else [])}
        for container in spec.get("containers", []) + spec.get("initContainers", []):
            mounts = {m["name"] for m in container.get("volumeMounts", [])}
            if AGENT_TOKEN_VOLUME in mounts and container["name"] not in holders:
                problems.append(f"{name}: container {container['name']} mounts the agent token")
    assert not problems, "\n".join(problems)
    component = live.topology.components[PROBE_COMPONENT]
    assert live.exec_python(component, ["-c", _API_CREDENTIALS_MOUNTED]).strip() == "False"


def test_secret_files_are_readable_by_the_pod_group_only(live: Live) -> None:
    component = live.topology.components[PROBE_COMPONENT]
    modes = json.loads(live.exec_python(component, ["-c", _FILE_MODES, SECRETS_DIR]))
    assert set(modes) == set(live.topology.injected_secrets(component))
    assert set(modes.values()) == {"0o440"}


def _token_is_valid(live: Live, token: str) -> bool:
    """Whether OpenBao still knows the token; any other failure is the test's."""
    with openbao_session(live.topology, address=None, context=live.context) as client:
        try:
            client.request("POST", "auth/token/lookup", {"token": token})
        except OpenBaoError as error:
            if "HTTP 403" in error.message or "bad token" in error.message:
                return False
            raise
    return True


def test_an_agent_token_is_revoked_when_its_pod_stops(live: Live) -> None:
    component = live.topology.components[PROBE_COMPONENT]
    pod = live.pod_name(component)
    token = live.kubectl.run(
        "exec", "-n", component.namespace, pod, "-c", "vault-agent", "--",
        "cat", "/home/vault/.vault-token",
    ).stdout.strip()  # fmt: skip
    assert token, f"{component.name}: its agent holds no token"
    # Kept out of the assertion: pytest would print the token's value on failure.
    valid_while_running = _token_is_valid(live, token)
    assert valid_while_running, f"{component.name}: its agent's token is not valid"
    live.kubectl.run("delete", "pod", "-n", component.namespace, pod, "--wait=true", timeout=60)
    deadline = time.monotonic() + 30
    while _token_is_valid(live, token):
        if time.monotonic() > deadline:
            pytest.fail(f"{component.name}: the agent token outlived pod {pod} by 30 s")
        time.sleep(1)
    # The Deployment replaces the pod; the rest of the suite needs it ready again.
    live.kubectl.run(
        "rollout", "status", "-n", component.namespace, f"deployment/{component.name}",
        "--timeout=120s", timeout=130,
    )  # fmt: skip


_OPENBAO_OVER_THE_WIRE = """
import json, ssl, urllib.request, urllib.error
url = "://openbao.finops-data.svc:8200/v1/sys/health"
verified = ssl.create_default_context(cafile="/etc/finops/ca/ca.crt")
result = {}
result["https"] = urllib.request.urlopen("https" + url, timeout=5, context=verified).status
try:
    urllib.request.urlopen("https" + url, timeout=5, context=ssl.create_default_context())
    result["untrusted"] = "accepted"
except urllib.error.URLError as error:
    result["untrusted"] = type(error.reason).__name__
try:
    result["http"] = urllib.request.urlopen("http" + url, timeout=5).status
except urllib.error.HTTPError as error:
    result["http"] = error.code
print(json.dumps(result))
"""


def test_openbao_speaks_only_tls_with_the_dev_ca_and_agents_verify_it(live: Live) -> None:
    component = live.topology.components[PROBE_COMPONENT]
    seen = json.loads(live.exec_python(component, ["-c", _OPENBAO_OVER_THE_WIRE]).splitlines()[-1])
    # Verified with the dev CA; refused by a client that does not hold it; plain
    # HTTP on the same port gets OpenBao's "HTTP request to an HTTPS server" 400.
    assert seen == {"https": 200, "untrusted": "SSLCertVerificationError", "http": 400}
    pod = live.pods(component)[0]
    agent = next(c for c in pod["spec"]["containers"] if c["name"] == "vault-agent")
    encoded = next(e["value"] for e in agent["env"] if e["name"] == "VAULT_CONFIG")
    vault = json.loads(base64.b64decode(encoded))["vault"]
    assert vault["address"].startswith("https://")
    assert vault["ca_cert"] == f"{AGENT_TLS_DIR}/ca.crt"
    assert not vault.get("tls_skip_verify")
