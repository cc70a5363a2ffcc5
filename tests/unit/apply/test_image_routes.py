"""How images held here reach each kind of cluster: the route chosen from the
context, and the argument lists each route runs (faked at the process boundary)."""

from __future__ import annotations

import pytest
from pytest_subprocess import FakeProcess

from devenv.apply.doctor import image_route_check
from devenv.apply.image_routes import ImageRoute, choose_route, context_provider
from devenv.tools.docker import Docker
from devenv.tools.kind import KindCluster
from devenv.tools.local_clusters import k3d_import, minikube_load


@pytest.fixture(autouse=True)
def _programs(programs_in_usr_bin: None) -> None:
    """Every program in /usr/bin."""


def _route(context: str | None, **kwargs: object) -> ImageRoute:
    options: dict[str, object] = {"devenv_cluster": "finops-dev", "kind_clusters": ["ext"]}
    options.update(kwargs)
    return choose_route(context, **options)  # type: ignore[arg-type]


def test_each_kind_of_cluster_gets_its_route() -> None:
    assert _route(None) == ImageRoute("devenv-kind", "finops-dev")
    assert _route("kind-ext") == ImageRoute("kind", "ext")
    assert _route("kind-finops-dev", kind_clusters=["finops-dev"]) == ImageRoute(
        "devenv-kind", "finops-dev"
    )
    assert _route("kind-gone") == ImageRoute("pull")  # named like kind, but no such cluster
    assert _route("k3d-shared") == ImageRoute("k3d", "shared")
    assert _route("minikube") == ImageRoute("minikube", "minikube")
    assert _route("dev", provider="minikube.sigs.k8s.io") == ImageRoute("minikube", "dev")
    assert _route("docker-desktop") == ImageRoute("docker-desktop")
    assert _route("gke_team_europe-west1_dev") == ImageRoute("pull")
    assert _route("gke_x", push_to="europe-docker.pkg.dev/team/dev/") == ImageRoute(
        "registry", "europe-docker.pkg.dev/team/dev"
    )
    assert _route("kind-ext").on_kind_network
    assert not _route("k3d-shared").on_kind_network


def test_minikube_is_told_apart_by_its_kubeconfig_extension() -> None:
    kubeconfig = {
        "contexts": [{"name": "dev", "context": {"cluster": "dev"}}],
        "clusters": [
            {
                "name": "dev",
                "cluster": {
                    "server": "https://192.168.49.2:8443",
                    "extensions": [
                        {"name": "cluster_info",
                         "extension": {"provider": "minikube.sigs.k8s.io", "version": "v1.34.0"}}
                    ],
                },
            }
        ],
    }  # fmt: skip
    assert context_provider(kubeconfig, "dev") == "minikube.sigs.k8s.io"
    assert context_provider(kubeconfig, "other") is None


def test_the_argument_lists_of_each_route(fp: FakeProcess) -> None:
    refs = ["localhost:5001/finops-devenv/stub-agent:abc", "finops-ci/postgres:15-1"]
    fp.register(["/usr/bin/kind", "load", "docker-image", "--name", "ext", *refs])
    fp.register(["/usr/bin/k3d", "image", "import", "--cluster", "shared", *refs])
    fp.register(["/usr/bin/minikube", "--profile", "dev", "image", "load", refs[1]])
    fp.register(["/usr/bin/docker", "tag", refs[0], "registry.example/finops-devenv/x:1"])
    fp.register(["/usr/bin/docker", "push", "registry.example/finops-devenv/x:1"])
    KindCluster("ext").load(refs)
    k3d_import("shared", refs)
    minikube_load("dev", refs[1])
    Docker().tag(refs[0], "registry.example/finops-devenv/x:1")
    Docker().push("registry.example/finops-devenv/x:1")
    assert len(fp.calls) == 5


def test_doctor_says_what_a_remote_cluster_lacks() -> None:
    remote = image_route_check(ImageRoute("pull"), "gke_x", tool_found=True)
    assert not remote.ok
    assert "--push-to REGISTRY" in remote.hint
    k3d = image_route_check(ImageRoute("k3d", "shared"), "k3d-shared", tool_found=False)
    assert not k3d.ok
    assert k3d.hint == "install k3d: this route runs it"
    assert image_route_check(ImageRoute("kind", "ext"), "kind-ext", tool_found=True).ok
