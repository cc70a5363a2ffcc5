"""Secret injection (§6): agents and files as OpenBao has them, least privilege
from inside a pod, and a rotation that reaches the pod without a restart."""

from __future__ import annotations

import json
import time
from collections.abc import Callable

from devenv.secrets.bootstrap import role_name
from devenv.secrets.connection import openbao_session
from devenv.secrets.files import OPENBAO_AUDIENCE
from devenv.secrets.rotation import rotate_and_keep
from devenv.verify.injection import check_injection, expected_hashes
from devenv.verify.suite._live import Live

PROBE_COMPONENT = "cost-agent"
_LOGIN_AND_READ = """
import json, ssl, sys, urllib.request, urllib.error
base = "https://openbao.finops-data.svc:8200/v1/"
trust = ssl.create_default_context(cafile="/etc/finops/ca/ca.crt")  # the dev CA
jwt = sys.stdin.read().strip()
login = urllib.request.Request(base + "auth/kubernetes/login", method="POST",
    data=json.dumps({"role": sys.argv[1], "jwt": jwt}).encode())
try:
    answer = urllib.request.urlopen(login, timeout=5, context=trust)
    token = json.load(answer)["auth"]["client_token"]
except urllib.error.HTTPError as error:
    print(json.dumps({"login": error.code}))
    sys.exit(0)
codes = {"login": 200}
for path in sys.argv[2:]:
    request = urllib.request.Request(base + "secret/data/" + path, headers={"X-Vault-Token": token})
    try:
        codes[path] = urllib.request.urlopen(request, timeout=5, context=trust).status
    except urllib.error.HTTPError as error:
        codes[path] = error.code
print(json.dumps(codes))
"""


def test_every_injected_pod_has_its_agent_and_files(live: Live) -> None:
    with openbao_session(live.topology, address=None, context=live.context) as client:
        expected = expected_hashes(client, live.topology)
    results = check_injection(live.topology, live.kubectl, expected)
    problems = [f"{r.component} ({r.pod}): {p}" for r in results for p in r.problems]
    assert not problems, "\n".join(problems)


def _login_and_read(live: Live, audience: str | None, paths: list[str]) -> dict[str, int]:
    """From inside the component's pod: log in with a token of its service account
    (minted for ``audience``; None: the API server's) and read ``paths``."""
    component = live.topology.components[PROBE_COMPONENT]
    minting = ["create", "token", component.name, "-n", component.namespace, "--duration=10m"]
    if audience is not None:
        minting.append(f"--audience={audience}")
    jwt = live.kubectl.run(*minting).stdout  # to the pod on stdin, never in argv
    out = live.exec_python(
        component, ["-c", _LOGIN_AND_READ, role_name(component), *paths], stdin=jwt
    )
    codes: dict[str, int] = json.loads(out.strip().splitlines()[-1])
    return codes


def test_a_pod_token_reads_only_its_own_paths(live: Live) -> None:
    component = live.topology.components[PROBE_COMPONENT]
    own = [live.topology.secrets[s].path for s in component.secrets]
    others = [s.path for n, s in live.topology.secrets.items() if n not in component.secrets]
    codes = _login_and_read(live, OPENBAO_AUDIENCE, own + others)
    assert codes["login"] == 200
    assert {path: codes[path] for path in own} == dict.fromkeys(own, 200)
    assert {path: codes[path] for path in others} == dict.fromkeys(others, 403)


def test_openbao_refuses_a_token_minted_for_the_api_server(live: Live) -> None:
    # The role's audience: a token taken from anything that talks to the API
    # server (the default audience) cannot be replayed against OpenBao.
    assert _login_and_read(live, None, []) == {"login": 403}


def test_rotation_reaches_the_pod_without_restart(
    live: Live, record_property: Callable[[str, object], None]
) -> None:
    component = live.topology.components[PROBE_COMPONENT]
    secret = component.secrets[0]
    before_pod = live.pods(component)[0]
    restarts = [c["restartCount"] for c in before_pod["status"]["containerStatuses"]]

    def version() -> int | None:
        status, body = live.get(component, "/secrets")
        if status != 200 or not isinstance(body, dict):
            return None
        return {s["name"]: s["version"] for s in body["secrets"]}.get(secret)

    start_version = version()
    with openbao_session(live.topology, address=None, context=live.context) as client:
        # Kept in devenv's state like `devenv secrets rotate` keeps it: re-seeded
        # after an OpenBao restart, and redacted from every report.
        new_version = rotate_and_keep(client, live.topology, [secret])[secret]
    rotated = time.monotonic()
    while time.monotonic() - rotated < 60 and version() != new_version:
        time.sleep(1)
    took = time.monotonic() - rotated
    record_property("rotation_seconds", round(took, 1))
    assert version() == new_version, f"{secret}: still version {version()} after {took:.0f}s"
    after_pod = live.pods(component)[0]
    assert after_pod["metadata"]["name"] == before_pod["metadata"]["name"]
    assert [c["restartCount"] for c in after_pod["status"]["containerStatuses"]] == restarts
    print(f"{secret}: version {start_version} -> {new_version} in the pod after {took:.1f}s")
