"""The connectivity matrix: for every source, destination and port, what the
manifests allow (observed by the evaluator) next to what the topology intends
(expected from the zone rules). `devenv policy` prints it; `--check` fails on
every cell where the two differ.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from devenv.check.netpol import PolicyEvaluator
from devenv.check.workload_peers import manifest_endpoints
from devenv.topology.intent import RuleBook
from devenv.topology.model import Topology
from devenv.topology.peers import DestPort, Endpoint

__all__ = ["POLICY_INPUT_KINDS", "Cell", "PolicyMatrix", "build_matrix", "connections"]

# What the matrix needs from a live cluster besides its Namespaces: the policies,
# the workloads whose pod templates they select, and the Services that say which
# port a rule names (443 for the gateway's 8443). Not ReplicaSets or Pods: they
# repeat their workload's template, one endpoint twice. Group-qualified so that a
# CNI's own NetworkPolicy CRD (Calico's) is not read instead.
POLICY_INPUT_KINDS = (
    "networkpolicies.networking.k8s.io",
    "deployments.apps",
    "statefulsets.apps",
    "daemonsets.apps",
    "services",
)


@dataclass(frozen=True)
class Cell:
    source: str
    destination: str
    port: str  # "8080/TCP"
    expected: bool
    expected_by: tuple[str, ...]  # flows of the topology that allow it
    observed: bool
    observed_by: tuple[str, ...]  # policies that allow it

    @property
    def matches(self) -> bool:
        return self.expected == self.observed

    def describe(self) -> str:
        def verdict(allowed: bool) -> str:
            return "allowed" if allowed else "blocked"

        reason = (
            f"rules allow it ({', '.join(self.expected_by)})"
            if self.expected
            else "no zone rule allows it"
        )
        via = f" by {', '.join(self.observed_by)}" if self.observed and self.observed_by else ""
        return (
            f"{self.source} -> {self.destination}:{self.port}: expected"
            f" {verdict(self.expected)} ({reason}), policies {verdict(self.observed)}{via}"
        )


@dataclass(frozen=True)
class PolicyMatrix:
    endpoints: tuple[Endpoint, ...]
    cells: tuple[Cell, ...]
    exceptions: Mapping[str, str]  # exception flow name -> how it is bounded

    def mismatches(self) -> list[Cell]:
        return [cell for cell in self.cells if not cell.matches]

    def cell(self, source: str, destination: str, port: str) -> Cell:
        for cell in self.cells:
            if (cell.source, cell.destination, cell.port) == (source, destination, port):
                return cell
        raise KeyError((source, destination, port))

    def to_json(self) -> dict[str, Any]:
        return {
            "endpoints": [
                {
                    "name": e.name,
                    "kind": e.category,
                    "namespace": e.namespace,
                    "zone": e.zone,
                    "address": str(e.address) if e.address else None,
                    "ports": [p.label for p in e.ports],
                }
                for e in self.endpoints
            ],
            "cells": [
                {
                    "from": c.source,
                    "to": c.destination,
                    "port": c.port,
                    "expected": c.expected,
                    "expected_by": list(c.expected_by),
                    "observed": c.observed,
                    "observed_by": list(c.observed_by),
                }
                for c in self.cells
            ],
            "exceptions": dict(self.exceptions),
            "mismatches": len(self.mismatches()),
        }


def connections(
    endpoints: Sequence[Endpoint], rules: RuleBook
) -> Iterator[tuple[Endpoint, Endpoint, DestPort]]:
    """The cells of the matrix, in its order: every source, destination and port,
    where at least one side is one of the platform's own pods."""
    for source in endpoints:
        if not source.is_source:
            continue
        for destination in endpoints:
            if destination is source or not destination.is_destination:
                continue
            # Only cells that touch the platform's own pods say anything about its policies.
            if not (rules.is_managed(source) or rules.is_managed(destination)):
                continue
            for port in destination.ports:
                yield source, destination, port


def build_matrix(
    topology: Topology, objects: Sequence[Mapping[str, Any]], extra: Sequence[Endpoint] = ()
) -> PolicyMatrix:
    """Every cell between the workloads in ``objects`` and the topology's pseudo-endpoints
    (and ``extra`` ones: hosts a live check places, such as one on the node network)."""
    endpoints = [*manifest_endpoints(objects, topology), *extra]
    evaluator = PolicyEvaluator(objects, topology.cluster.pod_cidrs)
    rules = RuleBook(topology)
    cells = []
    for source, destination, port in connections(endpoints, rules):
        expected_by = tuple(rules.reasons(source, destination, port))
        verdict = evaluator.evaluate(source, destination, port)
        cells.append(
            Cell(
                source=source.name,
                destination=destination.name,
                port=port.label,
                expected=bool(expected_by),
                expected_by=expected_by,
                observed=verdict.allowed,
                observed_by=verdict.policies if verdict.allowed else (),
            )
        )
    exceptions = {rule.name: rule.resolution for rule in topology.spec.exceptions}
    return PolicyMatrix(endpoints=tuple(endpoints), cells=tuple(cells), exceptions=exceptions)
