"""A local HTTP server for tests that stand in for a site on the internet (a
release site, a registry): loopback only, a free port, stopped afterwards."""

from __future__ import annotations

import contextlib
import http.server
import threading
from collections.abc import Callable, Iterator
from typing import Any

Handler = Callable[..., http.server.BaseHTTPRequestHandler]


@contextlib.contextmanager
def serving(handler: Handler | type[Any]) -> Iterator[str]:
    """Serve with ``handler``; yields the server's ``127.0.0.1:PORT``."""
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    # A client that gives up between the server's select and its accept would leave
    # a blocking accept waiting forever, and shutdown() with it: never block there.
    server.socket.setblocking(False)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        yield f"127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()
