"""Prometheus metrics: requests, latencies, check results, worker jobs."""

from __future__ import annotations

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram


class Metrics:
    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        self.requests = Counter(
            "stub_requests", "HTTP requests served",
            ["method", "path", "status"], registry=self.registry,
        )  # fmt: skip
        self.latency = Histogram(
            "stub_request_duration_seconds", "Time to serve a request",
            ["path"], registry=self.registry,
            buckets=(0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5),
        )  # fmt: skip
        self.check_ok = Gauge(
            "stub_check_ok", "1 when the last run of a readiness check passed",
            ["check"], registry=self.registry,
        )  # fmt: skip
        self.jobs = Counter(
            "stub_jobs", "Worker jobs by outcome", ["role", "outcome"], registry=self.registry
        )
