"""Reading YAML with errors that point, and writing it deterministically."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

import yaml

from devenv.errors import ConfigError

__all__ = [
    "dump_documents",
    "load_documents",
    "load_mapping",
    "manifest_files",
    "parse_documents",
    "parse_mapping",
]


# libyaml's parser where PyYAML was built with it (the wheels are): the topology
# parses in a tenth of the time, which a re-run of `devenv up` pays on every call.
_SafeLoader: type[yaml.SafeLoader] = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


class _StrictLoader(_SafeLoader):  # type: ignore[valid-type,misc]
    """SafeLoader that refuses duplicate keys instead of keeping the last one."""


def _construct_mapping(loader: _StrictLoader, node: yaml.MappingNode) -> dict[Any, Any]:
    loader.flatten_mapping(node)
    mapping: dict[Any, Any] = {}
    for key_node, value_node in node.value:
        key = loader.construct_object(key_node)
        if key in mapping:
            mark = key_node.start_mark
            raise yaml.constructor.ConstructorError(
                None, None, f"duplicate key {key!r} (line {mark.line + 1})", mark
            )
        mapping[key] = loader.construct_object(value_node)
    return mapping


_StrictLoader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _construct_mapping)


def _describe_yaml_error(error: yaml.YAMLError) -> str:
    mark = getattr(error, "problem_mark", None)
    problem = getattr(error, "problem", None) or str(error)
    if mark is not None:
        return f"line {mark.line + 1}, column {mark.column + 1}: {problem}"
    return problem


def parse_mapping(text: str, *, source: str) -> dict[str, Any]:
    """Parse one YAML document that must be a mapping."""
    try:
        data = yaml.load(text, Loader=_StrictLoader)  # noqa: S506 - _StrictLoader is a SafeLoader
    except yaml.YAMLError as error:
        raise ConfigError(
            f"{source}: not valid YAML: {_describe_yaml_error(error)}",
            hint="check the indentation and quoting at that line",
        ) from None
    if not isinstance(data, dict):
        kind = "empty" if data is None else type(data).__name__
        raise ConfigError(f"{source}: expected a mapping at the top level, found {kind}")
    return data


def _read_text(path: Path) -> str:
    try:
        return path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ConfigError(f"{path}: no such file") from None
    except IsADirectoryError:
        raise ConfigError(f"{path}: is a directory, expected a YAML file") from None
    except (OSError, UnicodeDecodeError) as error:
        raise ConfigError(f"{path}: cannot read: {error}") from None


def load_mapping(path: Path) -> dict[str, Any]:
    """Read a YAML file whose single document is a mapping."""
    return parse_mapping(_read_text(path), source=str(path))


def load_documents(path: Path) -> list[dict[str, Any]]:
    """Read every mapping document of a YAML file (empty documents are skipped)."""
    return parse_documents(_read_text(path), source=str(path))


def parse_documents(text: str, *, source: str) -> list[dict[str, Any]]:
    """Every mapping document of YAML text (a List's items; empty documents skipped)."""
    try:
        documents = list(yaml.load_all(text, Loader=_StrictLoader))
    except yaml.YAMLError as error:
        raise ConfigError(f"{source}: not valid YAML: {_describe_yaml_error(error)}") from None
    result: list[dict[str, Any]] = []
    for index, document in enumerate(documents):
        if document is None:
            continue
        if not isinstance(document, dict):
            raise ConfigError(f"{source}: document {index + 1} is not a mapping")
        if document.get("kind") == "List" and isinstance(document.get("items"), list):
            result.extend(item for item in document["items"] if isinstance(item, dict))
        else:
            result.append(document)
    return result


class _Dumper(yaml.SafeDumper):
    """Block style, no aliases: output that diffs well and reads like hand-written YAML."""

    def ignore_aliases(self, data: Any) -> bool:
        return True


def _str_presenter(dumper: yaml.SafeDumper, data: str) -> yaml.ScalarNode:
    style = "|" if "\n" in data else None
    return dumper.represent_scalar("tag:yaml.org,2002:str", data, style=style)


_Dumper.add_representer(str, _str_presenter)


def dump_documents(documents: Iterable[Mapping[str, Any]]) -> str:
    """Serialise manifests as one multi-document YAML stream, byte-for-byte stable."""
    return "".join(
        "---\n"
        + yaml.dump(dict(document), Dumper=_Dumper, sort_keys=False, width=1000, allow_unicode=True)
        for document in documents
    )


def manifest_files(path: Path) -> list[Path]:
    """A manifest file, or the *.yaml/*.yml files below a directory, in order."""
    if not path.exists():
        raise ConfigError(f"{path}: no such file or directory")
    if path.is_file():
        return [path]
    files = sorted(p for p in path.rglob("*") if p.suffix in (".yaml", ".yml") and p.is_file())
    if not files:
        raise ConfigError(f"{path}: no .yaml or .yml files here")
    return files
