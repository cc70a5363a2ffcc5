"""Kubernetes resource quantities: parse to integers, add, format back.

CPU is counted in millicores and memory in bytes, so sums are exact.
"""

from __future__ import annotations

import re
from decimal import Decimal

__all__ = ["format_cpu", "format_memory", "parse_cpu", "parse_memory"]

_BINARY = {"Ki": 2**10, "Mi": 2**20, "Gi": 2**30, "Ti": 2**40, "Pi": 2**50, "Ei": 2**60}
_DECIMAL = {"": 1, "k": 10**3, "M": 10**6, "G": 10**9, "T": 10**12, "P": 10**15, "E": 10**18}
_QUANTITY = re.compile(r"^(?P<number>[0-9]+(?:\.[0-9]+)?)(?P<suffix>[a-zA-Z]*)$")


def _split(text: str) -> tuple[Decimal, str]:
    match = _QUANTITY.match(str(text).strip())
    if not match:
        raise ValueError(f"{text!r} is not a Kubernetes quantity (e.g. 250m, 1, 512Mi, 2Gi)")
    return Decimal(match["number"]), match["suffix"]


def parse_cpu(text: str | int | float) -> int:
    """CPU quantity to millicores: '250m' -> 250, '2' -> 2000, '0.5' -> 500."""
    number, suffix = _split(str(text))
    if suffix == "m":
        return int(number)
    if suffix == "":
        return int(number * 1000)
    raise ValueError(f"{text!r}: CPU takes millicores (250m) or cores (1, 0.5)")


def parse_memory(text: str | int) -> int:
    """Memory quantity to bytes: '48Mi' -> 50331648."""
    number, suffix = _split(str(text))
    if suffix in _BINARY:
        return int(number * _BINARY[suffix])
    if suffix in _DECIMAL:
        return int(number * _DECIMAL[suffix])
    raise ValueError(f"{text!r}: memory takes a suffix such as Mi or Gi")


def format_cpu(millicores: int) -> str:
    """Millicores to the shortest exact quantity: 2000 -> '2', 250 -> '250m'."""
    return str(millicores // 1000) if millicores % 1000 == 0 else f"{millicores}m"


def format_memory(size: int) -> str:
    """Bytes to the largest exact binary unit: 50331648 -> '48Mi'."""
    for suffix in ("Ei", "Pi", "Ti", "Gi", "Mi", "Ki"):
        unit = _BINARY[suffix]
        if size >= unit and size % unit == 0:
            return f"{size // unit}{suffix}"
    return str(size)
