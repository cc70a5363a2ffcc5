"""The secret-file contract: where secrets land in a pod and what each file holds.

The renderers (agent annotations, compose agents), the stubs (readers), the
injection check and the live suite all depend on it, so it lives once, here.
Every file is one JSON document ``{"version": N, "data": {...}}`` rendered by an
OpenBao agent from KV v2.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

__all__ = [
    "CREDENTIALS_DIR",
    "DATA_CREDENTIALS_SECRET",
    "KV_MOUNT",
    "SECRETS_DIR",
    "STATIC_SECRET_RENDER_INTERVAL",
    "TLS_DIR",
    "secret_file_content",
    "secret_file_template",
]

KV_MOUNT = "secret"
SECRETS_DIR = "/vault/secrets"
# Short in dev so a rotation reaches the files within a minute (the agent's default is 5 min).
STATIC_SECRET_RENDER_INTERVAL = "15s"  # noqa: S105 - a duration
# The data layer's bootstrap credentials: a Secret `devenv up` creates, mounted as files.
DATA_CREDENTIALS_SECRET = "finops-data-credentials"  # noqa: S105 - the Secret's name
CREDENTIALS_DIR = "/run/secrets/finops"
TLS_DIR = "/etc/finops/tls"  # where the stub looks for tls.crt and tls.key
# The environment's dev CA certificate (public): a Secret of that name in every
# namespace, mounted where the stubs and the injector's agents read it.
DEV_CA_SECRET = "finops-dev-ca"  # noqa: S105 - the Secret's name
CA_DIR = "/etc/finops/ca"  # the stub's ca.crt
AGENT_TLS_DIR = "/vault/tls"  # where the injector mounts vault.hashicorp.com/tls-secret
# The audience of the token an agent logs in with: a token minted for OpenBao is
# refused by the API server and by anything else that checks its audience.
OPENBAO_AUDIENCE = "openbao"
# Injected secret files: the agent (uid 100) writes them, the app reads them through
# the pod's fsGroup, which owns the shared volume; nobody else reads them.
SECRET_FILE_MODE = "0440"  # noqa: S105 - a file mode


def secret_file_template(kv_path: str) -> str:
    """The agent template for one secret: its KV v2 data and version as one JSON line."""
    api_path = f"{KV_MOUNT}/data/{kv_path}"
    return (
        f'{{{{- with secret "{api_path}" -}}}}'
        '{"version": {{ .Data.metadata.version }}, "data": {{ .Data.data | toJSON }}}'
        "{{- end -}}"
    )


def secret_file_content(data: Mapping[str, Any], version: int) -> str:
    """What the agent writes for ``secret_file_template``: its toJSON is Go's
    json.Marshal (sorted keys, no spaces), so the bytes, and their hash, are known."""
    encoded = json.dumps(dict(data), sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return f'{{"version": {version}, "data": {encoded}}}'
