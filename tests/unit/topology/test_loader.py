"""Loading the topology: the shipped one is complete, broken ones get pointed errors."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from devenv.errors import ConfigError, TopologyError
from devenv.topology.loader import load_topology, raw_default_topology
from devenv.topology.model import Topology

SECTION_2_1 = {
    "api-gateway", "next-app", "ag-ui-server", "coordinator-agent", "cost-agent",
    "optimization-agent", "remediation-agent", "reporting-agent", "tenant-agent",
    "cross-cloud-agent", "aws-mcp", "azure-mcp", "gcp-mcp", "opencost-mcp", "forecast-mcp",
    "remediation-mcp", "policy-mcp", "tenant-mcp", "celery-beat", "celery-workers",
    "event-processor", "a2a-gateway", "postgresql-timescaledb", "redis", "openbao",
}  # fmt: skip


def problems_of(path: Path) -> list[str]:
    with pytest.raises(TopologyError) as caught:
        load_topology(path)
    return [str(p) for p in caught.value.problems]


def test_default_topology_has_the_architecture(topology: Topology) -> None:
    assert set(topology.namespaces) == {
        "finops-system", "finops-frontend", "finops-agents", "finops-mcp",
        "finops-workers", "finops-data", "finops-a2a",
    }  # fmt: skip
    assert set(topology.components) >= SECTION_2_1
    assert topology.components["ag-ui-server"].namespace == "finops-agents"
    assert topology.components["ag-ui-server"].zone == "dmz"
    assert topology.components["cost-agent"].zone == "app"
    assert set(topology.profiles) == {"dev", "prodlike"}
    assert {r.name for r in topology.spec.zone_rules} >= {
        "internet-to-public", "public-to-dmz", "dmz-to-app", "app-to-data", "app-to-cloud-apis",
    }  # fmt: skip
    readers = {s for c in topology.components.values() for s in c.secrets}
    assert readers == set(topology.secrets)


def test_every_problem_is_reported_with_file_and_key(
    raw_topology: dict[str, Any], write_topology: Callable[[dict[str, Any]], Path]
) -> None:
    raw_topology["components"]["redis"]["colour"] = "red"
    raw_topology["components"]["redis"]["kind"] = "database"
    path = write_topology(raw_topology)
    problems = problems_of(path)
    assert f"{path}: components.redis.colour: unknown key" in problems
    assert any(p.startswith(f"{path}: components.redis.kind: Input should be") for p in problems)


def test_cross_reference_problems_are_all_reported(
    raw_topology: dict[str, Any], write_topology: Callable[[dict[str, Any]], Path]
) -> None:
    # Cross-references are checked once the file has the right shape.
    raw_topology["components"]["cost-agent"]["namespace"] = "finops-nowhere"
    raw_topology["namespaces"]["finops-a2a"]["zone"] = "moat"
    path = write_topology(raw_topology)
    problems = problems_of(path)
    assert any(
        p.startswith(f"{path}: namespaces.finops-a2a.zone: unknown zone 'moat'") for p in problems
    )
    assert any(
        p.startswith(f"{path}: components.cost-agent.namespace: unknown namespace 'finops-nowhere'")
        for p in problems
    )


def test_bad_yaml_names_the_line(tmp_path: Path) -> None:
    path = tmp_path / "broken.yaml"
    path.write_text("zones:\n  public: {description: x\n", encoding="utf-8")
    with pytest.raises(ConfigError, match=rf"{path}: not valid YAML: line \d+"):
        load_topology(path)


def test_duplicate_key_is_an_error(tmp_path: Path) -> None:
    text = raw_default_topology_text().replace(
        "  redis:\n    namespace: finops-data",
        "  redis:\n    namespace: finops-data\n    kind: data\n"
        "  redis:\n    namespace: finops-data",
        1,
    )
    path = tmp_path / "dup.yaml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(ConfigError, match="duplicate key 'redis'"):
        load_topology(path)


def raw_default_topology_text() -> str:
    from importlib import resources

    return resources.files("devenv").joinpath("data/topology.yaml").read_text(encoding="utf-8")


def test_call_forbidden_by_zone_rules(
    raw_topology: dict[str, Any], write_topology: Callable[[dict[str, Any]], Path]
) -> None:
    raw_topology["components"]["next-app"]["calls"].append("postgresql-timescaledb")
    problems = problems_of(write_topology(raw_topology))
    assert any(
        "components.next-app.calls[1]: call to 'postgresql-timescaledb' (dmz -> data) is forbidden"
        in p
        for p in problems
    )


def test_removing_a_zone_rule_breaks_the_calls_that_needed_it(
    raw_topology: dict[str, Any], write_topology: Callable[[dict[str, Any]], Path]
) -> None:
    raw_topology["zone_rules"] = [
        r for r in raw_topology["zone_rules"] if r["name"] != "dmz-to-app"
    ]
    problems = problems_of(write_topology(raw_topology))
    assert any("components.ag-ui-server.calls[0]" in p for p in problems)
    assert any("components.a2a-gateway.calls[0]" in p for p in problems)


def test_secret_nobody_reads(
    raw_topology: dict[str, Any], write_topology: Callable[[dict[str, Any]], Path]
) -> None:
    raw_topology["secrets"]["orphan"] = {
        "path": "finops/orphan",
        "injection": "sidecar",
        "ref": "x",
    }
    problems = problems_of(write_topology(raw_topology))
    assert any(p.endswith("secrets.orphan: no component reads this secret") for p in problems)


def test_unknown_secret_and_unknown_call(
    raw_topology: dict[str, Any], write_topology: Callable[[dict[str, Any]], Path]
) -> None:
    raw_topology["components"]["cost-agent"]["secrets"].append("nope")
    raw_topology["components"]["cost-agent"]["calls"].append("ghost")
    problems = problems_of(write_topology(raw_topology))
    assert any("components.cost-agent.secrets[2]: unknown secret 'nope'" in p for p in problems)
    assert any("components.cost-agent.calls[5]: unknown component" in p for p in problems)


def test_duplicate_rule_names(
    raw_topology: dict[str, Any], write_topology: Callable[[dict[str, Any]], Path]
) -> None:
    raw_topology["zone_rules"].append(dict(raw_topology["zone_rules"][0]))
    problems = problems_of(write_topology(raw_topology))
    assert any(
        "zone_rules[5].name: duplicate rule name 'internet-to-public'" in p for p in problems
    )


def test_unknown_profile_is_a_config_error(topology: Topology) -> None:
    with pytest.raises(ConfigError, match="unknown profile 'huge'"):
        topology.profile("huge")


_scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(-5, 70000),
    st.text(max_size=12),
    st.lists(st.text(max_size=6), max_size=3),
    st.dictionaries(st.text(max_size=6), st.integers(), max_size=2),
)


def _paths(data: Any, prefix: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    found = [prefix] if prefix else []
    if isinstance(data, dict):
        for key, value in data.items():
            found += _paths(value, (*prefix, key))
    elif isinstance(data, list):
        for index, value in enumerate(data):
            found += _paths(value, (*prefix, index))
    return found


_ALL_PATHS = _paths(raw_default_topology())


@settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(st.lists(st.tuples(st.sampled_from(_ALL_PATHS), _scalars), min_size=1, max_size=3))
def test_any_mutation_loads_or_fails_with_pointed_problems(
    tmp_path_factory: pytest.TempPathFactory, mutations: list[tuple[tuple[Any, ...], Any]]
) -> None:
    """Property: whatever is broken, the loader never raises anything but a ConfigError."""
    import copy

    import yaml

    data = copy.deepcopy(raw_default_topology())
    for path, value in mutations:
        target = data
        try:
            for part in path[:-1]:
                target = target[part]
            target[path[-1]] = value
        except (KeyError, IndexError, TypeError):
            continue
    file = tmp_path_factory.mktemp("prop") / "t.yaml"
    file.write_text(yaml.safe_dump(data), encoding="utf-8")
    problems: tuple[Any, ...] = ()
    try:
        load_topology(file)
    except TopologyError as error:
        problems = error.problems or ("empty",)
    except ConfigError:
        return
    assert all(getattr(p, "file", None) == str(file) for p in problems)


def test_runtime_readers_name_their_clouds(
    raw_topology: dict[str, Any], write_topology: Callable[[dict[str, Any]], Path]
) -> None:
    del raw_topology["components"]["aws-mcp"]["clouds"]
    raw_topology["components"]["cost-agent"]["clouds"] = ["aws"]
    raw_topology["secrets"]["tenant-cloud-credentials"]["tenants"].append("Not_A_Label")
    problems = problems_of(write_topology(raw_topology))
    assert any(
        "components.aws-mcp.clouds: it reads tenant-cloud-credentials at run time" in p
        for p in problems
    )
    assert any("components.cost-agent.clouds: clouds name whose tenant" in p for p in problems)
    assert any("tenants[3]: a tenant id must be a DNS-1035 label" in p for p in problems)


def test_certificate_lifetimes_outside_cert_managers_limits_point_to_the_key(
    raw_topology: dict[str, Any], write_topology: Callable[[dict[str, Any]], Path]
) -> None:
    raw_topology["profiles"]["dev"]["certificates"] = {"duration": "30m", "renew_before": "10m"}
    raw_topology["profiles"]["prodlike"]["certificates"] = {"duration": "2h", "renew_before": "2h"}
    path = write_topology(raw_topology)
    problems = problems_of(path)
    assert any(
        p.startswith(f"{path}: profiles.dev.certificates:") and "minimum, 1h" in p for p in problems
    ), problems
    assert any(
        p.startswith(f"{path}: profiles.prodlike.certificates:") and "less than the duration" in p
        for p in problems
    ), problems


def test_a_duration_is_read_as_cert_manager_reads_it() -> None:
    from datetime import timedelta

    from devenv.topology.lifetime import parse_duration

    assert parse_duration("1h30m") == timedelta(minutes=90)
    assert parse_duration("2160h") == timedelta(days=90)
    for bad in ("", "90d", "1 h", "h"):
        with pytest.raises(ValueError, match="not a duration"):
            parse_duration(bad)
