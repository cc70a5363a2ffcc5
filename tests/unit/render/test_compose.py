"""The compose layout of the stubs: same templates as the injector, one agent per stub."""

from __future__ import annotations

import json
from pathlib import Path

from devenv.render.compose import agent_config, render_compose_stubs
from devenv.secrets.files import secret_file_template
from devenv.topology.images import ImageSet
from devenv.topology.model import Topology


def test_agent_config_renders_the_injector_templates(topology: Topology) -> None:
    config = agent_config(topology, topology.components["cost-agent"])
    assert config["template_config"]["static_secret_render_interval"] == "15s"
    assert [t["destination"] for t in config["template"]] == [
        "/vault/secrets/llm-api-keys",
        "/vault/secrets/database-url",
    ]
    assert config["template"][0]["contents"] == secret_file_template("finops/llm")


def test_only_the_chosen_stubs_with_their_agents(topology: Topology, image_set: ImageSet) -> None:
    document = render_compose_stubs(
        topology, image_set, agents_dir=Path("/state/agents"), tls_dir=Path("/state/tls"),
        only=["cost-agent", "aws-mcp", "api-gateway"],
    )  # fmt: skip
    services = document["services"]
    assert set(services) == {
        "cost-agent", "cost-agent-agent", "aws-mcp", "aws-mcp-agent", "api-gateway", "cloud-apis",
        "api-gateway-tls",
        # Tokens for reading tenant credentials per request: aws-mcp's, the simulator's.
        "aws-mcp-openbao", "cloud-apis-openbao",
    }  # fmt: skip
    assert "aws-mcp-openbao:/run/openbao:ro" in services["aws-mcp"]["volumes"]
    simulator = json.loads(services["cloud-apis"]["environment"]["STUB_CONFIG"])
    assert simulator["tenant_credentials"]["token_file"] == "/run/openbao/token"
    assert "api-gateway-agent" not in services  # the gateway reads no secret
    assert "cost-agent-secrets:/vault/secrets:ro" in services["cost-agent"]["volumes"]
    assert "cost-agent-secrets:/vault/secrets" in services["cost-agent-agent"]["volumes"]
    config = json.loads(services["cost-agent"]["environment"]["STUB_CONFIG"])
    assert config["calls"]["aws-mcp"] == "http://aws-mcp:8080"
    mcp = json.loads(services["aws-mcp"]["environment"]["STUB_CONFIG"])
    assert mcp["external_urls"] == {"cloud-apis": "http://cloud-apis:8080"}
    # The key reaches the gateway through a volume a root one-shot fills, never a
    # world-readable file on the host.
    assert "api-gateway-tls:/etc/finops/tls:ro" in services["api-gateway"]["volumes"]
    assert services["api-gateway-tls"]["volumes"] == [
        "/state/tls:/source:ro",
        "api-gateway-tls:/target",
    ]
    assert services["api-gateway"]["depends_on"]["api-gateway-tls"] == {
        "condition": "service_completed_successfully"
    }
    assert "ca_file" not in mcp  # compose has no dev CA
