"""Secrets are files (§6.1): one per secret, re-read when they change.

The OpenBao agent writes each file as one JSON document,
``{"version": N, "data": {...}}``; a plain-text file is taken as the value
itself. Nothing here ever logs or returns a value, only metadata.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit


@dataclass(frozen=True)
class SecretFile:
    name: str
    present: bool
    mtime: float | None = None
    sha256: str | None = None  # a short content hash, safe to show
    version: int | None = None
    data: Any = None  # parsed content; never serialised

    def describe(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "present": self.present,
            "mtime": self.mtime,
            "sha256": self.sha256,
            "version": self.version,
        }

    def field(self, name: str) -> str | None:
        """One field of the secret's data (the whole text for a plain file)."""
        if isinstance(self.data, dict):
            value = self.data.get(name)
            return None if value is None else str(value)
        if isinstance(self.data, str) and self.data:
            return self.data
        return None


class SecretStore:
    """Reads secret files from a directory, caching by (mtime, size)."""

    def __init__(self, directory: Path) -> None:
        self.directory = directory
        self._cache: dict[str, tuple[tuple[int, int], SecretFile]] = {}

    def read(self, name: str) -> SecretFile:
        path = self.directory / name
        try:
            stat = path.stat()
        except OSError:
            self._cache.pop(name, None)
            return SecretFile(name=name, present=False)
        stamp = (stat.st_mtime_ns, stat.st_size)
        cached = self._cache.get(name)
        if cached and cached[0] == stamp:
            return cached[1]
        try:
            content = path.read_bytes()
        except OSError:
            return SecretFile(name=name, present=False)
        secret = _parse(name, content, stat.st_mtime)
        self._cache[name] = (stamp, secret)
        return secret


REDACTED = "***"
# Credentials in a URL (postgresql://user:password@host): hidden even when the
# password is not one of the known secret values (an old one, after a rotation).
_URL_USERINFO = re.compile(r"(?P<scheme>[A-Za-z][A-Za-z0-9+.-]*://)[^/@\s]*@")
_SHORTEST_REDACTED = 4  # shorter values ("1", "true") are not secrets worth a hole


def _values(data: Any) -> Iterator[str]:
    if isinstance(data, dict):
        for value in data.values():
            yield from _values(value)
    elif isinstance(data, list):
        for value in data:
            yield from _values(value)
    elif data is not None and not isinstance(data, bool):
        yield str(data)


def _fragments(value: str) -> Iterator[str]:
    """A value, and the parts of it a driver may quote alone: the words of a
    connection string (and their ``key=`` values), a URL's password."""
    yield value
    for word in value.split():
        yield word
        yield word.partition("=")[2]
    with contextlib.suppress(ValueError):
        password = urlsplit(value).password
        if password:
            yield password


def redact(text: str, secrets: Iterable[SecretFile]) -> str:
    """``text`` without any value of these secrets and without URL credentials:
    what a worker may show of an error message in /ready and its log."""
    values = {
        fragment
        for secret in secrets
        for value in _values(secret.data)
        for fragment in _fragments(value)
        if len(fragment) >= _SHORTEST_REDACTED
    }
    for value in sorted(values, key=len, reverse=True):  # a URL before the password in it
        text = text.replace(value, REDACTED)
    return _URL_USERINFO.sub(rf"\g<scheme>{REDACTED}@", text)


def _parse(name: str, content: bytes, mtime: float) -> SecretFile:
    digest = hashlib.sha256(content).hexdigest()[:12]
    text = content.decode("utf-8", errors="replace").strip()
    version, data = None, text
    try:
        document = json.loads(text)
    except ValueError:
        document = None
    if isinstance(document, dict) and "data" in document:
        data = document["data"]
        raw_version = document.get("version")
        version = raw_version if isinstance(raw_version, int) else None
    return SecretFile(
        name=name, present=bool(text), mtime=mtime, sha256=digest, version=version, data=data
    )
