"""The package's shape stays the one the README describes: stage packages whose
docstrings name every module they hold, few small top-level modules, no module
over 400 lines, and one definition of --context."""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest

ROOT = Path(__file__).parents[2]
PACKAGE = ROOT / "devenv"
STAGES = ["topology", "render", "check", "secrets", "tools", "apply", "verify"]


def test_the_top_level_holds_packages_and_at_most_five_small_modules() -> None:
    modules = sorted(p.name for p in PACKAGE.glob("*.py"))
    assert len(modules) <= 5, modules
    packages = sorted(p.name for p in PACKAGE.iterdir() if (p / "__init__.py").is_file())
    assert packages == sorted([*STAGES, "cli"])


def test_no_module_is_over_400_lines() -> None:
    long = {
        str(p.relative_to(ROOT)): n
        for p in PACKAGE.rglob("*.py")
        if (n := len(p.read_text(encoding="utf-8").splitlines())) > 400
    }
    assert long == {}


@pytest.mark.parametrize("stage", STAGES)
def test_each_package_docstring_names_what_is_in_it(stage: str) -> None:
    package = PACKAGE / stage
    docstring = ast.get_docstring(ast.parse((package / "__init__.py").read_text())) or ""
    named = set(re.findall(r"``(\w+)``", docstring))
    held = {p.stem for p in package.glob("*.py") if p.stem != "__init__"}
    held |= {p.name for p in package.iterdir() if (p / "__init__.py").is_file()}
    assert held <= named, f"{stage}'s docstring does not name {sorted(held - named)}"
    assert "Must not" in docstring


def test_the_readme_walks_through_every_package() -> None:
    section = (ROOT / "README.md").read_text().split("## How it works")[1].split("\n## ")[0]
    for stage in STAGES:
        assert f"`devenv/{stage}/`" in section


def test_context_is_defined_once() -> None:
    defined = [
        str(p.relative_to(ROOT))
        for p in PACKAGE.rglob("*.py")
        if re.search(r'Option\(\s*"--context"', p.read_text(encoding="utf-8"))
    ]
    assert defined == ["devenv/cli/_options.py"]
