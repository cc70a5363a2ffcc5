"""Pod networking for the CI kind cluster: a stand-in for kindnetd.

kindnetd's source is not served by the module proxy reachable here, so this
does the part of its job a kind cluster needs, the way kindnetd does it:
- write a CNI config (ptp + host-local on this node's podCIDR + portmap),
- route every other node's podCIDR via that node's InternalIP,
- masquerade pod traffic leaving the pod subnet.
NetworkPolicy is not its job (kube-router's firewall enforces it).

Runs as a hostNetwork DaemonSet; needs get/list on nodes.
"""

from __future__ import annotations

import json
import os
import ssl
import subprocess
import sys
import time
import urllib.request

SA = "/var/run/secrets/kubernetes.io/serviceaccount"
CNI_CONF = "/etc/cni/net.d/10-podnet.conflist"


def api_base() -> str:
    # kind patches CONTROL_PLANE_ENDPOINT in, so this works before kube-proxy.
    endpoint = os.environ.get("CONTROL_PLANE_ENDPOINT")
    if endpoint:
        return f"https://{endpoint}"
    return (
        f"https://{os.environ['KUBERNETES_SERVICE_HOST']}:{os.environ['KUBERNETES_SERVICE_PORT']}"
    )


def list_nodes() -> list[dict]:
    with open(f"{SA}/token") as f:
        token = f.read().strip()
    ctx = ssl.create_default_context(cafile=f"{SA}/ca.crt")
    req = urllib.request.Request(
        f"{api_base()}/api/v1/nodes", headers={"Authorization": f"Bearer {token}"}
    )
    with urllib.request.urlopen(req, context=ctx, timeout=10) as resp:
        return json.load(resp)["items"]


def internal_ip(node: dict) -> str | None:
    for addr in node.get("status", {}).get("addresses", []):
        if addr["type"] == "InternalIP" and ":" not in addr["address"]:
            return addr["address"]
    return None


def cni_config(pod_cidr: str) -> str:
    conf = {
        "cniVersion": "0.4.0",
        "name": "podnet",
        "plugins": [
            {
                "type": "ptp",
                "ipMasq": False,
                "ipam": {
                    "type": "host-local",
                    "dataDir": "/run/cni-ipam-state",
                    "routes": [{"dst": "0.0.0.0/0"}],
                    "ranges": [[{"subnet": pod_cidr}]],
                },
                "mtu": 1500,
            },
            {"type": "portmap", "capabilities": {"portMappings": True}},
        ],
    }
    return json.dumps(conf, indent=2) + "\n"


def write_if_changed(path: str, text: str) -> None:
    try:
        with open(path) as f:
            if f.read() == text:
                return
    except FileNotFoundError:
        pass
    tmp = path + ".tmp"
    with open(tmp, "w") as f:
        f.write(text)
    os.replace(tmp, path)
    print(f"wrote {path}", flush=True)


def run(*args: str, quiet: bool = False) -> int:
    stderr = subprocess.DEVNULL if quiet else None
    return subprocess.run(args, check=False, stderr=stderr).returncode


def ensure_masquerade(pod_subnet: str) -> None:
    rule = [
        "-s",
        pod_subnet,
        "!",
        "-d",
        pod_subnet,
        "-m",
        "comment",
        "--comment",
        "podnet masquerade",
        "-j",
        "MASQUERADE",
    ]
    if run("iptables", "-t", "nat", "-C", "POSTROUTING", *rule, quiet=True) != 0:
        run("iptables", "-t", "nat", "-A", "POSTROUTING", *rule)


def sync(node_name: str, pod_subnet: str) -> bool:
    nodes = list_nodes()
    me = next((n for n in nodes if n["metadata"]["name"] == node_name), None)
    pod_cidr = (me or {}).get("spec", {}).get("podCIDR")
    if not pod_cidr:
        print(f"node {node_name} has no podCIDR yet", flush=True)
        return False
    for node in nodes:
        cidr = node.get("spec", {}).get("podCIDR")
        ip = internal_ip(node)
        if node is me or not cidr or not ip:
            continue
        run("ip", "route", "replace", cidr, "via", ip)
    ensure_masquerade(pod_subnet)
    write_if_changed(CNI_CONF, cni_config(pod_cidr))
    return True


def main() -> int:
    node_name = os.environ["NODE_NAME"]
    pod_subnet = os.environ.get("POD_SUBNET", "10.244.0.0/16")
    while True:
        try:
            sync(node_name, pod_subnet)
        except Exception as exc:  # keep the loop alive: the API may not be up yet
            print(f"sync failed: {exc}", file=sys.stderr, flush=True)
        time.sleep(10)


if __name__ == "__main__":
    sys.exit(main())
