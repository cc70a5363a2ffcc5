"""kube-router as a NetworkPolicy enforcer only (iptables and ipset; no routing,
no service proxy), beside whatever pod network the cluster runs.

kindnet enforces policies through an nftables ``queue`` rule; on kernels
without CONFIG_NFT_QUEUE that rule cannot load and every connection passes
(kind issues #3705, #3789). `devenv up --policy-enforcer kube-router` installs
this instead. The objects follow kube-router's own firewall-only DaemonSet and
RBAC, with the in-cluster service account in place of a kubeconfig file.
"""

from __future__ import annotations

from devenv.render.objects import Manifest, metadata
from devenv.topology.images import ImageSet

__all__ = ["ENFORCERS", "KUBE_ROUTER", "render_policy_enforcer"]

KUBE_ROUTER = "kube-router"
ENFORCERS = ("kindnet", KUBE_ROUTER)  # kindnet: the cluster's own, nothing installed
NAMESPACE = "kube-system"
HEALTH_PORT = 20244
_LABELS = {"k8s-app": KUBE_ROUTER}


def _rbac() -> list[Manifest]:
    def rule(groups: list[str], resources: list[str], verbs: list[str]) -> Manifest:
        return {"apiGroups": groups, "resources": resources, "verbs": verbs}

    read = ["get", "list", "watch"]
    return [
        {
            "apiVersion": "v1",
            "kind": "ServiceAccount",
            "metadata": metadata(KUBE_ROUTER, NAMESPACE),
        },
        {
            "apiVersion": "rbac.authorization.k8s.io/v1",
            "kind": "ClusterRole",
            "metadata": metadata(KUBE_ROUTER),
            "rules": [
                rule([""], ["namespaces", "pods", "services", "nodes", "endpoints"], read),
                rule(["networking.k8s.io"], ["networkpolicies"], read),
                rule(["discovery.k8s.io"], ["endpointslices"], read),
                rule(["coordination.k8s.io"], ["leases"], ["get", "create", "update"]),
                rule([""], ["services/status"], ["update"]),
            ],
        },
        {
            "apiVersion": "rbac.authorization.k8s.io/v1",
            "kind": "ClusterRoleBinding",
            "metadata": metadata(KUBE_ROUTER),
            "roleRef": {
                "apiGroup": "rbac.authorization.k8s.io",
                "kind": "ClusterRole",
                "name": KUBE_ROUTER,
            },
            "subjects": [{"kind": "ServiceAccount", "name": KUBE_ROUTER, "namespace": NAMESPACE}],
        },
    ]


def _daemon_set(image: str) -> Manifest:
    host_path = {"name": "lib-modules", "hostPath": {"path": "/lib/modules"}}
    lock = {
        "name": "xtables-lock",
        "hostPath": {"path": "/run/xtables.lock", "type": "FileOrCreate"},
    }
    container = {
        "name": KUBE_ROUTER,
        "image": image,
        "imagePullPolicy": "IfNotPresent",
        "args": [
            "--run-router=false",
            "--run-firewall=true",
            "--run-service-proxy=false",
            f"--health-port={HEALTH_PORT}",
        ],
        "env": [{"name": "NODE_NAME", "valueFrom": {"fieldRef": {"fieldPath": "spec.nodeName"}}}],
        # It programs the node's iptables and ipsets: privileged by nature.
        "securityContext": {"privileged": True},
        "livenessProbe": {
            "httpGet": {"path": "/healthz", "port": HEALTH_PORT},
            "initialDelaySeconds": 10,
            "periodSeconds": 3,
        },
        "resources": {"requests": {"cpu": "50m", "memory": "64Mi"}},
        "volumeMounts": [
            {"name": "lib-modules", "mountPath": "/lib/modules", "readOnly": True},
            {"name": "xtables-lock", "mountPath": "/run/xtables.lock"},
        ],
    }
    return {
        "apiVersion": "apps/v1",
        "kind": "DaemonSet",
        "metadata": metadata(KUBE_ROUTER, NAMESPACE, labels=_LABELS),
        "spec": {
            "selector": {"matchLabels": dict(_LABELS)},
            "template": {
                "metadata": {"labels": dict(_LABELS)},
                "spec": {
                    "priorityClassName": "system-node-critical",
                    "serviceAccountName": KUBE_ROUTER,
                    "hostNetwork": True,
                    "hostPID": True,
                    "tolerations": [
                        {"effect": "NoSchedule", "operator": "Exists"},
                        {"key": "CriticalAddonsOnly", "operator": "Exists"},
                        {"effect": "NoExecute", "operator": "Exists"},
                    ],
                    "containers": [container],
                    "volumes": [host_path, lock],
                },
            },
        },
    }


def render_policy_enforcer(enforcer: str, images: ImageSet) -> list[Manifest]:
    """The objects that install ``enforcer`` (none for kindnet, the cluster's own)."""
    if enforcer == KUBE_ROUTER:
        return [*_rbac(), _daemon_set(images.ref(KUBE_ROUTER))]
    return []
