"""compose/ runs the same pinned images as Kubernetes, each with a health check."""

from __future__ import annotations

import re
from pathlib import Path

import yaml

from devenv.topology.images import catalog, env_var_for

COMPOSE = Path(__file__).parents[3] / "compose" / "compose.yaml"
SERVICE_IMAGES = {"timescaledb": "timescaledb", "redis": "redis", "openbao": "openbao"}


def test_compose_defaults_are_the_catalog_pins() -> None:
    services = yaml.safe_load(COMPOSE.read_text())["services"]
    for service, image in SERVICE_IMAGES.items():
        match = re.fullmatch(r"\$\{(\w+):-(.+)\}", services[service]["image"])
        assert match, service
        assert match.group(1) == env_var_for(image)
        assert match.group(2) == catalog()[image].ref


def test_every_service_has_a_healthcheck() -> None:
    services = yaml.safe_load(COMPOSE.read_text())["services"]
    assert all("healthcheck" in spec for spec in services.values())
