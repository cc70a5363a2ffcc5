"""`devenv doctor`: is this machine ready for `devenv up`? One row per check.

``gather_facts`` reads the machine (programs, Docker, /proc, ports);
``evaluate`` turns the facts into verdicts and is pure, so every verdict is
unit-tested with hand-written facts.
"""

from __future__ import annotations

import gzip
import platform
import re
import socket
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from devenv.apply.image_routes import ImageRoute
from devenv.errors import DevenvError
from devenv.render.kind_config import GATEWAY_HOST_PORT as GATEWAY_PORT
from devenv.tools.docker import Docker, containerd_store
from devenv.tools.install import ToolPin, ToolReport, host_platform, tool_pins, tool_report
from devenv.tools.process import installed_bin_dir, run
from devenv.topology.images import ImageSet, resolve_images
from devenv.topology.model import Topology
from devenv.topology.sizing import Footprint, namespace_footprint

__all__ = [
    "Check",
    "Facts",
    "diagnose",
    "evaluate",
    "gather_facts",
    "nft_queue_support",
]

MIN_TILT = (0, 33)
MIN_INOTIFY_WATCHES = 524288  # kind's known-issues page
MIN_INOTIFY_INSTANCES = 512


@dataclass(frozen=True)
class Check:
    name: str
    ok: bool
    detail: str
    hint: str = ""
    # Not ok, but `devenv up` works without it (Tilt is for the inner loop only).
    warning: bool = False

    @property
    def failed(self) -> bool:
        return not self.ok and not self.warning

    def as_dict(self) -> dict[str, Any]:
        return {
            "check": self.name, "ok": self.ok, "warning": self.warning,
            "detail": self.detail, "hint": self.hint,
        }  # fmt: skip


@dataclass
class Facts:
    docker: dict[str, Any] | None = None  # `docker info` JSON
    docker_error: str = ""
    versions: dict[str, str | None] = field(default_factory=dict)  # tool -> version output
    tools: dict[str, ToolReport] = field(default_factory=dict)  # what devenv will run
    host: str = ""  # linux-amd64, darwin-arm64, ...
    cgroup_v2: bool = True
    inotify_watches: int | None = None
    inotify_instances: int | None = None
    busy_ports: list[int] = field(default_factory=list)
    nft_queue: bool | None = None  # None: unknown
    kernel: str = ""


def _version(text: str | None) -> tuple[int, int] | None:
    match = re.search(r"v?(\d+)\.(\d+)", text or "")
    return (int(match.group(1)), int(match.group(2))) if match else None


def _node_kubernetes_minor(images: ImageSet) -> tuple[int, int] | None:
    tag = images.ref("kind-node").split("@")[0].rsplit(":", 1)[-1]
    return _version(tag)


def _budget(topology: Topology, profile: str) -> Footprint:
    spec = topology.profile(profile)
    total = Footprint()
    for namespace in topology.namespaces:
        total = total + namespace_footprint(topology, spec, namespace).steady
    return total


def _tool_check(facts: Facts, pin: ToolPin) -> Check:
    """Which kind or kubectl devenv will run, and where it came from; when there is
    none good enough, whether `devenv up` can install the pinned release here."""
    report = facts.tools[pin.name]
    if report.usable:
        return Check(pin.name, True, f"{report.version} ({report.origin}: {report.path})")
    problem = "missing" if report.path is None else f"{report.version} at {report.path} is too old"
    if facts.host in pin.sha256:
        return Check(
            pin.name, True,
            f"{problem}: `devenv up` installs {pin.name} {pin.version} (checksum-verified)"
            f" into {installed_bin_dir()}",
            f"or install it yourself (`devenv up --no-install`): {pin.manual_command(facts.host)}",
        )  # fmt: skip
    return Check(
        pin.name, False,
        f"{problem}; devenv has no checksum for {pin.name} on {facts.host}",
        pin.manual_command(facts.host),
    )  # fmt: skip


def evaluate(
    facts: Facts,
    topology: Topology,
    profile: str,
    images: ImageSet,
    pins: Mapping[str, ToolPin] | None = None,
) -> list[Check]:
    pins = tool_pins() if pins is None else pins
    checks = []
    if facts.docker is None:
        start = "start Docker (Docker Desktop, `sudo systemctl start docker`)"
        checks.append(Check("docker engine", False, facts.docker_error or "no answer", start))
    else:
        checks.append(
            Check("docker engine", True, f"server {facts.docker.get('ServerVersion', '?')}")
        )
        budget = _budget(topology, profile)
        cpus, memory = int(facts.docker.get("NCPU", 0)), int(facts.docker.get("MemTotal", 0))
        fits = budget.cpu_request <= cpus * 1000 and budget.memory_request <= memory
        detail = (
            f"{cpus} CPUs, {memory / 2**30:.1f} GiB; the {profile} profile requests"
            f" {budget.cpu_request}m CPU and {budget.memory_request / 2**30:.2f} GiB"
            f" (limits {budget.cpu_limit}m, {budget.memory_limit / 2**30:.2f} GiB)"
        )
        more = "" if fits else "give Docker more CPUs/memory, or use --profile dev"
        checks.append(Check("docker resources", fits, detail, more))
        if containerd_store(facts.docker):
            store = "containerd image store: `kind load` is broken there (kind #3795), so"
            checks.append(Check(
                "image store", True,
                f"{store} `devenv up` sends images through its local registry (not --no-registry)",
            ))  # fmt: skip
        else:
            checks.append(Check("image store", True, "classic (graph driver): kind load works"))
    checks += [_tool_check(facts, pin) for pin in pins.values() if pin.name in facts.tools]
    tilt = _version(facts.versions.get("tilt"))
    tilt_ok = tilt is not None and tilt >= MIN_TILT
    checks.append(Check(
        "tilt", tilt_ok, f"{tilt[0]}.{tilt[1]}" if tilt else "not installed",
        "" if tilt_ok else "for the inner loop only (`devenv up` does not need it):"
        " install Tilt >= 0.33, https://docs.tilt.dev/install.html",
        warning=not tilt_ok,
    ))  # fmt: skip
    node = _node_kubernetes_minor(images)
    refuses_v1 = node is not None and node >= (1, 35)
    cgroup_ok = facts.cgroup_v2 or not refuses_v1
    version = f"{node[0]}.{node[1]}" if node else "?"
    checks.append(Check(
        "cgroup version", cgroup_ok,
        f"cgroup {'v2' if facts.cgroup_v2 else 'v1'}; node image Kubernetes {version}",
        "" if cgroup_ok else "Kubernetes >= 1.35 refuses cgroup v1: pin a 1.34 node image"
        " (DEVENV_IMAGE_KIND_NODE) or boot with cgroup v2",
    ))  # fmt: skip
    ports_ok = not facts.busy_ports
    checks.append(Check(
        "host ports", ports_ok,
        "free: " + str(GATEWAY_PORT) if ports_ok else f"in use: {facts.busy_ports}",
        "" if ports_ok else "stop what holds it (`ss -ltnp`), or `devenv down` an old cluster",
    ))  # fmt: skip
    watches, instances = facts.inotify_watches, facts.inotify_instances
    inotify_ok = (watches is None or watches >= MIN_INOTIFY_WATCHES) and (
        instances is None or instances >= MIN_INOTIFY_INSTANCES
    )
    checks.append(Check(
        "inotify limits", inotify_ok, f"max_user_watches={watches}, max_user_instances={instances}",
        "" if inotify_ok else f"sudo sysctl fs.inotify.max_user_watches={MIN_INOTIFY_WATCHES}"
        f" fs.inotify.max_user_instances={MIN_INOTIFY_INSTANCES}",
    ))  # fmt: skip
    if facts.nft_queue is False:
        checks.append(Check(
            "policy enforcement", True,
            f"kernel {facts.kernel} lacks nftables queue (kindnet would allow every connection):"
            " `devenv up` uses --policy-enforcer kube-router",
        ))  # fmt: skip
    else:
        state = "present" if facts.nft_queue else "not determinable (no kernel config found)"
        checks.append(Check(
            "policy enforcement", True,
            f"nftables queue {state}: `devenv up` uses --policy-enforcer kindnet",
            "" if facts.nft_queue else "if `devenv test-integration` finds policies not"
            " enforced, run `devenv up --policy-enforcer kube-router`",
        ))  # fmt: skip
    return checks


def _read_int(path: str) -> int | None:
    try:
        return int(Path(path).read_text().strip())
    except (OSError, ValueError):
        return None


def nft_queue_support(kernel: str | None = None) -> bool | None:
    """Whether the kernel has nftables ``queue`` (kindnet's enforcement needs it);
    None when no kernel config can be read (e.g. Docker Desktop's VM)."""
    kernel = kernel or platform.release()
    config = Path("/proc/config.gz")
    if config.exists():
        text = gzip.decompress(config.read_bytes()).decode(errors="replace")
        return bool(re.search(r"^CONFIG_NFT_QUEUE=[ym]", text, flags=re.M))
    boot = Path(f"/boot/config-{kernel}")
    if boot.exists():
        return bool(
            re.search(r"^CONFIG_NFT_QUEUE=[ym]", boot.read_text(errors="replace"), flags=re.M)
        )
    return None


def _port_busy(port: int) -> bool:
    with socket.socket() as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind(("127.0.0.1", port))
        except OSError:
            return True
    return False


def _tool_version(argv: list[str]) -> str | None:
    try:
        result = run(argv, check=False, timeout=20)
    except DevenvError:
        return None
    return (result.stdout + result.stderr).strip() or None


def gather_facts(cluster_name: str, *, probe: Callable[[int], bool] = _port_busy) -> Facts:
    facts = Facts(kernel=platform.release())
    try:
        facts.docker = Docker().info()
    except DevenvError as error:
        facts.docker_error = error.message
    facts.versions = {"tilt": _tool_version(["tilt", "version"])}
    facts.tools = {name: tool_report(pin) for name, pin in tool_pins().items()}
    facts.host = host_platform()
    facts.cgroup_v2 = Path("/sys/fs/cgroup/cgroup.controllers").exists()
    facts.inotify_watches = _read_int("/proc/sys/fs/inotify/max_user_watches")
    facts.inotify_instances = _read_int("/proc/sys/fs/inotify/max_user_instances")
    if probe(GATEWAY_PORT) and not _our_cluster_holds_port(cluster_name):
        facts.busy_ports.append(GATEWAY_PORT)
    facts.nft_queue = nft_queue_support(facts.kernel)
    return facts


def _our_cluster_holds_port(cluster_name: str) -> bool:
    return f":{GATEWAY_PORT}" in Docker().ports(f"{cluster_name}-control-plane")


_ROUTE_TOOLS = {"k3d": "k3d", "minikube": "minikube", "kind": "kind"}


def route_tool(route: ImageRoute) -> str | None:
    """The program a route runs to deliver images (None: it runs none of its own)."""
    return _ROUTE_TOOLS.get(route.kind)


def image_route_check(route: ImageRoute, context: str, tool_found: bool) -> Check:
    """Whether the images held here can reach ``context``, and how."""
    name = f"images reach {context}"
    if route.kind == "pull":
        return Check(
            name, False, route.describe(),
            "devenv up --context CTX --push-to REGISTRY (a registry this cluster pulls from)",
        )  # fmt: skip
    tool = route_tool(route)
    if tool and not tool_found:
        return Check(name, False, route.describe(), f"install {tool}: this route runs it")
    return Check(name, True, route.describe())


def diagnose(
    topology: Topology, profile: str, images_file: Path | None, environ: Mapping[str, str]
) -> list[Check]:
    """Every check for this machine, the image overrides' included: a bad override
    file is a failed row (checked against the catalog alone), not an abort."""
    try:
        images = resolve_images(images_file, environ)
        given = "none given" if images_file is None else f"{images_file} parses, names known images"
        overrides = Check("image overrides", True, given)
    except DevenvError as error:
        images = resolve_images(None, {})
        overrides = Check("image overrides", False, error.message, error.hint or "")
    return [*evaluate(gather_facts(topology.cluster.name), topology, profile, images), overrides]
