"""A cluster double at the kubectl wrapper's methods (the one boundary these
tests do not own): what the cluster lists, and which OpenBao pod it runs."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import pytest

from devenv.errors import ToolError
from devenv.render import Manifest
from devenv.tools.kubectl import Kubectl
from devenv.tools.process import Result


@dataclass
class ClusterDouble:
    live: list[Manifest] = field(default_factory=list)  # devenv's objects in the cluster
    refuse_listing: str | None = None  # the API server's refusal, e.g. RBAC
    openbao_pod: str = "openbao-pod-uid/0"  # uid/restarts of OpenBao's pod
    listings: int = 0
    node_address: str = "172.18.0.2"

    def get_json(self, *args: str) -> dict[str, Any]:
        if args[:1] == ("nodes",):
            addresses = [{"type": "InternalIP", "address": self.node_address}]
            return {"items": [{"kind": "Node", "status": {"addresses": addresses}}]}
        self.listings += 1
        if self.refuse_listing is not None:
            raise ToolError(self.refuse_listing)
        return {"items": [{"kind": m["kind"], "metadata": dict(m["metadata"])} for m in self.live]}

    def list_objects(self, kinds: list[str], **_: object) -> list[dict[str, Any]]:
        if kinds == ["Node"]:
            nodes: list[dict[str, Any]] = self.get_json("nodes")["items"]
            return nodes
        if kinds == ["Pod"]:
            uid, restarts = self.openbao_pod.split("/")
            statuses = [{"restartCount": int(restarts)}]
            return [
                {"kind": "Pod", "metadata": {"uid": uid}, "status": {"containerStatuses": statuses}}
            ]
        listed: list[dict[str, Any]] = self.get_json(",".join(kinds))["items"]
        return listed

    def run(self, *args: str, check: bool = True, timeout: float = 30) -> Result:
        raise AssertionError(f"unexpected kubectl {' '.join(args)}")


@pytest.fixture
def cluster(monkeypatch: pytest.MonkeyPatch) -> ClusterDouble:
    double = ClusterDouble()
    monkeypatch.setattr(Kubectl, "get_json", lambda _, *args: double.get_json(*args))
    monkeypatch.setattr(Kubectl, "list_objects", lambda _, kinds, **kw: double.list_objects(kinds))
    monkeypatch.setattr(Kubectl, "watch_changes", lambda *_: None)  # the waits poll
    monkeypatch.setattr(Kubectl, "run", lambda _, *args, **kw: double.run(*args, **kw))
    return double
