"""cert-manager as rendered: the dev CA chain, the gateway's Certificate written to
the Secret the gateway mounts, the profile's lifetimes, RBAC narrowed to what
the enabled controllers do, and the CRDs labelled, never copied."""

from __future__ import annotations

import pytest

from devenv.check.kubernetes_schema import schema_problems
from devenv.render import Manifest, render_manifests
from devenv.render.cert_manager import CA_ISSUER, ROOT_CA_SECRET, label_crds
from devenv.topology.images import ImageSet
from devenv.topology.labels import MANAGED_SELECTOR
from devenv.topology.model import Topology


def _find(manifests: list[Manifest], kind: str, name: str) -> Manifest:
    return next(m for m in manifests if m["kind"] == kind and m["metadata"]["name"] == name)


def test_the_chain_ends_in_the_secret_the_gateway_mounts(
    topology: Topology, image_set: ImageSet
) -> None:
    manifests = render_manifests(topology, "dev", image_set)
    root = _find(manifests, "Certificate", ROOT_CA_SECRET)
    assert root["spec"]["isCA"] is True
    assert root["spec"]["issuerRef"]["name"] == "finops-dev-selfsigned"
    assert _find(manifests, "ClusterIssuer", "finops-dev-selfsigned")["spec"] == {"selfSigned": {}}
    assert _find(manifests, "ClusterIssuer", CA_ISSUER)["spec"] == {
        "ca": {"secretName": ROOT_CA_SECRET}
    }
    leaf = _find(manifests, "Certificate", "api-gateway-tls")
    assert leaf["spec"]["issuerRef"]["name"] == CA_ISSUER
    assert {"localhost", "api-gateway.finops-system.svc"} <= set(leaf["spec"]["dnsNames"])
    assert leaf["spec"]["ipAddresses"] == ["127.0.0.1"]
    gateway = _find(manifests, "Deployment", "api-gateway")
    volumes = gateway["spec"]["template"]["spec"]["volumes"]
    mounted = {v["secret"]["secretName"] for v in volumes if "secret" in v}
    assert leaf["spec"]["secretName"] in mounted
    # devenv's Secret for the gateway is gone: cert-manager writes it.
    assert not [
        m for m in manifests if m["kind"] == "Secret" and m["metadata"]["name"] == "api-gateway-tls"
    ]


@pytest.mark.parametrize(
    ("profile", "duration", "renew"), [("dev", "1h", "55m"), ("prodlike", "2160h", "720h")]
)
def test_the_profile_sets_the_lifetime(
    topology: Topology, image_set: ImageSet, profile: str, duration: str, renew: str
) -> None:
    leaf = _find(render_manifests(topology, profile, image_set), "Certificate", "api-gateway-tls")
    assert (leaf["spec"]["duration"], leaf["spec"]["renewBefore"]) == (duration, renew)


def test_rbac_names_what_the_controllers_do_and_no_wildcard(
    topology: Topology, image_set: ImageSet
) -> None:
    manifests = render_manifests(topology, "dev", image_set)
    roles = [m for m in manifests if m["kind"] in ("ClusterRole", "Role")
             and m["metadata"]["name"].startswith("cert-manager")]  # fmt: skip
    assert {r["metadata"]["name"] for r in roles} == {
        "cert-manager",
        "cert-manager-webhook",
        "cert-manager-cainjector",
    }  # the webhook has a Role and a ClusterRole of that name
    for role in roles:
        for rule in role["rules"]:
            assert "*" not in rule["verbs"] + rule["resources"] + rule["apiGroups"], rule
    webhook_role = _find(manifests, "Role", "cert-manager-webhook")
    readable = [r for r in webhook_role["rules"] if "get" in r["verbs"]]
    assert readable == [
        r for r in readable if r.get("resourceNames") == ["cert-manager-webhook-ca"]
    ]
    approve = next(r for r in _find(manifests, "ClusterRole", "cert-manager")["rules"]
                   if r["verbs"] == ["approve"])  # fmt: skip
    assert approve["resourceNames"] == [
        "issuers.cert-manager.io/*",
        "clusterissuers.cert-manager.io/*",
    ]


def test_the_webhook_covers_the_platforms_namespaces_and_gets_its_ca_injected(
    topology: Topology, image_set: ImageSet
) -> None:
    manifests = render_manifests(topology, "dev", image_set)
    for kind in ("ValidatingWebhookConfiguration", "MutatingWebhookConfiguration"):
        configuration = _find(manifests, kind, "cert-manager-webhook")
        annotations = configuration["metadata"]["annotations"]
        assert annotations["cert-manager.io/inject-ca-from-secret"] == (
            "finops-system/cert-manager-webhook-ca"
        )
        (hook,) = configuration["webhooks"]
        assert hook["clientConfig"]["service"]["port"] == 10250
        assert hook["namespaceSelector"]["matchLabels"]  # never the whole cluster's


def test_crds_are_labelled_as_devenvs_and_otherwise_untouched() -> None:
    crd = {
        "apiVersion": "apiextensions.k8s.io/v1",
        "kind": "CustomResourceDefinition",
        "metadata": {"name": "things.example.com", "labels": {"keep": "me"}},
        "spec": {"group": "example.com"},
    }
    (labelled,) = label_crds([crd])
    key, _, value = MANAGED_SELECTOR.partition("=")
    assert labelled["metadata"]["labels"][key] == value
    assert labelled["metadata"]["labels"]["keep"] == "me"
    assert labelled["spec"] is crd["spec"]
    assert "labels" not in crd["metadata"] or crd["metadata"]["labels"] == {"keep": "me"}


def test_a_misspelt_field_is_caught_against_the_crd_schema(
    topology: Topology, image_set: ImageSet
) -> None:
    from devenv.apply.phases.cert_manager import cert_manager_crds

    leaf = _find(render_manifests(topology, "dev", image_set), "Certificate", "api-gateway-tls")
    broken = {**leaf, "spec": {**leaf["spec"], "dnsName": ["x"], "duration": 3600}}
    problems = schema_problems([broken], "1.34", cert_manager_crds())
    assert any("'dnsName' was unexpected" in p for p in problems), problems
    assert any("spec.duration" in p for p in problems), problems
