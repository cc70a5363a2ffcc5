"""What a tag points to now, asked of its registry over the OCI distribution API
(`devenv images pin`): the multi-platform index where the image has one, never
one platform's manifest. Anonymous pull tokens are fetched the way docker does
(a 401's ``WWW-Authenticate: Bearer realm=...``).
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass

import httpx

from devenv.errors import ConfigError, ToolError

__all__ = ["ImageName", "ResolvedTag", "parse_image", "resolve_tag"]

# Indexes first: a registry answers with the most preferred type it has.
INDEX_TYPES = (
    "application/vnd.oci.image.index.v1+json",
    "application/vnd.docker.distribution.manifest.list.v2+json",
)
MANIFEST_TYPES = (
    "application/vnd.oci.image.manifest.v1+json",
    "application/vnd.docker.distribution.manifest.v2+json",
)
_BEARER = re.compile(r'(\w+)="([^"]*)"')


@dataclass(frozen=True)
class ImageName:
    registry: str  # as in the reference: docker.io, quay.io, localhost:5001
    repository: str  # library/python, openbao/openbao
    tag: str

    @property
    def api_base(self) -> str:
        host = "registry-1.docker.io" if self.registry == "docker.io" else self.registry
        # Like docker: plain HTTP only for a registry on this machine.
        local = host.split(":")[0] in ("localhost", "127.0.0.1")
        return f"{'http' if local else 'https'}://{host}/v2/{self.repository}"


def parse_image(ref: str) -> ImageName:
    """registry/repository:tag[@digest] -> its parts (docker.io and library/ implied)."""
    name = ref.split("@", 1)[0]
    repository, sep, tag = name.rpartition(":")
    if not sep or "/" in tag:
        raise ConfigError(f"{ref}: no tag to resolve", hint="pin a reference of the form NAME:TAG")
    first, _, rest = repository.partition("/")
    if rest and ("." in first or ":" in first or first == "localhost"):
        registry, path = first, rest
    else:
        registry, path = "docker.io", repository
    if registry == "docker.io" and "/" not in path:
        path = f"library/{path}"
    return ImageName(registry, path, tag)


@dataclass(frozen=True)
class ResolvedTag:
    digest: str  # sha256:...
    media_type: str

    @property
    def is_index(self) -> bool:
        return self.media_type in INDEX_TYPES


def _token(client: httpx.Client, challenge: str, fallback_scope: str) -> str:
    params = dict(_BEARER.findall(challenge))
    realm = params.pop("realm", None)
    if realm is None:
        raise ToolError(f"unsupported registry authentication: {challenge}")
    params.setdefault("scope", fallback_scope)
    answer = client.get(realm, params=params)
    answer.raise_for_status()
    body = answer.json()
    return str(body.get("token") or body.get("access_token") or "")


def resolve_tag(image: ImageName, *, timeout: float = 30) -> ResolvedTag:
    """The digest the tag points to now, by the registry's own answer."""
    url = f"{image.api_base}/manifests/{image.tag}"
    headers = {"Accept": ", ".join((*INDEX_TYPES, *MANIFEST_TYPES))}
    try:
        with httpx.Client(timeout=timeout, follow_redirects=True) as client:
            response = client.get(url, headers=headers)
            if response.status_code == 401:
                scope = f"repository:{image.repository}:pull"
                token = _token(client, response.headers.get("www-authenticate", ""), scope)
                response = client.get(url, headers={**headers, "Authorization": f"Bearer {token}"})
            if response.status_code != 200:
                raise ToolError(f"{url}: HTTP {response.status_code}", hint=_hint(image))
    except httpx.HTTPError as error:
        raise ToolError(f"{url}: {type(error).__name__}: {error}", hint=_hint(image)) from None
    media_type = response.headers.get("content-type", "").split(";")[0].strip()
    digest = response.headers.get("docker-content-digest") or (
        "sha256:" + hashlib.sha256(response.content).hexdigest()
    )
    return ResolvedTag(digest, media_type)


def _hint(image: ImageName) -> str:
    return (
        f"is {image.registry} reachable from here, and does {image.repository}:{image.tag} exist?"
    )
