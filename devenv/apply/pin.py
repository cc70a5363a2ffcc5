"""`devenv images pin`: what each catalog tag points to now, where a registry is
reachable, and with ``write`` the catalog updated in place (its comments and
sources kept: only the digest of a changed reference is replaced)."""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from importlib import resources
from pathlib import Path

from devenv.errors import ConfigError, DevenvError
from devenv.tools.registry_api import ResolvedTag, parse_image, resolve_tag
from devenv.yamlio import load_mapping

__all__ = ["Pin", "default_catalog_path", "pin_catalog"]


@dataclass(frozen=True)
class Pin:
    name: str
    old: str
    new: str | None  # None: could not be resolved (see ``problem``)
    index: bool = False  # the tag names a multi-platform index
    problem: str = ""

    @property
    def changed(self) -> bool:
        return self.new is not None and self.new != self.old


def default_catalog_path() -> Path:
    return Path(str(resources.files("devenv").joinpath("data/images.yaml")))


def pin_catalog(
    path: Path,
    *,
    write: bool,
    resolve: Callable[[str], ResolvedTag] = lambda ref: resolve_tag(parse_image(ref)),
) -> list[Pin]:
    """Resolve every pinned external image of the catalog at ``path``."""
    entries = load_mapping(path).get("images")
    if not isinstance(entries, dict):
        raise ConfigError(f"{path}: expected an `images:` mapping")
    pins = []
    for name, entry in entries.items():
        if not isinstance(entry, dict) or "ref" not in entry:
            raise ConfigError(f"{path}: images.{name}: expected a mapping with a ref")
        if entry.get("build"):
            continue  # built by devenv from this repository, tagged by content
        old = str(entry["ref"])
        try:
            resolved = resolve(old)
        except DevenvError as error:
            pins.append(Pin(name, old, None, problem=error.message))
            continue
        new = f"{old.split('@', 1)[0]}@{resolved.digest}"
        pins.append(Pin(name, old, new, index=resolved.is_index))
    if write:
        text = path.read_text(encoding="utf-8")
        for pin in pins:
            if pin.changed and pin.new is not None:
                text = _replace_ref(text, pin.old, pin.new)
        path.write_text(text, encoding="utf-8")
    return pins


def _replace_ref(text: str, old: str, new: str) -> str:
    """``old`` replaced where it is the whole value of a ``ref:`` line (one
    reference may be the prefix of another), comments after it kept."""
    line = re.compile(rf"^(\s*ref:\s*){re.escape(old)}(?=\s*(#.*)?$)", re.MULTILINE)
    return line.sub(lambda match: match.group(1) + new, text)
