"""Which kubeconfig entries devenv reads the API with itself, and which it leaves
to kubectl (the live reading: tests/cluster/test_kube_api.py)."""

from __future__ import annotations

import base64
from pathlib import Path

import yaml

from devenv.tools.kube_api import load_kubeconfig_entry


def _b64(text: str) -> str:
    return base64.b64encode(text.encode()).decode()


def _write(path: Path, *, user: dict[str, object], context: str = "kind-dev") -> Path:
    path.write_text(
        yaml.safe_dump(
            {
                "current-context": context,
                "contexts": [{"name": context, "context": {"cluster": "c", "user": "u"}}],
                "clusters": [
                    {"name": "c", "cluster": {"server": "https://127.0.0.1:6443/",
                                              "certificate-authority": "ca.crt"}}
                ],
                "users": [{"name": "u", "user": user}],
            }
        ),
        encoding="utf-8",
    )  # fmt: skip
    return path


def test_client_certificates_as_data_and_files_relative_to_the_kubeconfig(tmp_path: Path) -> None:
    (tmp_path / "ca.crt").write_text("CA PEM", encoding="utf-8")
    config = _write(tmp_path / "config", user={"client-certificate-data": _b64("CERT"),
                                                "client-key-data": _b64("KEY")})  # fmt: skip
    entry = load_kubeconfig_entry("kind-dev", {"KUBECONFIG": str(config)})
    assert entry is not None
    assert entry.server == "https://127.0.0.1:6443"
    assert (entry.ca_pem, entry.client_cert_pem, entry.client_key_pem) == ("CA PEM", "CERT", "KEY")
    assert entry.token is None


def test_the_current_context_and_the_first_file_that_names_it_win(tmp_path: Path) -> None:
    (tmp_path / "ca.crt").write_text("CA", encoding="utf-8")
    first = _write(tmp_path / "a", user={"token": "first"})
    second = _write(tmp_path / "b", user={"token": "second"})
    entry = load_kubeconfig_entry(None, {"KUBECONFIG": f"{first}:{second}"})
    assert entry is not None
    assert entry.token == "first"


def test_exec_plugins_and_unknown_contexts_are_left_to_kubectl(tmp_path: Path) -> None:
    (tmp_path / "ca.crt").write_text("CA", encoding="utf-8")
    config = _write(tmp_path / "config", user={"exec": {"command": "aws"}})
    assert load_kubeconfig_entry("kind-dev", {"KUBECONFIG": str(config)}) is None
    assert load_kubeconfig_entry("elsewhere", {"KUBECONFIG": str(config)}) is None
    assert load_kubeconfig_entry(None, {"KUBECONFIG": str(tmp_path / "missing")}) is None
