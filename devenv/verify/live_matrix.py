"""Comparing the policy matrix probed live with the static one, cell by cell.

Pure: probes come in as data. The control check runs first: when a cell
that must be denied is open, the CNI is not enforcing NetworkPolicies at all
(kindnet fails open on kernels without nftables queue support), and that is
the one thing worth saying instead of hundreds of differing cells.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from devenv.check.matrix import Cell

__all__ = ["LiveMismatch", "compare", "control_cells", "enforcement_problem", "render_report"]

CellKey = tuple[str, str, str]  # source, destination, port label


@dataclass(frozen=True)
class LiveMismatch:
    source: str
    destination: str
    port: str
    expected: bool
    observed: bool

    def __str__(self) -> str:
        def word(allowed: bool) -> str:
            return "open" if allowed else "blocked"

        return (
            f"{self.source} -> {self.destination}:{self.port}: expected {word(self.expected)}"
            f" (devenv policy), observed {word(self.observed)}"
        )


def control_cells(cells: Sequence[Cell], sources: set[str], limit: int = 3) -> list[Cell]:
    """Cells the static matrix blocks, from sources we can probe: the control group."""
    preferred = [c for c in cells if not c.observed and c.source in sources]
    # Prefer denials between application components: nothing else can explain them.
    external = ("internet", "cloud-apis")
    preferred.sort(key=lambda c: (c.destination in external, c.source, c.destination))
    return preferred[:limit]


def enforcement_problem(controls: Sequence[Cell], observed: Mapping[CellKey, bool]) -> str | None:
    opened = [c for c in controls if observed.get((c.source, c.destination, c.port))]
    if not opened or len(opened) < len(controls):
        return None
    cell = opened[0]
    return (
        f"the CNI is not enforcing NetworkPolicies: {cell.source} -> {cell.destination}:{cell.port}"
        " must be blocked and is open (kindnet fails open on kernels without nftables queue"
        " support): run `devenv up --policy-enforcer kube-router`"
    )


def compare(cells: Sequence[Cell], observed: Mapping[CellKey, bool]) -> list[LiveMismatch]:
    """Every probed cell whose live verdict differs from the static matrix."""
    return [
        LiveMismatch(c.source, c.destination, c.port, c.observed, observed[key])
        for c in cells
        if (key := (c.source, c.destination, c.port)) in observed and observed[key] != c.observed
    ]


def render_report(observed: Mapping[CellKey, bool], mismatches: Sequence[LiveMismatch]) -> str:
    """A compact text matrix: sources down, destinations across; X marks a mismatch."""
    bad = {(m.source, m.destination, m.port) for m in mismatches}
    sources = sorted({s for s, _, _ in observed})
    columns = sorted({(d, p) for _, d, p in observed})
    lines = ["legend: o open, . blocked, X differs from `devenv policy`", ""]
    for index, (destination, port) in enumerate(columns, start=1):
        lines.append(f"  {index:>2} {destination}:{port}")
    lines.append("")
    lines.append(" " * 24 + "".join(f"{i:>3}" for i in range(1, len(columns) + 1)))
    for source in sources:
        row = []
        for destination, port in columns:
            key = (source, destination, port)
            if key not in observed:
                row.append("  -")
            elif key in bad:
                row.append("  X")
            else:
                row.append("  o" if observed[key] else "  .")
        lines.append(f"{source[:23]:<24}" + "".join(row))
    lines.append("")
    lines.append(f"{len(observed)} cells probed, {len(mismatches)} differ")
    return "\n".join(lines)
