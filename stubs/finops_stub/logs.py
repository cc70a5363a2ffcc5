"""JSON logs on stdout, one line per event, correlated by request_id (§7.1)."""

from __future__ import annotations

import json
import sys
import time
from contextvars import ContextVar
from typing import Any

request_id: ContextVar[str | None] = ContextVar("request_id", default=None)


class JsonLog:
    def __init__(self, component: str) -> None:
        self.component = component

    def event(self, event: str, **fields: Any) -> None:
        record = {
            "ts": round(time.time(), 3),
            "component": self.component,
            "event": event,
            "request_id": fields.pop("request_id", None) or request_id.get(),
            **fields,
        }
        sys.stdout.write(json.dumps(record, separators=(",", ":"), default=str) + "\n")
        sys.stdout.flush()
