"""kubectl, through the one subprocess wrapper: argument builders and the few
operations devenv needs (get as JSON, apply from stdin, port-forward, raw GET
through the API server)."""

from __future__ import annotations

import contextlib
import ipaddress
import json
import re
import select
import threading
import time
from collections.abc import Iterator, Mapping, Sequence
from typing import Any

from devenv.errors import CommandFailed, ToolError
from devenv.tools.kube_api import KubeApi
from devenv.tools.process import Result, run, spawn

__all__ = ["Kubectl", "as_manifest", "listed_objects"]

WATCH_SECONDS = 30  # how long one watch request lasts before the next one starts
_FORWARDING = re.compile(r"Forwarding from 127\.0\.0\.1:(\d+)")
_LAST_APPLIED = "kubectl.kubernetes.io/last-applied-configuration"


def listed_objects(data: Mapping[str, Any]) -> list[dict[str, Any]]:
    """The objects in ``kubectl get -o json`` output: a List's items, or the one
    object kubectl prints bare when a single name was asked for."""
    if "items" in data and str(data.get("kind", "")).endswith("List"):
        return list(data["items"])
    return [dict(data)]


def as_manifest(obj: Mapping[str, Any]) -> dict[str, Any]:
    """An object read from the API server, shaped as a manifest: no status, no
    server-set metadata, no copy of the last applied manifest."""
    metadata = obj.get("metadata") or {}
    kept: dict[str, Any] = {
        key: metadata[key] for key in ("name", "namespace", "labels") if key in metadata
    }
    annotations = {
        k: v for k, v in (metadata.get("annotations") or {}).items() if k != _LAST_APPLIED
    }
    if annotations:
        kept["annotations"] = annotations
    manifest = {"apiVersion": obj.get("apiVersion"), "kind": obj.get("kind"), "metadata": kept}
    if "spec" in obj:
        manifest["spec"] = obj["spec"]
    return manifest


class Kubectl:
    """kubectl bound to one context (None: the current one)."""

    def __init__(self, context: str | None = None) -> None:
        self.context = context

    def argv(self, *args: str) -> list[str]:
        prefix = ["kubectl"] + (["--context", self.context] if self.context else [])
        return [*prefix, *args]

    def run(self, *args: str, check: bool = True, timeout: float = 30) -> Result:
        """Run ``kubectl [--context C] ARGS``; the result even when it failed, unless ``check``."""
        return run(self.argv(*args), check=check, timeout=timeout)

    def get_json(self, *args: str) -> dict[str, Any]:
        result = run(self.argv("get", *args, "-o", "json"), timeout=60)
        data: dict[str, Any] = json.loads(result.stdout)
        return data

    def list_objects(
        self, kinds: Sequence[str], *, namespace: str | None = None, selector: str | None = None
    ) -> list[dict[str, Any]]:
        """The objects of these kinds (in ``namespace``, else in all), each with its
        kind: read straight from the API server where the kubeconfig's credentials
        allow (``devenv.tools.kube_api``: no process, about 10 ms a kind), else by
        `kubectl get`."""
        api = KubeApi.for_context(self.context)
        if api is not None and all(KubeApi.knows(kind) for kind in kinds):
            return api.of_kinds(kinds, namespace=namespace, selector=selector)
        scope = ["-n", namespace] if namespace else ["-A"]
        labels = ["-l", selector] if selector else []
        return listed_objects(self.get_json(",".join(kinds), *scope, *labels))

    def watch_changes(
        self, kinds: Sequence[str], selector: str, stop: threading.Event
    ) -> threading.Event | None:
        """An event set whenever an object of these kinds (with ``selector``, in every
        namespace) changes: a watch on the API server, a thread per kind, until
        ``stop``. None when only kubectl can read this cluster (then callers poll)."""
        api = KubeApi.for_context(self.context)
        if api is None:
            return None
        changed = threading.Event()

        def follow(kind: str) -> None:
            while not stop.is_set():
                try:
                    for _ in api.watch(kind, selector=selector, seconds=WATCH_SECONDS):
                        changed.set()
                        if stop.is_set():
                            return
                except ToolError:  # the caller's own reading reports what is wrong
                    stop.wait(1.0)

        for kind in kinds:
            threading.Thread(target=follow, args=(kind,), daemon=True, name=f"watch-{kind}").start()
        return changed

    def namespace_uid(self, name: str) -> str | None:
        """A namespace's UID (kube-system's is the cluster's identity); None when the
        cluster does not answer or has no such namespace."""
        api = KubeApi.for_context(self.context)
        if api is not None:
            try:
                return str(api.get("Namespace", name)["metadata"]["uid"])
            except ToolError:
                return None
        result = self.run(
            "get", "namespace", name, "-o", "jsonpath={.metadata.uid}", check=False
        )  # fmt: skip
        return result.stdout.strip() or None if result.returncode == 0 else None

    def read_namespaces(
        self, namespaces: Sequence[str], *, containing: Sequence[str]
    ) -> list[dict[str, Any]]:
        """The named Namespaces, then every object of the ``containing`` kinds in each,
        as manifests. One `get` per namespace, not -A: rights in these namespaces
        (and to get them) suffice."""
        found = listed_objects(self.get_json("namespaces", *namespaces))
        for namespace in namespaces:
            found += listed_objects(self.get_json(",".join(containing), "-n", namespace))
        return [as_manifest(obj) for obj in found]

    def namespace_names(self, *args: str, timeout: float = 30) -> set[str]:
        """The names `kubectl get namespaces ARGS -o name` lists."""
        listed = self.run("get", "namespaces", *args, "-o", "name", timeout=timeout).stdout
        return {line.removeprefix("namespace/") for line in listed.split()}

    def node_addresses(self) -> list[ipaddress.IPv4Address]:
        """Every node's InternalIP (IPv4): where the kubelet and the API server connect from."""
        nodes = self.list_objects(["Node"])
        found = []
        for node in nodes:
            for entry in node.get("status", {}).get("addresses", []):
                if entry.get("type") != "InternalIP":
                    continue
                with contextlib.suppress(ValueError):  # an IPv6 address on a dual-stack node
                    found.append(ipaddress.IPv4Address(entry["address"]))
        return found

    def raw(self, path: str, *, timeout: float = 15) -> str:
        """GET through the API server (e.g. a pod's port via its proxy subresource)."""
        return run(self.argv("get", "--raw", path), timeout=timeout).stdout

    def apply(self, manifest_yaml: str, *extra: str) -> str:
        """Apply from stdin: secrets in the manifests never reach argv or logs."""
        argv = self.argv("apply", *extra, "-f", "-")
        return run(argv, input_text=manifest_yaml, timeout=300).stdout

    @contextlib.contextmanager
    def port_forward(
        self, namespace: str, target: str, port: int, *, timeout: float = 20
    ) -> Iterator[int]:
        """Forward a free local port to ``target`` (e.g. svc/openbao); yields the local port."""
        process = spawn(self.argv("port-forward", "-n", namespace, target, f":{port}"))
        try:
            yield self._local_port(process, timeout, f"{namespace}/{target}:{port}")
        finally:
            process.terminate()
            with contextlib.suppress(Exception):
                process.wait(timeout=5)

    @staticmethod
    def _local_port(process: Any, timeout: float, what: str) -> int:
        deadline = time.monotonic() + timeout
        assert process.stdout is not None  # noqa: S101 - spawn pipes stdout
        while time.monotonic() < deadline:
            if process.poll() is not None:
                stderr = process.stderr.read() if process.stderr else ""
                raise CommandFailed(["kubectl", "port-forward", what], process.returncode, stderr)
            ready, _, _ = select.select([process.stdout], [], [], 0.2)
            if ready:
                match = _FORWARDING.search(process.stdout.readline())
                if match:
                    return int(match.group(1))
        raise ToolError(
            f"kubectl port-forward to {what} did not start within {timeout:.0f}s",
            hint="is the pod running? `devenv status` shows it",
        )


def pod_proxy_path(namespace: str, pod: str, port: int, path: str, *, https: bool) -> str:
    scheme = "https:" if https else ""
    return f"/api/v1/namespaces/{namespace}/pods/{scheme}{pod}:{port}/proxy{path}"


# The containers the OpenBao agent injector adds to a pod.
AGENT_CONTAINER = "vault-agent"
AGENT_INIT_CONTAINER = "vault-agent-init"


def container_names(pod: dict[str, Any], key: str = "containers") -> Sequence[str]:
    return [c["name"] for c in pod.get("spec", {}).get(key, [])]
