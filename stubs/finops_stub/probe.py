"""`python -m finops_stub.probe HOST PORT --timeout 1`: exit 0 when a TCP
connection opens, 1 otherwise. Runs inside any stub for network-policy tests."""

from __future__ import annotations

import argparse
import socket
import sys


def probe(host: str, port: int, timeout: float) -> tuple[bool, str]:
    try:
        with socket.create_connection((host, port), timeout=timeout):
            return True, "open"
    except TimeoutError:
        return False, f"timed out after {timeout}s"
    except OSError as error:
        return False, error.strerror or type(error).__name__


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m finops_stub.probe")
    parser.add_argument("host")
    parser.add_argument("port", type=int)
    parser.add_argument("--timeout", type=float, default=1.0)
    args = parser.parse_args(argv)
    ok, detail = probe(args.host, args.port, args.timeout)
    print(f"{args.host}:{args.port} {detail}")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
