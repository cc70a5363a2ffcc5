"""Each direction on its own: every destination's ingress and every source's
egress held against the zone rules alone, for the cells of the matrix.

The matrix allows a connection only when the source's egress AND the
destination's ingress allow it, so one side opened too wide hides behind the
other side's denial: `podSelector: {}` with `ingress: [{}]` in finops-data opens
the whole Data Zone to every source, and no cell changes while the sources'
egress still blocks. Defense in depth needs each side to hold by itself, so this
names every policy rule that admits, on its side, a connection no zone rule
intends, and every pod of the platform that no policy isolates in a direction.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, replace
from typing import Any, Literal, NamedTuple

from devenv.check.matrix import connections
from devenv.check.netpol import AdmittingRule, Direction, PolicyEvaluator
from devenv.check.workload_peers import manifest_endpoints
from devenv.topology.intent import RuleBook
from devenv.topology.model import Topology
from devenv.topology.peers import Endpoint

__all__ = ["Connection", "DirectionFinding", "audit_directions", "rule_summary"]

EXAMPLES = 3  # connections named in a finding's one line; --json lists them all
SELECTOR_VALUES_SHOWN = 3

Side = Literal["ingress", "egress"]  # as a policy's spec names its lists of rules


class Connection(NamedTuple):
    source: str
    destination: str
    port: str  # "5432/TCP", as the matrix labels it

    def __str__(self) -> str:
        return f"{self.source} -> {self.destination}:{self.port}"


@dataclass(frozen=True)
class DirectionFinding:
    """One side admitting connections the zone rules block: a policy rule
    (``policy`` and ``rule_index`` set), or a pod no policy isolates (``pod`` set)."""

    direction: Side
    connections: tuple[Connection, ...]  # the cells it opens on its side, in matrix order
    policy: str | None = None  # namespace/name
    rule_index: int | None = None  # position in the policy's ingress or egress list
    rule: str | None = None  # its peers and ports, e.g. "from: any, ports: any"
    pod: str | None = None  # namespace/name of a pod that no policy selects

    @property
    def culprit(self) -> str:
        if self.policy is not None:
            return f"{self.policy} {self.direction}[{self.rule_index}] ({self.rule})"
        return f"{self.pod} is not isolated for {self.direction} (no NetworkPolicy selects it)"

    def describe(self) -> str:
        """One line: what admits, how many connections, the first few of them."""
        count = len(self.connections)
        noun = "connection" if count == 1 else "connections"
        examples = ", ".join(str(c) for c in self.connections[:EXAMPLES])
        more = ", …" if count > EXAMPLES else ""
        if self.policy is not None:
            return (
                f"{self.culprit} admits {count} {noun} the zone rules block, e.g. {examples}{more}"
            )
        if not count:
            return self.culprit
        return (
            f"{self.culprit}: it admits {count} {noun} the zone rules block, e.g. {examples}{more}"
        )

    def only(self, keep: Callable[[Connection], bool]) -> DirectionFinding | None:
        """The finding narrowed to some connections; None when none is left."""
        kept = tuple(c for c in self.connections if keep(c))
        return replace(self, connections=kept) if kept else None

    def to_json(self) -> dict[str, Any]:
        return {
            "kind": "rule" if self.policy is not None else "not-isolated",
            "direction": self.direction,
            "policy": self.policy,
            "rule_index": self.rule_index,
            "rule": self.rule,
            "pod": self.pod,
            "count": len(self.connections),
            "connections": [
                {"from": c.source, "to": c.destination, "port": c.port} for c in self.connections
            ],
        }


def _selector_text(selector: Mapping[str, Any] | None) -> str:
    """A label selector in kubectl's -l syntax, long value lists cut short; {} is ``*``."""
    terms = [f"{key}={value}" for key, value in (selector or {}).get("matchLabels", {}).items()]
    for expression in (selector or {}).get("matchExpressions") or []:
        key, operator = expression.get("key"), expression.get("operator")
        values = list(expression.get("values") or [])
        shown = ", ".join(values[:SELECTOR_VALUES_SHOWN])
        if len(values) > SELECTOR_VALUES_SHOWN:
            shown += f", +{len(values) - SELECTOR_VALUES_SHOWN}"
        terms.append(
            {"Exists": str(key), "DoesNotExist": f"!{key}"}.get(
                str(operator), f"{key} {str(operator).lower()} ({shown})"
            )
        )
    return ",".join(terms) or "*"


def _peer_text(peer: Mapping[str, Any], namespace: str) -> str:
    if "ipBlock" in peer:
        block = peer["ipBlock"] or {}
        holes = block.get("except") or []
        return str(block.get("cidr")) + (f" except {', '.join(holes)}" if holes else "")
    pods = f"pods({_selector_text(peer.get('podSelector'))})"
    if "namespaceSelector" not in peer:
        return f"{pods} in {namespace}"
    return f"{pods} in namespaces({_selector_text(peer['namespaceSelector'])})"


def _port_text(entry: Mapping[str, Any]) -> str:
    protocol = entry.get("protocol", "TCP")
    port = entry.get("port")
    if port is None:
        return f"any/{protocol}"
    if "endPort" in entry:
        return f"{port}-{entry['endPort']}/{protocol}"
    return f"{port}/{protocol}"


def rule_summary(rule: AdmittingRule) -> str:
    """A rule's peers and ports in a few words: ``from: any, ports: any``."""
    peers_key = "from" if rule.direction == "ingress" else "to"
    namespace = rule.policy.split("/", 1)[0]
    peers = rule.rule.get(peers_key)
    ports = rule.rule.get("ports")
    peers_text = "; ".join(_peer_text(p or {}, namespace) for p in peers) if peers else "any"
    ports_text = ", ".join(_port_text(p or {}) for p in ports) if ports else "any"
    return f"{peers_key}: {peers_text}, ports: {ports_text}"


_SIDES: tuple[tuple[Direction, Side], ...] = (
    ("Ingress", "ingress"),
    ("Egress", "egress"),
)


def audit_directions(
    topology: Topology, objects: Sequence[Mapping[str, Any]]
) -> list[DirectionFinding]:
    """Every side that admits, on its own, what the zone rules block: one finding per
    policy rule and per pod that no policy isolates, each with the cells it opens.

    Takes what ``build_matrix`` takes and walks the same cells. Only the platform's
    own pods are audited: a pseudo-endpoint has no policies, and the matrix
    already decides every cell whose other side is one."""
    endpoints = manifest_endpoints(objects, topology)
    evaluator = PolicyEvaluator(objects, topology.cluster.pod_cidrs)
    rules = RuleBook(topology)

    def pod_key(pod: Endpoint) -> str:
        return f"{pod.namespace}/{pod.name}"

    # Not isolated is a finding even before any cell shows it: nothing holds that side.
    unisolated: dict[tuple[str, Side], list[Connection]] = {
        (pod_key(e), side): []
        for e in endpoints
        if rules.is_managed(e)
        for policy_type, side in _SIDES
        if not evaluator.is_isolated(e, policy_type)
    }
    opened: dict[tuple[str, Side, int], tuple[AdmittingRule, list[Connection]]] = {}
    for source, destination, port in connections(endpoints, rules):
        if rules.reasons(source, destination, port):
            continue
        cell = Connection(source.name, destination.name, port.label)
        for policy_type, side in _SIDES:
            pod, other = (destination, source) if side == "ingress" else (source, destination)
            if not rules.is_managed(pod):
                continue
            if (pod_key(pod), side) in unisolated:
                unisolated[pod_key(pod), side].append(cell)
                continue
            for rule in evaluator.admitting_rules(pod, other, port, policy_type):
                opened.setdefault((rule.policy, side, rule.index), (rule, []))[1].append(cell)
    findings = [
        DirectionFinding(
            direction=side, connections=tuple(cells), policy=rule.policy, rule_index=rule.index,
            rule=rule_summary(rule),
        )
        for (_, side, _), (rule, cells) in sorted(opened.items(), key=lambda item: item[0])
    ]  # fmt: skip
    findings += [
        DirectionFinding(direction=side, connections=tuple(cells), pod=pod)
        for (pod, side), cells in sorted(unisolated.items(), key=lambda item: item[0])
    ]
    return findings
