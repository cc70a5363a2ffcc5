"""The errors devenv raises on purpose.

Only the CLI's error boundary (``devenv.cli.main``) turns them into output and
exit codes: one red line, an optional hint, exit 1. Anything else is a bug and
keeps its traceback.

    DevenvError                 anything the user can fix; has ``hint``
    ├── ConfigError             a file the user gave (or we ship) is wrong
    │   ├── TopologyError       the topology, with one ``Problem`` per defect
    │   ├── ManifestError       manifests the user gave (``policy --manifests``)
    │   └── ImageOverrideError  an image-override file or variable
    ├── ToolError               an external program
    │   ├── ToolMissing         not on PATH (or too old)
    │   └── CommandFailed       ran and failed: command, exit code, stderr tail
    └── CheckFailed             a verification found differences (policy, lint)
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

__all__ = [
    "CheckFailed",
    "CommandFailed",
    "ConfigError",
    "DevenvError",
    "ImageOverrideError",
    "ManifestError",
    "Problem",
    "ToolError",
    "ToolMissing",
    "TopologyError",
]


class DevenvError(Exception):
    """Base of every error the user can act on."""

    def __init__(self, message: str, *, hint: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.hint = hint

    def details(self) -> list[str]:
        """Further lines to print under the message (one per problem)."""
        return []


class ConfigError(DevenvError):
    """A configuration file is unreadable or invalid."""


@dataclass(frozen=True)
class Problem:
    """One defect in a file: where it is and what is wrong."""

    file: str
    key_path: str
    message: str

    def __str__(self) -> str:
        where = f"{self.file}: {self.key_path}" if self.key_path else self.file
        return f"{where}: {self.message}"


class TopologyError(ConfigError):
    """The topology failed to load; ``problems`` lists every defect found."""

    def __init__(self, problems: Sequence[Problem]) -> None:
        self.problems = tuple(problems)
        count = len(self.problems)
        noun = "problem" if count == 1 else "problems"
        first = self.problems[0].file if self.problems else "topology"
        super().__init__(
            f"{first}: invalid topology ({count} {noun})",
            hint="fix the keys named above; `devenv render --topology FILE` re-checks",
        )

    def details(self) -> list[str]:
        return [str(problem) for problem in self.problems]


class ManifestError(ConfigError):
    """Manifests the user gave are invalid; ``problems`` names each as
    ``file: Kind/name: field: message``."""

    def __init__(self, source: str, problems: Sequence[str], *, hint: str | None = None) -> None:
        self.problems = tuple(problems)
        noun = "problem" if len(self.problems) == 1 else "problems"
        super().__init__(
            f"{source}: invalid manifests ({len(self.problems)} {noun})",
            hint=hint or "the API server would refuse these objects; fix the fields named above",
        )

    def details(self) -> list[str]:
        return list(self.problems)


class ImageOverrideError(ConfigError):
    """An image-override file or DEVENV_IMAGE_* variable is invalid."""


class ToolError(DevenvError):
    """An external program could not do its job."""


class ToolMissing(ToolError):
    """An external program is not installed (or is too old)."""


class CommandFailed(ToolError):
    """An external program exited non-zero."""

    def __init__(
        self, argv: Sequence[str], returncode: int, stderr: str, *, hint: str | None = None
    ) -> None:
        self.argv = tuple(argv)
        self.returncode = returncode
        self.stderr = stderr
        tail = stderr.strip().splitlines()[-1] if stderr.strip() else "no output"
        super().__init__(f"`{' '.join(argv)}` exited {returncode}: {tail}", hint=hint)

    def details(self) -> list[str]:
        return stderr_tail(self.stderr)


class CheckFailed(DevenvError):
    """A verification ran and found differences; ``findings`` lists them."""

    def __init__(self, message: str, findings: Sequence[str], *, hint: str | None = None) -> None:
        super().__init__(message, hint=hint)
        self.findings = tuple(findings)

    def details(self) -> list[str]:
        return list(self.findings)


def stderr_tail(stderr: str, lines: int = 10) -> list[str]:
    """The last lines of a program's stderr, for error details."""
    return stderr.strip().splitlines()[-lines:]
