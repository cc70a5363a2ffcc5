"""devenv's own API reads give what `kubectl get` gives, on the live cluster."""

from __future__ import annotations

import json
import subprocess

import pytest

from devenv.errors import ToolError
from devenv.tools.kube_api import KubeApi
from devenv.topology.labels import MANAGED_SELECTOR

KINDS = ["Namespace", "NetworkPolicy", "Deployment", "StatefulSet", "Service", "Secret"]


def _kubectl_names(context: str, kind: str) -> set[tuple[str, str]]:
    listed = subprocess.run(
        ["kubectl", "--context", context, "get", kind, "-A", "-l", MANAGED_SELECTOR, "-o", "json"],
        check=True, capture_output=True, text=True,
    ).stdout  # fmt: skip
    return {
        (item["metadata"].get("namespace", ""), item["metadata"]["name"])
        for item in json.loads(listed)["items"]
    }


@pytest.mark.parametrize("kind", KINDS)
def test_a_listing_names_what_kubectl_names(live_context: str, kind: str) -> None:
    api = KubeApi.for_context(live_context)
    assert api is not None, "a kind context's credentials are plain data"
    items = api.of_kind(kind, selector=MANAGED_SELECTOR)
    assert items, f"the environment has {kind} objects"
    assert {i["kind"] for i in items} == {kind}
    names = {(i["metadata"].get("namespace", ""), i["metadata"]["name"]) for i in items}
    assert names == _kubectl_names(live_context, kind)


def test_a_refusal_is_a_tool_error_naming_the_status(live_context: str) -> None:
    api = KubeApi.for_context(live_context)
    assert api is not None
    with pytest.raises(ToolError, match="404"):
        api.get("Namespace", "no-such-namespace-here")
