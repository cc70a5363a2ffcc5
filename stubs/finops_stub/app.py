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
from dataclasses import dataclass
from typing import Any

from prometheus_client import CONTENT_TYPE_LATEST, generate_latest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from finops_stub.checks import SHARED_DEPENDENCY_CHECKS, Checks
from finops_stub.config import CLOUD_API_ROLE, StubConfig
from finops_stub.logs import JsonLog, request_id
from finops_stub.metrics import Metrics
from finops_stub.secrets import SecretStore
from finops_stub.tenants import (
    CLOUD_HEADER,
    CLOUDS,
    TENANT_HEADER,
    TENANT_PATTERN,
    CredentialForbidden,
    CredentialNotFound,
    OpenBaoRuntime,
    OpenBaoUnavailable,
    sign,
    verify,
)
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


@dataclass(frozen=True)
class CallRequest:
    route: list[str]  # the hops still to go
    tenant: str | None  # whose cloud credentials the cloud API is called with


async def _call_request(request: Request) -> CallRequest | str:
    """The hops still to go and the tenant, or what is wrong (answered 400)."""
    tenant: Any = request.query_params.get("tenant")
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
        tenant = body.get("tenant", tenant)
    if not isinstance(route, list) or not all(isinstance(hop, str) for hop in route):
        return "route must be a list of component names"
    if len(route) > MAX_HOPS:
        return f"route longer than {MAX_HOPS} hops"
    if tenant is not None and not (isinstance(tenant, str) and TENANT_PATTERN.fullmatch(tenant)):
        return f"tenant must match {TENANT_PATTERN.pattern}"
    return CallRequest(route, tenant)


# What a failed read of tenant credentials answers: the tenant's problem (404,
# 403) or OpenBao's (503, named: DEV-INF-005), never a 500.
_CREDENTIAL_STATUS = {CredentialNotFound: 404, CredentialForbidden: 403, OpenBaoUnavailable: 503}
# A hop passes these on as they are (a tenant unknown four hops down is still a
# 404 at the gateway); any other failure downstream is the hop's 502.
_PASSED_ON = frozenset({403, 404, 503})


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
        self.tenants: OpenBaoRuntime | None = None  # tenant credentials, read per request

    # --- endpoints
    async def health(self, request: Request) -> Response:
        return JSONResponse({"status": "ok", "component": self.config.component})

    async def ready(self, request: Request) -> Response:
        results = await self.checks.run()
        for result in results:
            self.metrics.check_ok.labels(result.name).set(1 if result.ok else 0)
        ok = all(r.ok for r in results if r.name not in SHARED_DEPENDENCY_CHECKS)
        degraded = ok and not all(r.ok for r in results)
        body: dict[str, Any] = {
            "status": ("degraded" if degraded else "ready") if ok else "not ready",
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
        me: dict[str, Any] = {
            "component": self.config.component, "zone": self.config.zone, "request_id": rid,
        }  # fmt: skip
        parsed = await _call_request(request)
        if isinstance(parsed, str):  # what is wrong with the request
            return JSONResponse({**me, "error": parsed}, status_code=400)
        if self.config.component == CLOUD_API_ROLE:
            return await self._cloud_api_answer(request, parsed, me)
        if not parsed.route:
            return JSONResponse({**me, "data": self._answer()})
        target, rest = parsed.route[0], parsed.route[1:]
        url = self.config.next_hop_url(target)
        if url is None:
            return JSONResponse(
                {**me, "error": f"{target!r} is not a declared call of {self.config.component}"},
                status_code=400,
            )
        import httpx

        body = json.dumps(
            {"route": rest, **({"tenant": parsed.tenant} if parsed.tenant else {})}
        ).encode()
        headers = {REQUEST_ID_HEADER: rid or "", "content-type": "application/json"}
        external = target not in self.config.calls
        if external and parsed.tenant and self.tenants is not None and self.config.cloud:
            try:  # read now, used for this call only
                credential = await self.tenants.read(parsed.tenant, self.config.cloud)
            except tuple(_CREDENTIAL_STATUS) as error:
                status = _CREDENTIAL_STATUS[type(error)]
                return JSONResponse({**me, "error": str(error)}, status_code=status)
            headers |= sign(credential, method="POST", path="/call", body=body)
            me["credential_version"] = credential.version
        client = self.external if external else self.internal
        assert client is not None  # noqa: S101 - created in the lifespan for roles with calls
        try:
            answer = await client.post(f"{url}/call", content=body, headers=headers)
        except httpx.HTTPError as error:
            return JSONResponse(
                {**me, "error": f"{target}: {type(error).__name__}: {error}"}, status_code=502
            )
        is_json = answer.headers.get("content-type", "").startswith("application/json")
        downstream = answer.json() if is_json else {"raw": answer.text[:200]}
        if answer.status_code == 200:
            status = 200
        else:
            status = answer.status_code if answer.status_code in _PASSED_ON else 502
            if isinstance(downstream, dict) and downstream.get("error"):
                me["error"] = f"{target}: {downstream['error']}"  # the cause, named at the top
        return JSONResponse({**me, "hops": [downstream]}, status_code=status)

    async def _cloud_api_answer(
        self, request: Request, parsed: CallRequest, me: dict[str, Any]
    ) -> Response:
        """The simulated cloud API: a signed call is checked against the tenant's
        current credential in OpenBao; an unsigned one (no tenant) is answered as before."""
        tenant = request.headers.get(TENANT_HEADER)
        if tenant is None:
            return JSONResponse({**me, "data": self._answer()})
        cloud = request.headers.get(CLOUD_HEADER, "")
        if self.tenants is None or cloud not in CLOUDS or not TENANT_PATTERN.fullmatch(tenant):
            return JSONResponse(
                {**me, "error": "signed calls are not checked here"}, status_code=403
            )
        try:
            current = await self.tenants.read(tenant, cloud)
        except tuple(_CREDENTIAL_STATUS) as error:
            status = _CREDENTIAL_STATUS[type(error)]
            if status == 403:  # the simulator's own token: its problem, not the caller's
                status = 503
            return JSONResponse({**me, "error": str(error)}, status_code=status)
        refused = verify(
            current, request.headers, method=request.method, path=request.url.path,
            body=await request.body(),
        )  # fmt: skip
        if refused is not None:
            return JSONResponse(
                {**me, "error": f"{cloud} refused the call: {refused}"}, status_code=403
            )
        data = {
            **self._answer(),
            "tenant": tenant,
            "cloud": cloud,
            "credential_version": current.version,
        }
        return JSONResponse({**me, "data": data})

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
        if self.config.tenant_credentials is not None:
            self.tenants = OpenBaoRuntime(self.config.tenant_credentials)
            self.checks.openbao = self.tenants
        task = asyncio.create_task(self.worker.run()) if self.worker else None
        self.log.event("started", port=self.config.port, worker=self.config.worker_role)
        try:
            yield
        finally:
            if task is not None and self.worker is not None:
                await stop_worker(self.worker, task)
            for client in (self.internal, self.external, self.tenants):
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
