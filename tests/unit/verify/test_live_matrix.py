"""The live policy check's pure parts: comparison, control check, report."""

from __future__ import annotations

from devenv.check.matrix import Cell
from devenv.verify.live_matrix import compare, control_cells, enforcement_problem, render_report


def cell(src: str, dst: str, allowed: bool, port: str = "8080/TCP") -> Cell:
    return Cell(src, dst, port, allowed, ("rule",) if allowed else (), allowed, ())


CELLS = [
    cell("cost-agent", "postgresql-timescaledb", True, "5432/TCP"),
    cell("ag-ui-server", "postgresql-timescaledb", False, "5432/TCP"),
    cell("api-gateway", "cost-agent", False),
    cell("api-gateway", "next-app", True),
    cell("cost-agent", "internet", False, "80/TCP"),
]


def observed(**overrides: bool) -> dict[tuple[str, str, str], bool]:
    result = {(c.source, c.destination, c.port): c.observed for c in CELLS}
    for key, value in overrides.items():
        src, dst, port = key.split("__")
        result[(src.replace("_", "-"), dst.replace("_", "-"), port.replace("_", "/"))] = value
    return result


def test_matching_probes_give_no_mismatch() -> None:
    assert compare(CELLS, observed()) == []


def test_a_deleted_policy_is_named_with_expected_and_observed() -> None:
    (mismatch,) = compare(CELLS, observed(cost_agent__postgresql_timescaledb__5432_TCP=False))
    assert str(mismatch) == (
        "cost-agent -> postgresql-timescaledb:5432/TCP:"
        " expected open (devenv policy), observed blocked"
    )


def test_control_check_says_the_cni_does_not_enforce() -> None:
    sources = {"cost-agent", "ag-ui-server", "api-gateway"}
    controls = control_cells(CELLS, sources)
    assert [c.destination for c in controls][-1] == "internet"  # application cells first
    everything_open = dict.fromkeys(observed(), True)
    problem = enforcement_problem(controls, everything_open)
    assert problem is not None
    assert "not enforcing NetworkPolicies" in problem
    # One hole is a mismatch to list, not a CNI that ignores policies.
    one_hole = observed(api_gateway__cost_agent__8080_TCP=True)
    assert enforcement_problem(controls, one_hole) is None


def test_report_marks_mismatches() -> None:
    probes = observed(api_gateway__cost_agent__8080_TCP=True)
    report = render_report(probes, compare(CELLS, probes))
    assert "5 cells probed, 1 differ" in report
    assert "  X" in report
