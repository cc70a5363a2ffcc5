"""`devenv compose`: the data layer and the stubs under docker compose, with
OpenBao agents rendering each stub's secrets, as under kind."""

from __future__ import annotations

import contextlib
import json
import os
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from pathlib import Path

from devenv.render.compose import agent_config, render_compose_stubs, runtime_token_holders
from devenv.secrets.bootstrap import bootstrap, component_token, simulator_token
from devenv.secrets.client import BaoClient, OpenBaoError
from devenv.secrets.dev_values import COMPOSE_ADDRESSES, DevCredentials
from devenv.secrets.tls import load_or_create_certificate
from devenv.state import state_dir, write_private_text
from devenv.tools.build import build_images, plan_builds, source_root
from devenv.tools.process import run
from devenv.topology.images import ImageSet, env_var_for
from devenv.topology.model import Topology
from devenv.yamlio import dump_documents

__all__ = ["ComposeEnvironment"]

DATA_SERVICES = ("timescaledb", "redis", "openbao")


@dataclass(frozen=True)
class ComposeEnvironment:
    topology: Topology
    images: ImageSet
    credentials: DevCredentials
    project: str = "finops-devenv"
    openbao_port: int = 58200

    @property
    def directory(self) -> Path:
        return state_dir(self.topology.cluster.name) / "compose"

    @property
    def stubs_file(self) -> Path:
        return self.directory / "stubs.yaml"

    def files(self, *, with_stubs: bool) -> list[Path]:
        data = source_root() / "compose" / "compose.yaml"
        return [data, self.stubs_file] if with_stubs else [data]

    def argv(self, *args: str, with_stubs: bool) -> list[str]:
        files = [part for f in self.files(with_stubs=with_stubs) for part in ("-f", str(f))]
        return ["docker", "compose", "-p", self.project, *files, *args]

    def environment(self) -> dict[str, str]:
        """Credentials reach compose through its environment, never its files or argv."""
        env = dict(os.environ)
        env |= {
            "DEVENV_PG_PASSWORD": self.credentials.postgres_password,
            "DEVENV_REDIS_PASSWORD": self.credentials.redis_password,
            "DEVENV_OPENBAO_ROOT_TOKEN": self.credentials.openbao_root_token,
            "DEVENV_OPENBAO_PORT": str(self.openbao_port),
        }
        env |= {env_var_for(name): ref for name, ref in self.images.refs.items()}
        return env

    def compose(self, *args: str, with_stubs: bool, timeout: float = 600) -> str:
        result = run(
            self.argv(*args, with_stubs=with_stubs), env=self.environment(), timeout=timeout
        )
        return result.stdout

    def write_stub_files(self, only: Sequence[str]) -> None:
        agents = self.directory / "agents"
        tls = self.directory / "tls"
        for component in self.topology.components.values():
            if component.is_stub and self.topology.injected_secrets(component):
                target = agents / component.name
                target.mkdir(parents=True, exist_ok=True)
                config = agent_config(self.topology, component)
                (target / "config.json").write_text(json.dumps(config, indent=2), encoding="utf-8")
        certificate = load_or_create_certificate(
            self.directory / "gateway-certificate.json", ["localhost", "api-gateway"]
        )
        tls.mkdir(parents=True, exist_ok=True)
        (tls / "tls.crt").write_text(certificate.cert_pem, encoding="utf-8")
        write_private_text(tls / "tls.key", certificate.key_pem)
        document = render_compose_stubs(
            self.topology, self.images, agents_dir=agents, tls_dir=tls, only=only
        )
        self.stubs_file.write_text(
            dump_documents([document]).removeprefix("---\n"), encoding="utf-8"
        )

    def issue_runtime_tokens(self, client: BaoClient, only: Sequence[str]) -> None:
        """Tokens for the reads at run time (tenant credentials): each reader's own
        policy, the simulator's read-only one; the one-shot handover copies them."""
        components = self.topology.components
        chosen = [c for c in components.values() if c.is_stub and (not only or c.name in only)]
        for holder in runtime_token_holders(self.topology, chosen):
            token_file = self.directory / "agents" / holder / "runtime" / "token"
            token_file.parent.mkdir(parents=True, exist_ok=True)
            if token_file.exists():  # the one issued last time is no longer needed
                _revoke(client, token_file.read_text(encoding="utf-8").strip())
            token = (
                component_token(client, components[holder])
                if holder in components
                else simulator_token(client, holder)
            )
            write_private_text(token_file, token)

    def issue_agent_tokens(self, client: BaoClient, only: Sequence[str]) -> None:
        for component in self.topology.components.values():
            if not (component.is_stub and self.topology.injected_secrets(component)):
                continue
            if only and component.name not in only:
                continue
            token_file = self.directory / "agents" / component.name / "token"
            if token_file.exists():  # the one issued last time is no longer needed
                _revoke(client, token_file.read_text(encoding="utf-8").strip())
            # 0600: the agent container runs as root and reads it through the bind mount.
            write_private_text(token_file, component_token(client, component))

    def up(
        self,
        *,
        with_stubs: bool,
        only: Sequence[str] = (),
        progress: Callable[[str], None] = lambda _: None,
    ) -> None:
        self.directory.mkdir(parents=True, exist_ok=True)
        env = self
        if with_stubs:
            progress("building the stub images")
            built = build_images(plan_builds(self.images))
            env = replace(
                self, images=self.images.with_refs(**{r.plan.name: r.plan.tag for r in built})
            )
            env.write_stub_files(only)
        progress("starting TimescaleDB, Redis and OpenBao")
        env.compose("up", "-d", "--wait", *DATA_SERVICES, with_stubs=False)
        progress("bootstrapping OpenBao")
        address = f"http://127.0.0.1:{env.openbao_port}"
        with BaoClient(address, env.credentials.openbao_root_token) as client:
            bootstrap(client, env.topology, env.credentials, COMPOSE_ADDRESSES, kubernetes=None)
            if with_stubs:
                env.issue_agent_tokens(client, only)
                env.issue_runtime_tokens(client, only)
        if with_stubs:
            progress("starting the stubs and their OpenBao agents")
            env.compose("up", "-d", "--wait", with_stubs=True, timeout=900)

    def down(self, *, volumes: bool) -> None:
        with_stubs = self.stubs_file.exists()
        self.compose(
            "down", "--remove-orphans", *(["-v"] if volumes else []), with_stubs=with_stubs
        )


def _revoke(client: BaoClient, token: str) -> None:
    """Revoke an agent token issued earlier; one the OpenBao never knew (a restarted
    dev server) or already revoked is gone anyway."""
    if not token:
        return
    with contextlib.suppress(OpenBaoError):
        client.request("POST", "auth/token/revoke", {"token": token})
