"""How long the environment's certificates live: a profile value, checked against
what cert-manager accepts (a Certificate lasts at least an hour and is renewed at
least five minutes before it ends)."""

from __future__ import annotations

import re
from datetime import timedelta

from pydantic import BaseModel, ConfigDict, model_validator

__all__ = ["CertificateLifetime", "parse_duration"]

_PART = re.compile(r"(\d+)(h|m|s)")
_UNITS = {"h": 3600, "m": 60, "s": 1}
MINIMUM_DURATION = timedelta(hours=1)  # cert-manager's webhook refuses shorter
MINIMUM_RENEW_BEFORE = timedelta(minutes=5)


def parse_duration(text: str) -> timedelta:
    """A Go duration in hours, minutes and seconds, as cert-manager reads it: 1h, 55m, 1h30m."""
    if not text or _PART.sub("", text):
        raise ValueError(f"{text!r} is not a duration such as 1h, 55m or 2160h")
    return timedelta(seconds=sum(int(n) * _UNITS[unit] for n, unit in _PART.findall(text)))


class CertificateLifetime(BaseModel):
    """``duration`` and ``renew_before`` of the certificates cert-manager issues."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    duration: str = "2160h"  # cert-manager's default: 90 days
    renew_before: str = "720h"  # renewed with a third left

    @model_validator(mode="after")
    def _within_cert_manager_limits(self) -> CertificateLifetime:
        duration, renew_before = parse_duration(self.duration), parse_duration(self.renew_before)
        if duration < MINIMUM_DURATION:
            raise ValueError(f"duration {self.duration} is shorter than cert-manager's minimum, 1h")
        if not MINIMUM_RENEW_BEFORE <= renew_before < duration:
            raise ValueError(
                f"renew_before {self.renew_before} must be at least 5m and less than the"
                f" duration ({self.duration})"
            )
        return self
