"""Loading a topology: parse, validate the shape, resolve defaults, cross-check.

``load_topology()`` returns the embedded default; ``load_topology(path)`` reads
another file. Every defect is collected and reported at once as
``file: key.path: message`` (a ``TopologyError``), never as a traceback. Three
passes, each needing the previous one clean: the file's shape (pydantic), the
names it refers to, and the calls against the zone rules.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from importlib import resources
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from devenv.errors import Problem, TopologyError
from devenv.topology.images import catalog
from devenv.topology.intent import RuleBook, endpoint_names
from devenv.topology.model import (
    KUBE_APISERVER,
    SECRET_READERS,
    ComponentSpec,
    ExceptionRule,
    KindDefaults,
    Topology,
    TopologyFile,
    ZoneRule,
)
from devenv.yamlio import load_mapping, parse_mapping

__all__ = ["EMBEDDED_TOPOLOGY", "load_topology", "raw_default_topology"]

EMBEDDED_TOPOLOGY = "devenv/data/topology.yaml"
_DNS_LABEL = re.compile(r"^[a-z]([-a-z0-9]{0,61}[a-z0-9])?$")
# Renderers exist for these images; a data or platform component must run one of them.
_RENDERED_IMAGES = frozenset(
    {"timescaledb", "redis", "openbao", "vault-k8s"}
    | {"cert-manager-controller", "cert-manager-webhook", "cert-manager-cainjector"}
)


def _embedded_text() -> str:
    return resources.files("devenv").joinpath("data/topology.yaml").read_text(encoding="utf-8")


def raw_default_topology() -> dict[str, Any]:
    """The embedded topology as plain data (for tests and tools that derive copies)."""
    return parse_mapping(_embedded_text(), source=EMBEDDED_TOPOLOGY)


def load_topology(path: Path | None = None) -> Topology:
    """Load and cross-check a topology file (the embedded default when ``path`` is None)."""
    if path is None:
        source, raw = EMBEDDED_TOPOLOGY, raw_default_topology()
    else:
        source, raw = str(path), load_mapping(path)
    try:
        spec = TopologyFile.model_validate(raw)
    except ValidationError as error:
        raise TopologyError(list(_pydantic_problems(error, source))) from None
    topology = Topology(source=source, spec=spec, components=_resolve_components(spec))
    problems = list(_reference_problems(topology)) or list(_rule_problems(topology))
    if problems:
        raise TopologyError(problems)
    return topology


def _key_path(location: tuple[int | str, ...]) -> str:
    path = ""
    for part in location:
        if isinstance(part, int):
            path += f"[{part}]"
        else:
            path += f".{part}" if path else str(part)
    return path


def _pydantic_problems(error: ValidationError, source: str) -> Iterator[Problem]:
    for item in error.errors():
        # Union members add their type (e.g. "tuple[...]") to the location; drop it.
        location = tuple(
            part for part in item["loc"] if not (isinstance(part, str) and "[" in part)
        )
        message = item["msg"]
        if item["type"] == "extra_forbidden":
            message = "unknown key"
        elif item["type"] == "missing":
            message = "required key is missing"
        yield Problem(source, _key_path(location), message)


def _resolve_components(spec: TopologyFile) -> dict[str, ComponentSpec]:
    resolved = {}
    for name, entry in spec.components.items():
        defaults = spec.kind_defaults.get(entry.kind, KindDefaults())
        namespace = spec.namespaces.get(entry.namespace)
        resolved[name] = ComponentSpec(
            name=name,
            namespace=entry.namespace,
            zone=entry.zone or (namespace.zone if namespace else ""),
            kind=entry.kind,
            image=entry.image or defaults.image or "",
            ports=entry.ports or defaults.ports or (),
            probe_scheme=entry.probe_scheme or defaults.probe_scheme or "HTTP",
            secrets=entry.secrets,
            calls=entry.calls,
            ref=entry.ref,
            clouds=entry.clouds,
        )
    return resolved


def _unknown(what: str, value: str, known: set[str]) -> str:
    return f"unknown {what} {value!r} (known: {', '.join(sorted(known))})"


# ---------------------------------------------------------------- names


def _reference_problems(topology: Topology) -> Iterator[Problem]:
    for check in (
        _name_clashes,
        _namespace_problems,
        _component_problems,
        _secret_problems,
        _simulator_problems,
        _rule_reference_problems,
        _profile_problems,
    ):
        for key, message in check(topology):
            yield Problem(topology.source, key, message)


Found = Iterator[tuple[str, str]]


def _name_clashes(topology: Topology) -> Found:
    spec = topology.spec
    zones, externals = set(spec.zones), set(spec.external)
    for name in sorted(zones & externals):
        yield f"external.{name}", f"{name!r} is both a zone and an external endpoint"
    for name in sorted(set(spec.components) & (zones | externals | {KUBE_APISERVER})):
        yield f"components.{name}", f"{name!r} is already the name of a zone or endpoint"


def _namespace_problems(topology: Topology) -> Found:
    zones = set(topology.spec.zones)
    for name, namespace in topology.spec.namespaces.items():
        if not _DNS_LABEL.match(name):
            yield f"namespaces.{name}", "not a valid namespace name (DNS-1123 label)"
        if namespace.zone not in zones:
            yield f"namespaces.{name}.zone", _unknown("zone", namespace.zone, zones)


def _component_problems(topology: Topology) -> Found:
    spec = topology.spec
    zones, namespaces, secrets = set(spec.zones), set(spec.namespaces), set(spec.secrets)
    images = set(catalog())
    targets = set(topology.components) | set(spec.external)
    for name, component in topology.components.items():
        key, entry = f"components.{name}", spec.components[name]
        if not _DNS_LABEL.match(name):
            yield key, "a component name must be a DNS-1035 label (it names a Service)"
        if entry.namespace not in namespaces:
            yield f"{key}.namespace", _unknown("namespace", entry.namespace, namespaces)
        if entry.zone is not None and entry.zone not in zones:
            yield f"{key}.zone", _unknown("zone", entry.zone, zones)
        if not component.ports:
            yield f"{key}.ports", f"no ports, and kind_defaults.{entry.kind} gives none"
        if component.image not in images:
            yield f"{key}.image", _unknown("image", component.image, images)
        elif not component.is_stub and component.image not in _RENDERED_IMAGES:
            yield (
                f"{key}.image",
                _unknown("data-layer image", component.image, set(_RENDERED_IMAGES)),
            )
        port_names = [p.name for p in component.ports]
        if len(set(port_names)) != len(port_names):
            yield f"{key}.ports", "port names must be unique within a component"
        for index, secret in enumerate(entry.secrets):
            if secret not in secrets:
                yield f"{key}.secrets[{index}]", _unknown("secret", secret, secrets)
        for index, target in enumerate(entry.calls):
            if target == name:
                yield f"{key}.calls[{index}]", "a component does not call itself"
            elif target not in targets:
                yield (
                    f"{key}.calls[{index}]",
                    _unknown("component or external endpoint", target, targets),
                )


def _simulator_problems(topology: Topology) -> Found:
    namespaces = set(topology.spec.namespaces)
    for name, external in topology.spec.external.items():
        if external.simulator and external.simulator.namespace not in namespaces:
            yield (
                f"external.{name}.simulator.namespace",
                _unknown("namespace", external.simulator.namespace, namespaces),
            )


def _secret_problems(topology: Topology) -> Found:
    spec = topology.spec
    read = {secret for component in spec.components.values() for secret in component.secrets}
    for name in sorted(set(spec.secrets) - read):
        yield f"secrets.{name}", "no component reads this secret"
    runtime = [name for name, secret in spec.secrets.items() if secret.injection == "runtime"]
    for name in runtime[1:]:  # the stubs read tenant credentials under one path
        yield f"secrets.{name}.injection", f"one runtime secret at most ({runtime[0]} is one)"
    for name, secret in spec.secrets.items():
        if secret.tenants and secret.injection != "runtime":
            yield f"secrets.{name}.tenants", "only a runtime secret has an entry per tenant"
        for index, tenant in enumerate(secret.tenants):
            if not _DNS_LABEL.match(tenant):
                yield f"secrets.{name}.tenants[{index}]", "a tenant id must be a DNS-1035 label"
    for name, component in topology.components.items():
        runtime = topology.runtime_secrets(component)
        if component.clouds and not runtime:
            yield (
                f"components.{name}.clouds",
                "clouds name whose tenant credentials it reads: it needs a runtime secret",
            )
        elif runtime and not component.clouds:
            yield (
                f"components.{name}.clouds",
                f"it reads {runtime[0]} at run time: name the clouds (aws, azure, gcp)",
            )


def _rule_reference_problems(topology: Topology) -> Found:
    spec = topology.spec
    known = endpoint_names(topology)
    seen: set[str] = set()
    sections: tuple[tuple[str, tuple[ZoneRule | ExceptionRule, ...]], ...] = (
        ("zone_rules", spec.zone_rules),
        ("exceptions", spec.exceptions),
    )
    for section, rules in sections:
        for index, rule in enumerate(rules):
            key = f"{section}[{index}]"
            if not _DNS_LABEL.match(rule.name):
                yield f"{key}.name", "a rule name must be a DNS-1123 label (it names policies)"
            if rule.name in seen:
                yield f"{key}.name", f"duplicate rule name {rule.name!r}"
            seen.add(rule.name)
            for side, value in (("from", rule.source), ("to", rule.destination)):
                for item in (value,) if isinstance(value, str) else value:
                    if item in known or (side == "from" and item == SECRET_READERS):
                        continue
                    yield f"{key}.{side}", _unknown("zone, endpoint or component", item, known)
    zones_and_endpoints = set(spec.zones) | set(spec.external)
    for index, denial in enumerate(spec.denied):
        for side, value in (("from", denial.source), ("to", denial.destination)):
            if value != "*" and value not in zones_and_endpoints:
                yield (
                    f"denied[{index}].{side}",
                    _unknown("zone or endpoint", value, zones_and_endpoints),
                )


def _profile_problems(topology: Topology) -> Found:
    components = topology.components
    for profile_name, profile in topology.spec.profiles.items():
        for name in profile.components:
            if name not in components:
                yield (
                    f"profiles.{profile_name}.components.{name}",
                    _unknown("component", name, set(components)),
                )
        for component in components.values():
            override = profile.components.get(component.name)
            sized = override is not None and override.requests and override.limits
            if not sized and component.kind not in profile.kinds:
                yield (
                    f"profiles.{profile_name}.kinds",
                    f"no resources for kind {component.kind!r} (needed by {component.name})",
                )


# ---------------------------------------------------------------- rules


def _rule_problems(topology: Topology) -> Iterator[Problem]:
    """Calls and secret reads against the rules: every declared call must be allowed."""
    rule_book = RuleBook(topology)
    for name, component in topology.components.items():
        for index, target in enumerate(component.calls):
            if rule_book.allows_call(name, target):
                continue
            target_zone = (
                topology.components[target].zone if target in topology.components else target
            )
            yield Problem(
                topology.source,
                f"components.{name}.calls[{index}]",
                f"call to {target!r} ({component.zone} -> {target_zone}) is forbidden by the"
                " zone rules; add a zone rule or an exception that allows it",
            )
    for reader in topology.secret_readers("runtime"):
        if "openbao" not in topology.components or not rule_book.allows_call(
            reader.name, "openbao"
        ):
            yield Problem(
                topology.source,
                f"components.{reader.name}.secrets",
                "reads a runtime secret but cannot reach openbao under the rules",
            )
