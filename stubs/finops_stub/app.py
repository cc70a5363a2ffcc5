"""The HTTP service: /health, /ready, /secrets, /metrics and /call."""

from __future__ import annotations

import asyncio
import contextlib
import json
import re
import ssl
import time
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable, MutableMapping
from typing import Any

from prometheus_client import CONTENT_TYPE_LATEST, generate_latest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from finops_stub.checks import Checks
from finops_stub.config import CLOUD_API_ROLE, StubConfig
from finops_stub.logs import JsonLog, request_id
from finops_stub.metrics import Metrics
from finops_stub.secrets import SecretStore
from finops_stub.workers import LOOPS, WorkerLoop, stop_worker

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]
REQUEST_ID_HEADER = "x-request-id"
KNOWN_PATHS = frozenset({"/health", "/ready", "/secrets", "/metrics", "/call"})


REQUEST_ID_PATTERN = re.compile(r"[A-Za-z0-9._-]{1,64}")
# /call takes small JSON from peers: a bounded body and route, so one request
# cannot tie up every hop of the chain.
MAX_CALL_BODY = 16 * 1024
MAX_HOPS = 8


async def _route(request: Request) -> list[str] | str:
    """The hops still to go, or what is wrong with the request (answered 400)."""
    if request.method != "POST":
        route: Any = [p for p in request.query_params.get("route", "").split(",") if p]
    else:
        declared = request.headers.get("content-length", "0")
        if not declared.isdigit() or int(declared) > MAX_CALL_BODY:
            return f"body over {MAX_CALL_BODY} bytes"
        raw = await request.body()
        if len(raw) > MAX_CALL_BODY:
            return f"body over {MAX_CALL_BODY} bytes"
        try:
            body = json.loads(raw) if raw else {}
        except ValueError:
            return "body is not JSON"
        if not isinstance(body, dict):
            return "body must be a JSON object"
        route = body.get("route") or []
    if not isinstance(route, list) or not all(isinstance(hop, str) for hop in route):
        return "route must be a list of component names"
    if len(route) > MAX_HOPS:
        return f"route longer than {MAX_HOPS} hops"
    return route


class Stub:
    """Everything one stub process holds."""

    def __init__(self, config: StubConfig) -> None:
        self.config = config
        self.log = JsonLog(config.component)
        self.metrics = Metrics()
        self.secrets = SecretStore(config.secrets_dir)
        self.checks = Checks(config, self.secrets)
        loop_type = LOOPS.get(config.worker_role or "")
        self.worker: WorkerLoop | None = (
            loop_type(config, self.checks, self.log, self.metrics) if loop_type else None
        )
        # HTTP clients exist only in roles that forward calls (httpx costs memory).
        self.internal: Any = None
        self.external: Any = None

    # --- endpoints
    async def health(self, request: Request) -> Response:
        return JSONResponse({"status": "ok", "component": self.config.component})

    async def ready(self, request: Request) -> Response:
        results = await self.checks.run()
        for result in results:
            self.metrics.check_ok.labels(result.name).set(1 if result.ok else 0)
        ok = all(r.ok for r in results)
        body: dict[str, Any] = {
            "status": "ready" if ok else "not ready",
            "component": self.config.component,
            "checks": {
                r.name: {"ok": r.ok, "detail": r.detail, "ms": r.duration_ms} for r in results
            },
        }
        if self.worker is not None:
            body["worker"] = self.worker.status()
        return JSONResponse(body, status_code=200 if ok else 503)

    async def secrets_view(self, request: Request) -> Response:
        return JSONResponse(
            {
                "component": self.config.component,
                "directory": str(self.config.secrets_dir),
                "secrets": [self.secrets.read(name).describe() for name in self.config.secrets],
            }
        )

    async def metrics_view(self, request: Request) -> Response:
        return Response(generate_latest(self.metrics.registry), media_type=CONTENT_TYPE_LATEST)

    async def call(self, request: Request) -> Response:
        """Forward along the route, one declared call per hop, and report every hop."""
        rid = request_id.get()
        me = {"component": self.config.component, "zone": self.config.zone, "request_id": rid}
        route = await _route(request)
        if isinstance(route, str):  # what is wrong with the request
            return JSONResponse({**me, "error": route}, status_code=400)
        if self.config.component == CLOUD_API_ROLE or not route:
            return JSONResponse({**me, "data": self._answer()})
        target, rest = route[0], route[1:]
        url = self.config.next_hop_url(target)
        if url is None:
            return JSONResponse(
                {**me, "error": f"{target!r} is not a declared call of {self.config.component}"},
                status_code=400,
            )
        import httpx

        client = self.internal if target in self.config.calls else self.external
        assert client is not None  # noqa: S101 - created in the lifespan for roles with calls
        try:
            answer = await client.post(
                f"{url}/call", json={"route": rest}, headers={REQUEST_ID_HEADER: rid or ""}
            )
        except httpx.HTTPError as error:
            return JSONResponse(
                {**me, "error": f"{target}: {type(error).__name__}: {error}"}, status_code=502
            )
        is_json = answer.headers.get("content-type", "").startswith("application/json")
        downstream = answer.json() if is_json else {"raw": answer.text[:200]}
        status = 200 if answer.status_code == 200 else 502
        return JSONResponse({**me, "hops": [downstream]}, status_code=status)

    def _answer(self) -> dict[str, Any]:
        if self.config.component == CLOUD_API_ROLE:
            return {"provider": "simulated", "daily_cost_usd": 1234.56, "currency": "USD"}
        return {"handled_by": self.config.component}

    # --- lifecycle
    @contextlib.asynccontextmanager
    async def lifespan(self, app: Starlette) -> AsyncIterator[None]:
        if self.config.calls or self.config.external_calls:
            import httpx

            timeout = httpx.Timeout(5.0, connect=2.0)
            self.internal = httpx.AsyncClient(timeout=timeout)
            # Verified always: in dev the cloud-API simulator's certificate comes from
            # the environment's CA, which the pod mounts.
            trust = ssl.create_default_context(
                cafile=self.config.ca_file and str(self.config.ca_file)
            )
            self.external = httpx.AsyncClient(timeout=timeout, verify=trust)
        task = asyncio.create_task(self.worker.run()) if self.worker else None
        self.log.event("started", port=self.config.port, worker=self.config.worker_role)
        try:
            yield
        finally:
            if task is not None and self.worker is not None:
                await stop_worker(self.worker, task)
            for client in (self.internal, self.external):
                if client is not None:
                    await client.aclose()
            self.log.event("stopped")


def access_log(stub: Stub, app: ASGIApp) -> ASGIApp:
    """Pure ASGI middleware: request id, one JSON line per request, metrics."""

    async def middleware(scope: Scope, receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            await app(scope, receive, send)
            return
        headers = dict(scope.get("headers") or [])
        given = headers.get(REQUEST_ID_HEADER.encode(), b"").decode("latin-1")
        if given and not REQUEST_ID_PATTERN.fullmatch(given):
            # A peer's id goes into every hop's log line: a short, plain token only.
            refusal = JSONResponse(
                {"error": f"{REQUEST_ID_HEADER} must match {REQUEST_ID_PATTERN.pattern}"},
                status_code=400,
            )
            await refusal(scope, receive, send)
            return
        rid = given or uuid.uuid4().hex
        token = request_id.set(rid)
        status = 500
        started = time.perf_counter()

        async def send_with_id(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                message.setdefault("headers", []).append((REQUEST_ID_HEADER.encode(), rid.encode()))
            await send(message)

        try:
            await app(scope, receive, send_with_id)
        finally:
            elapsed = time.perf_counter() - started
            path = scope["path"] if scope["path"] in KNOWN_PATHS else "other"
            stub.metrics.requests.labels(scope["method"], path, str(status)).inc()
            stub.metrics.latency.labels(path).observe(elapsed)
            stub.log.event(
                "request",
                request_id=rid,
                method=scope["method"],
                path=scope["path"],
                status=status,
                ms=round(elapsed * 1000, 2),
            )
            request_id.reset(token)

    return middleware


def create_app(config: StubConfig) -> ASGIApp:
    stub = Stub(config)
    app = Starlette(
        routes=[
            Route("/health", stub.health),
            Route("/ready", stub.ready),
            Route("/secrets", stub.secrets_view),
            Route("/metrics", stub.metrics_view),
            Route("/call", stub.call, methods=["GET", "POST"]),
        ],
        lifespan=stub.lifespan,
    )
    return access_log(stub, app)
