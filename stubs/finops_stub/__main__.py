"""`python -m finops_stub`: serve the role named in STUB_CONFIG."""

from __future__ import annotations

import sys


def main() -> int:
    from finops_stub.config import ConfigError, load_config

    try:
        config = load_config()
    except ConfigError as error:
        print(f"finops-stub: {error}", file=sys.stderr)
        return 2
    import uvicorn

    from finops_stub.app import create_app

    options: dict[str, object] = {}
    if config.tls:
        if not (config.tls_cert.is_file() and config.tls_key.is_file()):
            print(
                f"finops-stub: TLS is on but {config.tls_cert} or {config.tls_key} is missing",
                file=sys.stderr,
            )
            return 2
        options = {"ssl_certfile": str(config.tls_cert), "ssl_keyfile": str(config.tls_key)}
    server_config = uvicorn.Config(
        create_app(config),
        host=config.host,
        port=config.port,
        log_level="warning",
        access_log=False,  # the app logs one JSON line per request itself
        lifespan="on",
        # Probes and peers hold short requests only; a client that keeps a
        # connection open must not hold back shutdown past the pod's grace.
        timeout_graceful_shutdown=1,
        **options,  # type: ignore[arg-type]
    )
    server_config.load()  # builds the TLS context the follower reloads into
    if server_config.ssl is not None:
        from finops_stub.certificates import CertificateFollower
        from finops_stub.logs import JsonLog

        CertificateFollower(
            server_config.ssl, config.tls_cert, config.tls_key, JsonLog(config.component)
        ).start()
    uvicorn.Server(server_config).run()
    return 0


if __name__ == "__main__":
    sys.exit(main())
