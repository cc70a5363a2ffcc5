"""Image pins and the override mechanism."""

from __future__ import annotations

from pathlib import Path

import pytest

from devenv.errors import ConfigError, ImageOverrideError
from devenv.topology.images import catalog, env_var_for, is_digest_pinned, resolve_images


def test_every_external_image_is_pinned_by_digest_with_a_source() -> None:
    for name, image in catalog().items():
        assert image.source.strip(), name
        if image.build_context is None:
            assert is_digest_pinned(image.ref), name


def test_env_var_names() -> None:
    assert env_var_for("vault-k8s") == "DEVENV_IMAGE_VAULT_K8S"


def test_file_then_variables(tmp_path: Path) -> None:
    overrides = tmp_path / "images.yaml"
    overrides.write_text(
        "images:\n  redis: mirror.example/redis:7\n  openbao: mirror.example/bao:2\n"
    )
    images = resolve_images(overrides, {"DEVENV_IMAGE_OPENBAO": "other.example/bao:2"})
    assert images.ref("redis") == "mirror.example/redis:7"
    assert images.ref("openbao") == "other.example/bao:2"
    assert images.overridden == {"redis": str(overrides), "openbao": "DEVENV_IMAGE_OPENBAO"}
    assert images.ref("timescaledb") == catalog()["timescaledb"].ref


def test_file_from_environment(tmp_path: Path) -> None:
    overrides = tmp_path / "images.yaml"
    overrides.write_text("images: {redis: 'mirror.example/redis:7'}\n")
    images = resolve_images(None, {"DEVENV_IMAGES_FILE": str(overrides)})
    assert images.ref("redis") == "mirror.example/redis:7"


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("images:\n  redsi: x/y:1\n", r"images\.redsi: unknown image 'redsi'"),
        (
            "images:\n  redis: 'Not A Reference!'\n",
            r"images\.redis: 'Not A Reference!' is not an image reference",
        ),
        ("imagez: {}\n", "imagez: unknown key"),
        ("images: [redis]\n", "images: expected a mapping"),
    ],
)
def test_bad_override_files_point_at_the_key(tmp_path: Path, text: str, message: str) -> None:
    overrides = tmp_path / "images.yaml"
    overrides.write_text(text)
    with pytest.raises(ImageOverrideError, match=message):
        resolve_images(overrides, {})


def test_unknown_variable() -> None:
    with pytest.raises(ImageOverrideError, match="DEVENV_IMAGE_POSTGRES: names no known image"):
        resolve_images(None, {"DEVENV_IMAGE_POSTGRES": "x/y:1"})


def test_missing_file() -> None:
    with pytest.raises(ConfigError, match="no such file"):
        resolve_images(Path("/nonexistent/images.yaml"), {})
