"""cert-manager in finops-system (§2.1; §6.2 "API gateway TLS certificates:
cert-manager, K8s Secret (auto-renewed)"): its controller, webhook and
cainjector, with RBAC narrowed to the controllers devenv enables, and the dev
CA chain it runs: a self-signed root -> the CA ClusterIssuer -> a Certificate
for each HTTPS stub (the api-gateway), written to the Secret the stub mounts.

The CRDs are cert-manager's own, taken at run time from the pinned release
(``devenv.apply.phases.cert_manager``), never copied here; ``label_crds`` only
marks them as devenv's so `down` finds them.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from devenv.render.context import RenderContext
from devenv.render.objects import (
    RESTRICTED_CONTAINER,
    Manifest,
    component_objects,
    container_ports,
    metadata,
    pod_security,
    probe_timing,
)
from devenv.render.stubs import tls_secret_name
from devenv.topology.labels import COMPONENT_LABEL, MANAGED_BY, PART_OF
from devenv.topology.model import ComponentSpec, Topology

__all__ = [
    "CA_ISSUER",
    "CERT_MANAGER_COMPONENTS",
    "ROOT_CA_SECRET",
    "https_stubs",
    "is_issuance_object",
    "label_crds",
    "render_cainjector",
    "render_controller",
    "render_webhook",
]

CONTROLLER, WEBHOOK, CAINJECTOR = "cert-manager", "cert-manager-webhook", "cert-manager-cainjector"
CERT_MANAGER_COMPONENTS = (CONTROLLER, WEBHOOK, CAINJECTOR)
CERT_MANAGER_UID = 1000  # the official images' user
WEBHOOK_CA_SECRET = f"{WEBHOOK}-ca"  # the webhook's own serving CA (it makes it)
SELF_SIGNED_ISSUER = "finops-dev-selfsigned"
ROOT_CA_SECRET = "finops-dev-root-ca"  # noqa: S105 - a Secret's name
CA_ISSUER = "finops-dev-ca"
# What the controller runs: the CA and self-signed issuers and the Certificate
# machinery, no ACME, Venafi or Vault (nothing here could reach them).
CONTROLLERS = (
    "issuers", "clusterissuers", "certificaterequests-issuer-ca",
    "certificaterequests-issuer-selfsigned", "certificaterequests-approver",
    "certificates-trigger", "certificates-issuing", "certificates-key-manager",
    "certificates-request-manager", "certificates-readiness", "certificates-revision-manager",
    "certificates-metrics",
)  # fmt: skip
_CERT_MANAGER_GROUPS = ["cert-manager.io", "acme.cert-manager.io"]


def is_issuance_object(manifest: Manifest) -> bool:
    """Issuers and Certificates: applied once the webhook serves and has its CA bundle."""
    return str(manifest.get("apiVersion", "")).startswith("cert-manager.io/")


def label_crds(crds: Iterable[Manifest]) -> list[Manifest]:
    """cert-manager's CRDs as published, plus devenv's labels (what `down` deletes by)."""
    labelled = []
    for crd in crds:
        meta = dict(crd["metadata"])
        meta["labels"] = {**(meta.get("labels") or {}), **MANAGED_BY, COMPONENT_LABEL: CONTROLLER}
        labelled.append({**crd, "metadata": meta})
    return labelled


def _owned(name: str, namespace: str | None = None) -> Manifest:
    return metadata(name, namespace, labels={COMPONENT_LABEL: CONTROLLER})


def _cluster_issuer(name: str) -> Manifest:
    return {"name": name, "kind": "ClusterIssuer", "group": "cert-manager.io"}


def _rule(groups: list[str], resources: list[str], verbs: list[str], **extra: Any) -> Manifest:
    return {"apiGroups": groups, "resources": resources, "verbs": verbs, **extra}


def _cluster_role(component: ComponentSpec, rules: list[Manifest]) -> list[Manifest]:
    """A ClusterRole for ``component``'s service account, and its binding."""
    label = {COMPONENT_LABEL: component.name}
    return [
        {
            "apiVersion": "rbac.authorization.k8s.io/v1",
            "kind": "ClusterRole",
            "metadata": metadata(component.name, labels=label),
            "rules": rules,
        },
        {
            "apiVersion": "rbac.authorization.k8s.io/v1",
            "kind": "ClusterRoleBinding",
            "metadata": metadata(component.name, labels=label),
            "roleRef": {
                "apiGroup": "rbac.authorization.k8s.io",
                "kind": "ClusterRole",
                "name": component.name,
            },
            "subjects": [
                {"kind": "ServiceAccount", "name": component.name, "namespace": component.namespace}
            ],
        },
    ]


def _container(
    context: RenderContext, component: ComponentSpec, args: list[str], probes: Manifest
) -> Manifest:
    return {
        "name": component.name,
        "image": context.image(component.image),
        "imagePullPolicy": "IfNotPresent",
        "args": ["--v=2", *args],
        "env": [
            {
                "name": "POD_NAMESPACE",
                "valueFrom": {"fieldRef": {"fieldPath": "metadata.namespace"}},
            }
        ],
        "ports": container_ports(component),
        **probes,
        "resources": context.sizing(component).container.as_resources(),
        "securityContext": RESTRICTED_CONTAINER,
    }


def _http_probes(component: ComponentSpec, *, live: str, ready: str) -> Manifest:
    """Liveness and readiness on the probe port (the first), checked every second
    while the program starts: the Go programs serve within a second or two."""
    port = component.primary_port.name

    def probe(path: str, failures: int) -> Manifest:
        return probe_timing(
            {"httpGet": {"path": path, "port": port}}, period=5, timeout=3, failures=failures
        )

    return {
        "livenessProbe": probe(live, 6),
        "readinessProbe": probe(ready, 2),
        "startupProbe": {**probe(ready, 120), "periodSeconds": 1},
    }


def _workload(
    context: RenderContext, component: ComponentSpec, container: Manifest
) -> list[Manifest]:
    pod_spec = {"securityContext": pod_security(CERT_MANAGER_UID), "containers": [container]}
    return component_objects(context, component, pod_spec=pod_spec, token=True)


def render_controller(context: RenderContext, component: ComponentSpec) -> list[Manifest]:
    """The controller, its RBAC and the dev CA chain it issues from."""
    args = [
        f"--cluster-resource-namespace={component.namespace}",
        "--leader-elect=false",  # one replica in every profile here
        f"--controllers={','.join(CONTROLLERS)}",
        f"--metrics-listen-address=0.0.0.0:{component.ports[1].port}",
    ]
    probes = _http_probes(component, live="/livez", ready="/livez")
    rules = [
        _rule(["cert-manager.io"],
              ["issuers", "clusterissuers", "certificates", "certificaterequests"],
              ["get", "list", "watch", "update", "patch"]),
        _rule(["cert-manager.io"], ["certificaterequests"], ["create", "delete"]),
        _rule(["cert-manager.io"],
              ["issuers/status", "clusterissuers/status", "certificates/status",
               "certificaterequests/status"],
              ["update", "patch"]),
        _rule(["cert-manager.io"], ["certificates/finalizers", "certificaterequests/finalizers"],
              ["update"]),
        # The approver approves requests for cert-manager's own issuers only.
        _rule(["cert-manager.io"], ["signers"], ["approve"],
              resourceNames=["issuers.cert-manager.io/*", "clusterissuers.cert-manager.io/*"]),
        _rule(["acme.cert-manager.io"], ["orders", "challenges"], ["get", "list", "watch"]),
        # Certificates write their Secrets wherever the Certificate is.
        _rule([""], ["secrets"], ["get", "list", "watch", "create", "update", "patch", "delete"]),
        _rule(["", "events.k8s.io"], ["events"], ["create", "patch"]),
    ]  # fmt: skip
    return [
        *_workload(context, component, _container(context, component, args, probes)),
        *_cluster_role(component, rules),
        *_ca_chain(context.topology, component),
        *_stub_certificates(context, component),
    ]


def _ca_chain(topology: Topology, controller: ComponentSpec) -> list[Manifest]:
    """Self-signed root (a CA certificate in the cluster resource namespace) -> the
    CA ClusterIssuer every environment certificate comes from."""
    cluster = topology.cluster.name
    return [
        {
            "apiVersion": "cert-manager.io/v1",
            "kind": "ClusterIssuer",
            "metadata": _owned(SELF_SIGNED_ISSUER),
            "spec": {"selfSigned": {}},
        },
        {
            "apiVersion": "cert-manager.io/v1",
            "kind": "Certificate",
            "metadata": _owned(ROOT_CA_SECRET, controller.namespace),
            "spec": {
                "isCA": True,
                "commonName": f"{cluster} dev CA",
                "secretName": ROOT_CA_SECRET,
                "secretTemplate": {"labels": dict(MANAGED_BY)},
                "duration": "87600h",  # ten years: only the leaves renew
                "privateKey": {"algorithm": "ECDSA", "size": 256},
                "issuerRef": {
                    "name": SELF_SIGNED_ISSUER,
                    "kind": "ClusterIssuer",
                    "group": "cert-manager.io",
                },
            },
        },
        {
            "apiVersion": "cert-manager.io/v1",
            "kind": "ClusterIssuer",
            "metadata": _owned(CA_ISSUER),
            "spec": {"ca": {"secretName": ROOT_CA_SECRET}},
        },
    ]


def https_stubs(topology: Topology) -> list[ComponentSpec]:
    """The stubs that serve HTTPS (the api-gateway): cert-manager issues their certificates."""
    return [c for c in topology.components.values() if c.is_stub and c.probe_scheme == "HTTPS"]


def _stub_certificates(context: RenderContext, controller: ComponentSpec) -> list[Manifest]:
    lifetime = context.profile.certificates
    certificates = []
    for stub in https_stubs(context.topology):
        service = f"{stub.name}.{stub.namespace}.svc"
        certificates.append(
            {
                "apiVersion": "cert-manager.io/v1",
                "kind": "Certificate",
                "metadata": _owned(tls_secret_name(stub), stub.namespace),
                "spec": {
                    "secretName": tls_secret_name(stub),
                    # devenv's label, so drift checks and `down` see the Secret.
                    "secretTemplate": {"labels": dict(MANAGED_BY)},
                    "duration": lifetime.duration,
                    "renewBefore": lifetime.renew_before,
                    "commonName": stub.name,
                    "dnsNames": [stub.name, f"{stub.name}.{stub.namespace}", service,
                                 f"{service}.cluster.local", "localhost"],
                    # The kind port mapping publishes it on the host's loopback.
                    "ipAddresses": ["127.0.0.1"],
                    "usages": ["server auth", "digital signature", "key encipherment"],
                    "privateKey": {"algorithm": "ECDSA", "size": 256, "rotationPolicy": "Always"},
                    "issuerRef": _cluster_issuer(CA_ISSUER),
                },
            }
        )  # fmt: skip
    return certificates


def render_webhook(context: RenderContext, component: ComponentSpec) -> list[Manifest]:
    """The admission webhook (it makes its own serving CA, which the cainjector
    copies into the webhook configurations), its RBAC and those configurations."""
    namespace, https = component.namespace, component.ports[1]
    hosts = [component.name, f"{component.name}.{namespace}", f"{component.name}.{namespace}.svc"]
    args = [
        f"--secure-port={https.port}",
        f"--healthz-port={component.primary_port.port}",
        f"--dynamic-serving-ca-secret-namespace={namespace}",
        f"--dynamic-serving-ca-secret-name={WEBHOOK_CA_SECRET}",
        f"--dynamic-serving-dns-names={','.join(hosts)}",
    ]
    probes = _http_probes(component, live="/livez", ready="/healthz")
    # Its serving CA only, by name (creating cannot be narrowed by name).
    owned = metadata(component.name, namespace, labels={COMPONENT_LABEL: component.name})
    own_secret = [
        {
            "apiVersion": "rbac.authorization.k8s.io/v1",
            "kind": "Role",
            "metadata": owned,
            "rules": [
                _rule([""], ["secrets"], ["get", "list", "watch", "update"],
                      resourceNames=[WEBHOOK_CA_SECRET]),
                _rule([""], ["secrets"], ["create"]),
            ],
        },
        {
            "apiVersion": "rbac.authorization.k8s.io/v1",
            "kind": "RoleBinding",
            "metadata": owned,
            "roleRef": {
                "apiGroup": "rbac.authorization.k8s.io", "kind": "Role", "name": component.name,
            },
            "subjects": [
                {"kind": "ServiceAccount", "name": component.name, "namespace": namespace}
            ],
        },
    ]  # fmt: skip
    # It asks the API server whether a requester may use an issuer (approval checks).
    reviews = [_rule(["authorization.k8s.io"], ["subjectaccessreviews"], ["create"])]
    return [
        *_workload(context, component, _container(context, component, args, probes)),
        *own_secret,
        *_cluster_role(component, reviews),
        *_webhook_configurations(component),
    ]


def _webhook_configurations(component: ComponentSpec) -> list[Manifest]:
    namespace, https = component.namespace, component.ports[1]
    # The cainjector copies the webhook's CA into caBundle.
    annotations = {"cert-manager.io/inject-ca-from-secret": f"{namespace}/{WEBHOOK_CA_SECRET}"}

    def webhook(path: str, rules: list[Manifest]) -> Manifest:
        return {
            "name": "webhook.cert-manager.io",
            "admissionReviewVersions": ["v1"],
            "clientConfig": {
                "service": {"name": component.name, "namespace": namespace, "path": path,
                            "port": https.port},
            },
            # Refuses what it cannot check, as upstream's does; only the platform's
            # namespaces (cluster-scoped issuers always), so a shared cluster's other
            # cert-manager resources never wait on this one.
            "failurePolicy": "Fail",
            "matchPolicy": "Equivalent",
            "sideEffects": "None",
            "timeoutSeconds": 10,
            "namespaceSelector": {"matchLabels": dict(PART_OF)},
            "rules": rules,
        }  # fmt: skip

    def configuration(kind: str, hook: Manifest) -> Manifest:
        return {
            "apiVersion": "admissionregistration.k8s.io/v1",
            "kind": kind,
            "metadata": metadata(
                component.name, labels={COMPONENT_LABEL: component.name}, annotations=annotations
            ),
            "webhooks": [hook],
        }

    every_resource = {
        "apiGroups": _CERT_MANAGER_GROUPS, "apiVersions": ["v1"],
        "operations": ["CREATE", "UPDATE"], "resources": ["*/*"],
    }  # fmt: skip
    requests = {
        "apiGroups": ["cert-manager.io"], "apiVersions": ["v1"],
        "operations": ["CREATE"], "resources": ["certificaterequests"],
    }  # fmt: skip
    return [
        configuration("ValidatingWebhookConfiguration", webhook("/validate", [every_resource])),
        # It records who asked for each CertificateRequest (what approval checks).
        configuration("MutatingWebhookConfiguration", webhook("/mutate", [requests])),
    ]


def render_cainjector(context: RenderContext, component: ComponentSpec) -> list[Manifest]:
    """The cainjector: it writes CA bundles into the webhook configurations (and any
    CRD or APIService that asks for one)."""
    args = [
        "--leader-elect=false",
        f"--metrics-listen-address=0.0.0.0:{component.primary_port.port}",
    ]
    probes = _http_probes(component, live="/metrics", ready="/metrics")
    patchable = ["get", "list", "watch", "update", "patch"]
    rules = [
        _rule(["cert-manager.io"], ["certificates"], ["get", "list", "watch"]),
        _rule([""], ["secrets"], ["get", "list", "watch"]),
        _rule(["", "events.k8s.io"], ["events"], ["create", "patch"]),
        _rule(["admissionregistration.k8s.io"],
              ["validatingwebhookconfigurations", "mutatingwebhookconfigurations"], patchable),
        _rule(["apiregistration.k8s.io"], ["apiservices"], patchable),
        _rule(["apiextensions.k8s.io"], ["customresourcedefinitions"], patchable),
    ]  # fmt: skip
    return [
        *_workload(context, component, _container(context, component, args, probes)),
        *_cluster_role(component, rules),
    ]
