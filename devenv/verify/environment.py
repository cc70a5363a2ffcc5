"""Is there an environment to look at? Asked once, before a command that reads
the live environment runs anything, so a missing cluster is one line with the
next step instead of a wall of kubectl errors or test tracebacks."""

from __future__ import annotations

from devenv.errors import DevenvError, ToolError, ToolMissing
from devenv.tools.kubectl import Kubectl
from devenv.topology.model import Topology

__all__ = ["NoEnvironment", "require_environment"]


class NoEnvironment(DevenvError):
    """Nothing answers on the context, or the environment is not deployed there."""


def require_environment(topology: Topology, context: str) -> None:
    """NoEnvironment unless the cluster answers and holds the topology's namespaces."""
    namespaces = list(topology.namespaces)
    hint = "run `devenv up`, or pass --context to look at another cluster"
    try:
        present = Kubectl(context).namespace_names(*namespaces, "--ignore-not-found", timeout=20)
    except ToolMissing:
        raise
    except ToolError:
        raise NoEnvironment(f"no environment answers on context {context}", hint=hint) from None
    missing = [n for n in namespaces if n not in present]
    if missing:
        raise NoEnvironment(
            f"the environment is not deployed on context {context}"
            f" ({len(missing)} of {len(namespaces)} namespaces missing, e.g. {missing[0]})",
            hint=hint,
        )
