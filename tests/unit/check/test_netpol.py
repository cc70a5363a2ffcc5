"""The NetworkPolicy evaluator, one semantic rule at a time, plus a property."""

from __future__ import annotations

import ipaddress
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from devenv.check.netpol import (
    NOT_ISOLATED,
    POD_IPBLOCK_NOTE,
    Direction,
    PolicyEvaluator,
    selector_matches,
)
from devenv.topology.peers import DestPort, Endpoint

HTTP = DestPort(8080, "TCP", "http")


def ns(name: str, **labels: str) -> dict[str, Any]:
    return {"kind": "Namespace", "metadata": {"name": name, "labels": labels}}


def pod(name: str, namespace: str, **labels: str) -> Endpoint:
    return Endpoint(name, "pod", (HTTP,), namespace=namespace, labels={"app": name, **labels})


def external(address: str) -> Endpoint:
    return Endpoint("ext", "external", (DestPort(443),), address=ipaddress.IPv4Address(address))


def policy(namespace: str, name: str = "p", **spec: Any) -> dict[str, Any]:
    spec.setdefault("podSelector", {})
    return {
        "kind": "NetworkPolicy",
        "metadata": {"name": name, "namespace": namespace},
        "spec": spec,
    }


NAMESPACES = [ns("a", team="x"), ns("b", team="y"), ns("c", team="x")]
A1, A2 = pod("a1", "a", role="web"), pod("a2", "a", role="db")
B1, C1 = pod("b1", "b", role="web"), pod("c1", "c", role="web")


def allowed(
    objects: list[dict[str, Any]], src: Endpoint, dst: Endpoint, port: DestPort = HTTP
) -> bool:
    return PolicyEvaluator([*NAMESPACES, *objects]).evaluate(src, dst, port).allowed


def test_no_policy_means_not_isolated() -> None:
    assert allowed([], B1, A1)


def test_default_deny_ingress_blocks_and_policy_types_default_to_ingress() -> None:
    deny = policy("a")  # no policyTypes, no rules: Ingress only
    assert not allowed([deny], B1, A1)
    assert allowed([deny], A1, B1)  # egress of a1 is not isolated


def test_only_a_non_empty_egress_section_implies_egress_type() -> None:
    # The API server defaults policyTypes to Egress only for a non-empty egress
    # list (pkg/apis/networking/v1/defaults.go): `egress: []` is Ingress-only.
    assert allowed([policy("a", egress=[])], A1, B1)
    only_dns = [{"ports": [{"port": 53, "protocol": "UDP"}]}]
    assert not allowed([policy("a", egress=only_dns)], A1, B1)


POD_NETWORK = ipaddress.IPv4Network("10.244.0.0/16")


def test_an_ipblock_over_pod_addresses_matches_pods_as_the_enforcer_does() -> None:
    # kube-network-policies and kube-router match packets by address, whatever the peer.
    rule = {"from": [{"ipBlock": {"cidr": "10.0.0.0/8"}}]}
    objects = [*NAMESPACES, policy("a", ingress=[rule])]
    verdict = PolicyEvaluator(objects, [POD_NETWORK]).evaluate(B1, A1, HTTP)
    assert verdict.allowed
    assert verdict.ingress_by == ("a/p (by ipBlock on pod addresses: plugin-dependent)",)
    holed = {"from": [{"ipBlock": {"cidr": "10.0.0.0/8", "except": ["10.244.0.0/16"]}}]}
    objects = [*NAMESPACES, policy("a", ingress=[holed])]
    assert not PolicyEvaluator(objects, [POD_NETWORK]).evaluate(B1, A1, HTTP).allowed
    elsewhere = {"from": [{"ipBlock": {"cidr": "192.168.0.0/16"}}]}
    objects = [*NAMESPACES, policy("a", ingress=[elsewhere])]
    assert not PolicyEvaluator(objects, [POD_NETWORK]).evaluate(B1, A1, HTTP).allowed


def test_connection_needs_both_egress_and_ingress() -> None:
    egress_ok = policy("b", "out", policyTypes=["Egress"], egress=[{}])
    deny_in = policy("a", "in", policyTypes=["Ingress"])
    assert not allowed([egress_ok, deny_in], B1, A1)
    allow_in = policy("a", "in2", ingress=[{}])
    assert allowed([egress_ok, deny_in, allow_in], B1, A1)
    deny_out = policy("b", "deny-out", policyTypes=["Egress"])
    assert not allowed([deny_out, allow_in], B1, A1)


def test_pod_selector_alone_means_the_policys_namespace() -> None:
    rule = policy("a", ingress=[{"from": [{"podSelector": {"matchLabels": {"role": "web"}}}]}])
    assert not allowed([rule], B1, A2)  # b1 is role=web but in another namespace
    assert allowed([rule], A1, A2)


def test_namespace_and_pod_selector_in_one_peer_are_anded() -> None:
    peer = {
        "namespaceSelector": {"matchLabels": {"team": "x"}},
        "podSelector": {"matchLabels": {"role": "web"}},
    }
    rule = policy("a", podSelector={"matchLabels": {"role": "db"}}, ingress=[{"from": [peer]}])
    assert allowed([rule], C1, A2)  # team x AND role web
    assert not allowed([rule], B1, A2)  # role web, team y


def test_separate_peers_are_ored() -> None:
    peers = [
        {"namespaceSelector": {"matchLabels": {"team": "y"}}},
        {"podSelector": {"matchLabels": {"role": "web"}}},
    ]
    rule = policy("a", podSelector={"matchLabels": {"role": "db"}}, ingress=[{"from": peers}])
    assert allowed([rule], B1, A2)  # namespace team=y
    assert allowed([rule], A1, A2)  # same-namespace role=web
    assert not allowed([rule], C1, A2)  # team x, other namespace


def test_match_expressions() -> None:
    labels = {"tier": "gold", "env": "dev"}
    assert selector_matches(
        {"matchExpressions": [{"key": "tier", "operator": "In", "values": ["gold"]}]}, labels
    )
    assert not selector_matches(
        {"matchExpressions": [{"key": "tier", "operator": "NotIn", "values": ["gold"]}]}, labels
    )
    assert selector_matches(
        {"matchExpressions": [{"key": "zone", "operator": "NotIn", "values": ["x"]}]}, labels
    )
    assert selector_matches({"matchExpressions": [{"key": "env", "operator": "Exists"}]}, labels)
    assert not selector_matches(
        {"matchExpressions": [{"key": "env", "operator": "DoesNotExist"}]}, labels
    )
    assert not selector_matches(
        {
            "matchLabels": {"env": "dev"},
            "matchExpressions": [{"key": "tier", "operator": "In", "values": ["silver"]}],
        },
        labels,
    )
    assert selector_matches({}, labels)


def test_ports_numbers_names_ranges_and_protocols() -> None:
    def only(*ports: dict[str, Any]) -> list[dict[str, Any]]:
        return [policy("a", ingress=[{"ports": list(ports)}])]

    assert allowed(only({"port": 8080}), B1, A1)
    assert not allowed(only({"port": 9090}), B1, A1)
    assert allowed(only({"port": "http"}), B1, A1)  # named port of the destination
    assert not allowed(only({"port": "metrics"}), B1, A1)
    assert allowed(only({"port": 8000, "endPort": 8100}), B1, A1)
    assert not allowed(only({"port": 8000, "endPort": 8079}), B1, A1)
    assert not allowed(only({"port": 8080, "protocol": "UDP"}), B1, A1)
    assert allowed(only({"protocol": "TCP"}), B1, A1)  # protocol without port: every port


def test_ip_block_with_except() -> None:
    rule = policy(
        "a", ingress=[{"from": [{"ipBlock": {"cidr": "0.0.0.0/0", "except": ["10.0.0.0/8"]}}]}]
    )
    assert allowed([rule], external("203.0.113.9"), A1)
    assert not allowed([rule], external("10.1.2.3"), A1)
    assert not allowed([rule], B1, A1)  # pods are matched by selectors, not by ipBlock


def test_empty_from_matches_everyone_but_empty_ingress_list_denies() -> None:
    assert allowed([policy("a", ingress=[{"from": []}])], external("198.51.100.1"), A1)
    assert not allowed([policy("a", ingress=[])], B1, A1)


def test_verdict_names_the_allowing_policies() -> None:
    objects = [*NAMESPACES, policy("a", "deny"), policy("a", "web-in", ingress=[{}])]
    verdict = PolicyEvaluator(objects).evaluate(B1, A1, HTTP)
    assert verdict.allowed
    assert verdict.ingress_by == ("a/web-in",)
    assert verdict.policies == ("a/web-in",)


# --- property: a default-deny namespace with no allows admits nothing, whatever else exists

_labels = st.dictionaries(
    st.sampled_from(["app", "role", "team"]), st.sampled_from(["web", "db", "x"]), max_size=2
)
_selector = st.one_of(st.just({}), _labels.map(lambda m: {"matchLabels": m}))
_peer = st.one_of(
    st.builds(lambda p: {"podSelector": p}, _selector),
    st.builds(lambda n: {"namespaceSelector": n}, _selector),
    st.builds(lambda n, p: {"namespaceSelector": n, "podSelector": p}, _selector, _selector),
    st.just({"ipBlock": {"cidr": "0.0.0.0/0"}}),
)
_rule = st.fixed_dictionaries(
    {"from": st.lists(_peer, max_size=2), "to": st.lists(_peer, max_size=2)}
)
_other_policy = st.builds(
    lambda namespace, selector, rules: policy(
        namespace, "other", podSelector=selector,
        ingress=[{"from": r["from"]} for r in rules], egress=[{"to": r["to"]} for r in rules],
    ),
    st.sampled_from(["b", "c"]), _selector, st.lists(_rule, max_size=3),
)  # fmt: skip


@settings(max_examples=200, deadline=None)
@given(st.lists(_other_policy, max_size=4), st.sampled_from([B1, C1, external("203.0.113.7")]))
def test_default_deny_namespace_admits_nothing(
    others: list[dict[str, Any]], outsider: Endpoint
) -> None:
    deny_all = policy("a", "deny", policyTypes=["Ingress", "Egress"])
    evaluator = PolicyEvaluator([*NAMESPACES, deny_all, *others])
    for inside in (A1, A2):
        assert not evaluator.evaluate(outsider, inside, HTTP).allowed
        assert not evaluator.evaluate(inside, outsider, outsider.ports[0]).allowed
    assert not evaluator.evaluate(A1, A2, HTTP).allowed


def test_admitting_rules_name_each_rule_by_its_index() -> None:
    rules = [{"ports": [{"port": 9090}]}, {}, {"from": [{"namespaceSelector": {}}]}]
    objects = [*NAMESPACES, policy("a", "deny"), policy("a", "web-in", ingress=rules)]
    evaluator = PolicyEvaluator(objects)
    admitting = evaluator.admitting_rules(A1, B1, HTTP, "Ingress")
    assert [rule.label for rule in admitting] == ["a/web-in ingress[1]", "a/web-in ingress[2]"]
    assert admitting[0].rule == {}
    assert evaluator.evaluate(B1, A1, HTTP).ingress_by == ("a/web-in",)  # once, as before
    assert evaluator.is_isolated(A1, "Ingress")
    assert not evaluator.is_isolated(A1, "Egress")
    assert evaluator.admitting_rules(A1, B1, HTTP, "Egress") == ()  # nothing selects it


@settings(max_examples=200, deadline=None)
@given(st.lists(_other_policy, max_size=4))
def test_admitting_rules_agree_with_the_verdict(others: list[dict[str, Any]]) -> None:
    """Each side's policies in the verdict are those of its admitting rules, in order."""
    named = [
        {**p, "metadata": {**p["metadata"], "name": f"other-{i}"}} for i, p in enumerate(others)
    ]
    evaluator = PolicyEvaluator([*NAMESPACES, *named], [POD_NETWORK])
    pods = [A1, B1, C1]
    for source, destination in ((s, d) for s in pods for d in pods if s is not d):
        verdict = evaluator.evaluate(source, destination, HTTP)
        sides: tuple[tuple[Endpoint, Endpoint, Direction, tuple[str, ...]], ...] = (
            (destination, source, "Ingress", verdict.ingress_by),
            (source, destination, "Egress", verdict.egress_by),
        )
        for pod, other, direction, by in sides:
            if not evaluator.is_isolated(pod, direction):
                assert by == (NOT_ISOLATED,)
                continue
            admitting = evaluator.admitting_rules(pod, other, HTTP, direction)
            policies = list(dict.fromkeys(rule.policy for rule in admitting))
            assert [name.removesuffix(POD_IPBLOCK_NOTE) for name in by] == policies
