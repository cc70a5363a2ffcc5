"""Reads from the Kubernetes API server without a kubectl process.

Every `kubectl get` costs 0.1-0.3 s of process start and API discovery; a
re-run of `devenv up` (each phase confirming that its objects are there) and
the readiness wait pay it again and again. This reads lists of the kinds devenv
applies over one HTTPS request each (about 10 ms), with the credentials of the
kubeconfig when they are plain data: client certificates and bearer tokens
(kind's, k3d's, minikube's). For anything else (exec plugins, auth providers, a
proxy) ``KubeApi.for_context`` gives None and the caller runs kubectl, which
knows them all. Only reads: every write still goes through kubectl.
"""

from __future__ import annotations

import base64
import json
import os
import ssl
import tempfile
from collections.abc import Iterator, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

import httpx
import yaml

from devenv.errors import ToolError

__all__ = ["KubeApi", "load_kubeconfig_entry"]

# kind -> (API path prefix, resource, namespaced): the kinds devenv applies and reads.
_KINDS: Mapping[str, tuple[str, str, bool]] = {
    "ConfigMap": ("api/v1", "configmaps", True),
    "LimitRange": ("api/v1", "limitranges", True),
    "Namespace": ("api/v1", "namespaces", False),
    "Node": ("api/v1", "nodes", False),
    "Pod": ("api/v1", "pods", True),
    "ResourceQuota": ("api/v1", "resourcequotas", True),
    "Secret": ("api/v1", "secrets", True),
    "Service": ("api/v1", "services", True),
    "ServiceAccount": ("api/v1", "serviceaccounts", True),
    "DaemonSet": ("apis/apps/v1", "daemonsets", True),
    "Deployment": ("apis/apps/v1", "deployments", True),
    "StatefulSet": ("apis/apps/v1", "statefulsets", True),
    "EndpointSlice": ("apis/discovery.k8s.io/v1", "endpointslices", True),
    "NetworkPolicy": ("apis/networking.k8s.io/v1", "networkpolicies", True),
    "PodDisruptionBudget": ("apis/policy/v1", "poddisruptionbudgets", True),
    "ClusterRole": ("apis/rbac.authorization.k8s.io/v1", "clusterroles", False),
    "ClusterRoleBinding": ("apis/rbac.authorization.k8s.io/v1", "clusterrolebindings", False),
    "Role": ("apis/rbac.authorization.k8s.io/v1", "roles", True),
    "RoleBinding": ("apis/rbac.authorization.k8s.io/v1", "rolebindings", True),
    "MutatingWebhookConfiguration": (
        "apis/admissionregistration.k8s.io/v1", "mutatingwebhookconfigurations", False,
    ),
}  # fmt: skip
_PLAIN_USER_KEYS = {
    "client-certificate", "client-certificate-data", "client-key", "client-key-data",
    "token", "tokenFile",
}  # fmt: skip


@dataclass(frozen=True)
class KubeconfigEntry:
    """What one context needs for a request: the server and the credentials."""

    server: str
    ca_pem: str | None  # None: the system's trust store
    insecure: bool
    client_cert_pem: str | None
    client_key_pem: str | None
    token: str | None


def _kubeconfig_files(environ: Mapping[str, str]) -> list[Path]:
    listed = environ.get("KUBECONFIG")
    if listed:
        return [Path(p) for p in listed.split(os.pathsep) if p]
    return [Path.home() / ".kube" / "config"]


def _read(path: Path) -> dict[str, Any]:
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError):
        return {}
    return data if isinstance(data, dict) else {}


def _named(files: Sequence[tuple[Path, dict[str, Any]]], section: str, name: str) -> Any:
    """The first entry of that name across the files (kubectl's merge: first wins),
    with the directory its relative paths are resolved against."""
    for path, data in files:
        for entry in data.get(section) or []:
            if isinstance(entry, dict) and entry.get("name") == name:
                return path.parent, entry.get(section[:-1]) or {}
    return None


def _data_or_file(entry: Mapping[str, Any], key: str, base: Path) -> str | None:
    if entry.get(f"{key}-data"):
        return base64.b64decode(entry[f"{key}-data"]).decode()
    if entry.get(key):
        return (base / str(entry[key])).read_text(encoding="utf-8")
    return None


def load_kubeconfig_entry(
    context: str | None, environ: Mapping[str, str] = os.environ
) -> KubeconfigEntry | None:
    """The server and plain-data credentials of ``context`` (None: the current one);
    None when they are not plain data or the kubeconfig does not have them."""
    files = [(path, _read(path)) for path in _kubeconfig_files(environ)]
    if context is None:
        context = next((d["current-context"] for _, d in files if d.get("current-context")), None)
        if context is None:
            return None
    found = _named(files, "contexts", context)
    if found is None:
        return None
    _, ctx = found
    cluster_found = _named(files, "clusters", str(ctx.get("cluster")))
    user_found = _named(files, "users", str(ctx.get("user")))
    if cluster_found is None or user_found is None:
        return None
    (cluster_base, cluster), (user_base, user) = cluster_found, user_found
    if set(user) - _PLAIN_USER_KEYS or cluster.get("proxy-url") or not cluster.get("server"):
        return None  # exec plugins, auth providers, basic auth, proxies: kubectl's job
    try:
        token = user.get("token") or (
            (user_base / user["tokenFile"]).read_text(encoding="utf-8").strip()
            if user.get("tokenFile")
            else None
        )
        return KubeconfigEntry(
            server=str(cluster["server"]).rstrip("/"),
            ca_pem=_data_or_file(cluster, "certificate-authority", cluster_base),
            insecure=bool(cluster.get("insecure-skip-tls-verify")),
            client_cert_pem=_data_or_file(user, "client-certificate", user_base),
            client_key_pem=_data_or_file(user, "client-key", user_base),
            token=token,
        )
    except OSError:
        return None


@contextmanager
def _private_file(text: str) -> Iterator[str]:
    """A 0600 file holding ``text`` while ssl loads it (it reads only from paths)."""
    descriptor, path = tempfile.mkstemp(prefix="devenv-kube-")
    try:
        with os.fdopen(descriptor, "w", encoding="utf-8") as handle:
            handle.write(text)
        yield path
    finally:
        Path(path).unlink(missing_ok=True)


def _ssl_context(entry: KubeconfigEntry) -> ssl.SSLContext:
    context = ssl.create_default_context(cadata=entry.ca_pem) if entry.ca_pem else (
        ssl.create_default_context()
    )  # fmt: skip
    if entry.insecure:
        context.check_hostname = False
        context.verify_mode = ssl.CERT_NONE
    if entry.client_cert_pem and entry.client_key_pem:
        with (
            _private_file(entry.client_cert_pem) as cert,
            _private_file(entry.client_key_pem) as key,
        ):
            context.load_cert_chain(cert, key)
    return context


class KubeApi:
    """Lists of objects from one context's API server."""

    def __init__(self, context: str | None, entry: KubeconfigEntry) -> None:
        self.context = context
        self._entry = entry
        self._ssl = _ssl_context(entry)

    @staticmethod
    @cache
    def for_context(context: str | None) -> KubeApi | None:
        """A reader for ``context``; None when kubectl must do the reading."""
        entry = load_kubeconfig_entry(context)
        if entry is None:
            return None
        try:
            return KubeApi(context, entry)
        except (ssl.SSLError, ValueError):
            return None

    @staticmethod
    def knows(kind: str) -> bool:
        return kind in _KINDS

    def of_kind(
        self, kind: str, *, namespace: str | None = None, selector: str | None = None
    ) -> list[dict[str, Any]]:
        """The objects of ``kind`` (in ``namespace``, or in all), each with its kind set
        (a list's items lack it) as `kubectl get -o json` gives them."""
        prefix, resource, namespaced = _KINDS[kind]
        where = f"namespaces/{namespace}/" if namespace and namespaced else ""
        params = {"labelSelector": selector} if selector else {}
        data = self._get(f"/{prefix}/{where}{resource}", params)
        api_version = prefix.removeprefix("apis/").removeprefix("api/")
        return [
            {"apiVersion": api_version, "kind": kind, **item} for item in data.get("items") or []
        ]

    def of_kinds(
        self, kinds: Sequence[str], *, namespace: str | None = None, selector: str | None = None
    ) -> list[dict[str, Any]]:
        """``of_kind`` for several kinds, side by side (one request each)."""
        with ThreadPoolExecutor(max_workers=min(8, len(kinds) or 1)) as pool:
            lists = pool.map(
                lambda k: self.of_kind(k, namespace=namespace, selector=selector), kinds
            )
            return [item for listed in lists for item in listed]

    def get(self, kind: str, name: str, *, namespace: str | None = None) -> dict[str, Any]:
        prefix, resource, namespaced = _KINDS[kind]
        where = f"namespaces/{namespace}/" if namespace and namespaced else ""
        return self._get(f"/{prefix}/{where}{resource}/{name}", {})

    def watch(self, kind: str, *, selector: str | None = None, seconds: int = 30) -> Iterator[str]:
        """The type of each change to the objects of ``kind`` in every namespace (ADDED,
        MODIFIED, DELETED: the current ones come first as ADDED), as the API server
        sends them, until it ends the watch after ``seconds``."""
        prefix, resource, _ = _KINDS[kind]
        params = {"watch": "1", "timeoutSeconds": str(seconds)}
        if selector:
            params["labelSelector"] = selector
        timeout = httpx.Timeout(10, read=seconds + 10)
        try:
            with (
                httpx.Client(verify=self._ssl, timeout=timeout) as client,
                client.stream(
                    "GET", f"{self._entry.server}/{prefix}/{resource}",
                    params=params, headers=self._headers(),
                ) as response,
            ):  # fmt: skip
                if response.status_code != 200:
                    raise ToolError(f"watch {resource}: {response.status_code}")
                for line in response.iter_lines():
                    if line:
                        yield str(json.loads(line).get("type", ""))
        except httpx.HTTPError as error:
            raise ToolError(f"watch {resource}: {type(error).__name__}") from None

    def _headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self._entry.token}"} if self._entry.token else {}

    def _get(self, path: str, params: Mapping[str, str]) -> dict[str, Any]:
        headers = self._headers()
        try:
            with httpx.Client(verify=self._ssl, timeout=30) as client:
                response = client.get(self._entry.server + path, params=params, headers=headers)
        except httpx.HTTPError as error:
            raise ToolError(
                f"the API server of {self.context or 'the current context'} does not answer"
                f" ({type(error).__name__})",
                hint=f"kubectl --context {self.context} cluster-info",
            ) from None
        if response.status_code != 200:
            try:
                reason = str(response.json().get("message", ""))
            except ValueError:  # not a Status object
                reason = response.text[:200]
            raise ToolError(f"GET {path}: {response.status_code} {reason}".strip())
        data: dict[str, Any] = response.json()
        return data
