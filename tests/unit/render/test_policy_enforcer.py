"""The kube-router enforcer `up --policy-enforcer kube-router` installs."""

from __future__ import annotations

from devenv.check.kubernetes_schema import schema_problems
from devenv.render.policy_enforcer import render_policy_enforcer
from devenv.topology.images import ImageSet, resolve_images


def test_kube_router_validates_and_enforces_only(image_set: ImageSet) -> None:
    objects = render_policy_enforcer("kube-router", image_set)
    assert [o["kind"] for o in objects] == [
        "ServiceAccount", "ClusterRole", "ClusterRoleBinding", "DaemonSet",
    ]  # fmt: skip
    assert schema_problems(objects, "1.34") == []
    container = objects[-1]["spec"]["template"]["spec"]["containers"][0]
    assert container["image"] == image_set.ref("kube-router")
    assert "--run-firewall=true" in container["args"]
    assert "--run-router=false" in container["args"]  # the cluster's pod network stays
    assert "--run-service-proxy=false" in container["args"]  # and kube-proxy too
    assert all(o["metadata"]["labels"]["app.kubernetes.io/managed-by"] == "finops-devenv"
               for o in objects)  # fmt: skip


def test_kindnet_installs_nothing(image_set: ImageSet) -> None:
    assert render_policy_enforcer("kindnet", image_set) == []


def test_the_image_follows_the_override() -> None:
    images = resolve_images(None, {"DEVENV_IMAGE_KUBE_ROUTER": "mirror.example/kr:v2"})
    daemon_set = render_policy_enforcer("kube-router", images)[-1]
    assert (
        daemon_set["spec"]["template"]["spec"]["containers"][0]["image"] == "mirror.example/kr:v2"
    )
