"""Nothing devenv prints shows a secret devenv knows, or dev-mode OpenBao's banner."""

from __future__ import annotations

import pytest

from devenv.cli._console import report_error
from devenv.errors import CommandFailed
from devenv.secrets.redaction import REDACTED, Redactor, known_secret_values
from devenv.secrets.tls import environment_ca, load_or_create_certificate
from devenv.state import state_dir, write_private_json

BANNER = """You may need to set the following environment variables:
    $ export BAO_ADDR='http://0.0.0.0:8200'
The unseal key and root token are displayed below in case you want to
seal/unseal the Vault or re-authenticate.

Unseal Key: 1+yv+v5mz+aSCK67X6slL3ECxb4UDL8ujWZU/ONBVAY=
Root Token: devenv-SomethingOnlyDevenvKnows
"""


def test_the_dev_banner_is_redacted_even_for_unknown_values() -> None:
    redacted = Redactor([])(BANNER)
    assert "1+yv+v5mz" not in redacted
    assert "SomethingOnlyDevenvKnows" not in redacted
    assert f"Unseal Key: {REDACTED}" in redacted
    assert "BAO_ADDR='http://0.0.0.0:8200'" in redacted  # the rest stays


def test_every_value_in_the_state_files_is_known_and_replaced() -> None:
    write_private_json(
        state_dir("c1") / "dev-secrets.json",
        {"postgres_password": "pg-secret-123456", "seeds": {"llm": {"key": "sk-live-abcdefgh"}},
         "openbao_unseal_key": "unseal-xyz-987654", "short": "finops"},
    )  # fmt: skip
    values = known_secret_values()
    assert values == {"pg-secret-123456", "sk-live-abcdefgh", "unseal-xyz-987654"}
    text = "connect failed for postgres://finops:pg-secret-123456@db, key sk-live-abcdefgh"
    assert (
        Redactor(values)(text)
        == f"connect failed for postgres://finops:{REDACTED}@db, key {REDACTED}"
    )


def test_the_dev_ca_key_and_serving_keys_are_known() -> None:
    ca = environment_ca("c2")
    served = load_or_create_certificate(state_dir("c2") / "openbao-certificate.json", ["x"], ca)
    values = known_secret_values()
    for key in (ca.key_pem, served.key_pem):
        body = [line for line in key.splitlines() if "-----" not in line]
        assert body
        assert set(body) <= values
        assert REDACTED in Redactor(values)(key)
    assert not any(line in values for line in ca.cert_pem.splitlines())  # certificates are public


def test_errors_are_printed_redacted(capsys: pytest.CaptureFixture[str]) -> None:
    write_private_json(
        state_dir("c1") / "dev-secrets.json",
        {"redis_password": "redis-pass-7777777"},
    )
    error = CommandFailed(["kubectl", "logs"], 1, "line one\nauth failed: redis-pass-7777777\n")
    report_error(error)
    printed = capsys.readouterr().err
    assert "redis-pass-7777777" not in printed
    assert REDACTED in printed


def test_an_unreadable_state_file_does_not_break_error_reporting(
    capsys: pytest.CaptureFixture[str],
) -> None:
    broken = state_dir("c2") / "dev-secrets.json"
    broken.parent.mkdir(parents=True)
    broken.write_text("{ not json")
    report_error(CommandFailed(["kubectl", "get"], 1, "it failed\n"))
    assert "it failed" in capsys.readouterr().err
