"""The serving certificate, followed: cert-manager renews it into the mounted
Secret, and the kubelet swaps the files in place (a new ``..data`` link), so the
server loads the new pair into its live TLS context. New handshakes get the new
certificate; connections already open keep theirs; nothing restarts."""

from __future__ import annotations

import hashlib
import ssl
import threading
from pathlib import Path

from finops_stub.logs import JsonLog

__all__ = ["CertificateFollower"]


class CertificateFollower:
    """Reloads ``cert``/``key`` into ``context`` whenever their content changes."""

    def __init__(
        self, context: ssl.SSLContext, cert: Path, key: Path, log: JsonLog, *, interval: float = 1.0
    ) -> None:
        self.context, self.cert, self.key, self.log = context, cert, key, log
        self.interval = interval
        self._seen = self._fingerprint()
        self._stop = threading.Event()
        self._thread = threading.Thread(
            target=self._follow, name="certificate-follower", daemon=True
        )

    def _fingerprint(self) -> str | None:
        """The pair's content (a swap changes it; reading mid-swap fails and waits)."""
        try:
            return hashlib.sha256(self.cert.read_bytes() + self.key.read_bytes()).hexdigest()
        except OSError:
            return None

    def check(self) -> bool:
        """Load the pair if it changed since last seen; whether it did."""
        current = self._fingerprint()
        if current is None or current == self._seen:
            return False
        try:
            self.context.load_cert_chain(self.cert, self.key)
        except (OSError, ssl.SSLError) as error:
            # A half-written pair (certificate from one renewal, key from the
            # next): keep serving the old one and look again.
            self.log.event("certificate_reload_failed", error=str(error))
            return False
        self._seen = current
        self.log.event("certificate_reloaded", cert=str(self.cert))
        return True

    def _follow(self) -> None:
        while not self._stop.wait(self.interval):
            self.check()

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
