"""A NetworkPolicy evaluator: which connections do these objects allow?

Works from NetworkPolicy, Namespace and workload objects alone, following the
semantics of networking.k8s.io/v1:

* a pod is isolated for a direction once any policy selecting it lists that
  direction in ``policyTypes`` (default: Ingress, plus Egress when an
  ``egress`` section exists); an isolated pod admits only what some rule allows;
* a connection needs the source's egress AND the destination's ingress;
* in one peer, ``namespaceSelector`` and ``podSelector`` are ANDed; separate
  peers are ORed; a peer without ``namespaceSelector`` means the policy's own
  namespace; ``ipBlock`` matches addresses outside the pod network (``except``
  carves holes);
* an empty or missing ``from``/``to`` matches everything, an empty or missing
  ``ports`` every port; a named port matches the destination pod's port name;
  ``endPort`` makes a range; protocol defaults to TCP.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Literal

from devenv.topology.labels import NAMESPACE_NAME_LABEL
from devenv.topology.peers import DestPort, Endpoint

__all__ = [
    "NOT_ISOLATED",
    "POD_IPBLOCK_NOTE",
    "AdmittingRule",
    "Direction",
    "PolicyEvaluator",
    "Verdict",
    "selector_matches",
]

Direction = Literal["Ingress", "Egress"]  # as NetworkPolicy's policyTypes spell them

NOT_ISOLATED = "(no policy selects it)"
NOT_A_POD = "(outside the pod network)"
POD_IPBLOCK_NOTE = " (by ipBlock on pod addresses: plugin-dependent)"


def _expression_matches(expression: Mapping[str, Any], labels: Mapping[str, str]) -> bool:
    key, operator = expression["key"], expression["operator"]
    values = expression.get("values") or []
    present = key in labels
    if operator == "In":
        return present and labels[key] in values
    if operator == "NotIn":
        return not (present and labels[key] in values)
    if operator == "Exists":
        return present
    if operator == "DoesNotExist":
        return not present
    raise ValueError(f"unknown label selector operator {operator!r}")


def selector_matches(selector: Mapping[str, Any] | None, labels: Mapping[str, str]) -> bool:
    """LabelSelector semantics: matchLabels AND every matchExpression; {} matches all."""
    if not selector:
        return True
    return all(
        labels.get(key) == value for key, value in (selector.get("matchLabels") or {}).items()
    ) and all(_expression_matches(e, labels) for e in selector.get("matchExpressions") or [])


@dataclass(frozen=True)
class Verdict:
    allowed: bool
    egress_by: tuple[str, ...]  # policies (namespace/name) that let the source send
    ingress_by: tuple[str, ...]  # policies that let the destination receive

    @property
    def policies(self) -> tuple[str, ...]:
        return tuple(p for p in self.egress_by + self.ingress_by if not p.startswith("("))


@dataclass(frozen=True)
class AdmittingRule:
    """One rule of one policy that lets a connection through on its side."""

    policy: str  # namespace/name
    direction: Literal["ingress", "egress"]  # the list in the policy's spec
    index: int  # position in that list
    rule: Mapping[str, Any]
    by_pod_ipblock: bool  # matched a pod only through an ipBlock (plugin-dependent)

    @property
    def label(self) -> str:
        """``finops-data/allow-all ingress[0]``"""
        return f"{self.policy} {self.direction}[{self.index}]"


def _policy_types(spec: Mapping[str, Any]) -> list[str]:
    if spec.get("policyTypes"):
        return list(spec["policyTypes"])
    # The API server's defaulting: Egress only for a non-empty egress list
    # (pkg/apis/networking/v1/defaults.go); `egress: []` alone isolates nothing.
    return ["Ingress", "Egress"] if spec.get("egress") else ["Ingress"]


def _block_covers_pods(
    block: Mapping[str, Any], pod_networks: Sequence[ipaddress.IPv4Network]
) -> bool:
    """Whether an ipBlock reaches into the pod network, less its exceptions."""
    cidr = ipaddress.ip_network(block["cidr"], strict=False)
    holes = [ipaddress.ip_network(h, strict=False) for h in block.get("except") or []]
    for pods in pod_networks:
        if cidr.version != pods.version or not cidr.overlaps(pods):
            continue
        shared = cidr if cidr.prefixlen >= pods.prefixlen else pods  # CIDRs nest
        if not any(hole.version == shared.version and shared.subnet_of(hole) for hole in holes):
            return True
    return False


class PolicyEvaluator:
    """Evaluates connections against a fixed set of objects.

    ``pod_networks`` are the cluster's pod CIDRs: an ipBlock reaching into them
    matches pods, as kindnet's enforcer (kube-network-policies) and kube-router
    match by packet address. The API documents ipBlock for addresses outside the
    cluster, so such a match is plugin-dependent and is named as such."""

    def __init__(
        self,
        objects: Iterable[Mapping[str, Any]],
        pod_networks: Sequence[ipaddress.IPv4Network] = (),
    ) -> None:
        self.pod_networks = tuple(pod_networks)
        self.policies: list[Mapping[str, Any]] = []
        self.namespace_labels: dict[str, dict[str, str]] = {}
        for obj in objects:
            if obj.get("kind") == "NetworkPolicy":
                self.policies.append(obj)
            elif obj.get("kind") == "Namespace":
                name = obj["metadata"]["name"]
                labels = dict(obj["metadata"].get("labels") or {})
                # The API server sets this label on every namespace.
                labels[NAMESPACE_NAME_LABEL] = name
                self.namespace_labels[name] = labels

    def labels_of_namespace(self, namespace: str) -> dict[str, str]:
        return self.namespace_labels.get(namespace, {NAMESPACE_NAME_LABEL: namespace})

    def _selecting(self, pod: Endpoint, direction: Direction) -> list[Mapping[str, Any]]:
        return [
            policy
            for policy in self.policies
            if policy["metadata"].get("namespace", "default") == pod.namespace
            and direction in _policy_types(policy.get("spec") or {})
            and selector_matches((policy.get("spec") or {}).get("podSelector"), pod.labels)
        ]

    def _peer_matches(self, peer: Mapping[str, Any], policy_ns: str, other: Endpoint) -> bool:
        if "ipBlock" in peer:
            if other.is_pod:
                return _block_covers_pods(peer["ipBlock"], self.pod_networks)
            if other.address is None:
                return False
            block = peer["ipBlock"]
            if other.address not in ipaddress.ip_network(block["cidr"], strict=False):
                return False
            return not any(
                other.address in ipaddress.ip_network(hole, strict=False)
                for hole in block.get("except") or []
            )
        if not other.is_pod:
            return False
        namespace_selector = peer.get("namespaceSelector")
        if namespace_selector is None:
            in_namespace = other.namespace == policy_ns
        else:
            in_namespace = selector_matches(
                namespace_selector, self.labels_of_namespace(other.namespace or "default")
            )
        return in_namespace and selector_matches(peer.get("podSelector"), other.labels)

    @staticmethod
    def _port_matches(ports: Sequence[Mapping[str, Any]] | None, port: DestPort) -> bool:
        if not ports:
            return True
        for entry in ports:
            if entry.get("protocol", "TCP") != port.protocol:
                continue
            wanted = entry.get("port")
            if wanted is None:
                return True
            if isinstance(wanted, str) and not wanted.isdigit():
                if wanted == port.name:
                    return True
                continue
            low = int(wanted)
            high = int(entry.get("endPort", low))
            if low <= port.number <= high:
                return True
        return False

    def is_isolated(self, pod: Endpoint, direction: Direction) -> bool:
        """Whether some policy selects ``pod`` for ``direction`` ("Ingress" or "Egress")."""
        return pod.is_pod and bool(self._selecting(pod, direction))

    def _admitting_in(
        self, policy: Mapping[str, Any], other: Endpoint, port: DestPort, direction: Direction
    ) -> Iterator[AdmittingRule]:
        """The rules of one policy that let ``other`` through on ``port``, in list order."""
        namespace = policy["metadata"].get("namespace", "default")
        name = f"{namespace}/{policy['metadata']['name']}"
        key: Literal["ingress", "egress"] = "ingress" if direction == "Ingress" else "egress"
        peers_key = "from" if direction == "Ingress" else "to"
        for index, rule in enumerate((policy.get("spec") or {}).get(key) or []):
            peers = (rule or {}).get(peers_key)
            if not self._port_matches((rule or {}).get("ports"), port):
                continue
            matching = [p for p in peers or [] if self._peer_matches(p, namespace, other)]
            if not peers or matching:
                by_pod_ipblock = other.is_pod and bool(matching)
                by_pod_ipblock = by_pod_ipblock and all("ipBlock" in p for p in matching)
                yield AdmittingRule(name, key, index, rule or {}, by_pod_ipblock)

    def admitting_rules(
        self, pod: Endpoint, other: Endpoint, port: DestPort, direction: Direction
    ) -> tuple[AdmittingRule, ...]:
        """Every rule, of every policy selecting ``pod``, that lets one side through on its
        own: ``other`` is the source for "Ingress", the destination for "Egress". Empty
        when ``pod`` is not isolated for the direction: then nothing holds it back."""
        if not pod.is_pod:
            return ()
        return tuple(
            rule
            for policy in self._selecting(pod, direction)
            for rule in self._admitting_in(policy, other, port, direction)
        )

    def _side(
        self, pod: Endpoint, other: Endpoint, port: DestPort, direction: Direction
    ) -> tuple[str, ...]:
        """Policies allowing one side; a marker when the pod is not isolated; () if denied."""
        if not pod.is_pod:
            return (NOT_A_POD,)
        selecting = self._selecting(pod, direction)
        if not selecting:
            return (NOT_ISOLATED,)
        allowing = []
        for policy in selecting:
            # The first rule names the policy; later ones would add nothing to the verdict.
            first = next(self._admitting_in(policy, other, port, direction), None)
            if first is not None:
                allowing.append(first.policy + (POD_IPBLOCK_NOTE if first.by_pod_ipblock else ""))
        return tuple(allowing)

    def evaluate(self, source: Endpoint, destination: Endpoint, port: DestPort) -> Verdict:
        egress = self._side(source, destination, port, "Egress")
        ingress = self._side(destination, source, port, "Ingress")
        return Verdict(bool(egress) and bool(ingress), egress, ingress)
