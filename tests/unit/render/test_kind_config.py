"""kind-config.yaml stays in step with the topology and the image pins."""

from __future__ import annotations

from pathlib import Path

import yaml

from devenv.topology.images import catalog
from devenv.topology.model import Topology

KIND_CONFIG = Path(__file__).parents[3] / "kind-config.yaml"


def test_kind_config_matches_topology_and_pins(topology: Topology) -> None:
    config = yaml.safe_load(KIND_CONFIG.read_text())
    assert config["name"] == topology.cluster.name
    assert config["networking"]["podSubnet"] == str(topology.cluster.pod_cidrs[0])
    assert config["networking"]["serviceSubnet"] == str(topology.cluster.service_cidrs[0])
    (node,) = config["nodes"]
    assert node["image"] == catalog()["kind-node"].ref
    node_ports = {p.node_port for c in topology.components.values() for p in c.ports if p.node_port}
    assert {m["containerPort"] for m in node["extraPortMappings"]} == node_ports


def test_kind_config_is_what_devenv_up_renders(topology: Topology) -> None:
    from devenv.render.kind_config import render_kind_config
    from devenv.topology.images import resolve_images

    rendered = render_kind_config(topology, resolve_images(None, {}))
    assert yaml.safe_load(KIND_CONFIG.read_text()) == rendered
    other_cni = render_kind_config(topology, resolve_images(None, {}), disable_default_cni=True)
    assert other_cni["networking"]["disableDefaultCNI"] is True


def test_the_local_registry_is_documented_the_kep_1755_way() -> None:
    from devenv.render.kind_config import render_registry_hosting

    configmap = render_registry_hosting()
    assert configmap["metadata"] == {
        "name": "local-registry-hosting",
        "namespace": "kube-public",
        "labels": {
            "app.kubernetes.io/managed-by": "finops-devenv",
            "finops.io/environment": "finops-devenv",
        },
    }
    hosting = yaml.safe_load(configmap["data"]["localRegistryHosting.v1"])
    assert hosting["host"] == "localhost:5001"
    config = yaml.safe_load(KIND_CONFIG.read_text())
    assert 'config_path = "/etc/containerd/certs.d"' in config["containerdConfigPatches"][0]
