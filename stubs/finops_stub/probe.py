"""`python -m finops_stub.probe HOST PORT --timeout 1`: exit 0 when a TCP
connection opens, 1 otherwise. Runs inside any stub for network-policy tests.

`python -m finops_stub.probe --batch --timeout 1 < targets.json` probes a JSON
list of [host, port] pairs concurrently and prints a JSON list of booleans,
so one `kubectl exec` covers a whole row of the policy matrix."""

from __future__ import annotations

import argparse
import json
import socket
import sys
from concurrent.futures import ThreadPoolExecutor


def probe(host: str, port: int, timeout: float) -> tuple[bool, str]:
    try:
        with socket.create_connection((host, port), timeout=timeout):
            return True, "open"
    except TimeoutError:
        return False, f"timed out after {timeout}s"
    except OSError as error:
        return False, error.strerror or type(error).__name__


def probe_batch(targets: list[tuple[str, int]], timeout: float) -> list[bool]:
    with ThreadPoolExecutor(max_workers=32) as pool:
        return list(pool.map(lambda t: probe(t[0], int(t[1]), timeout)[0], targets))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m finops_stub.probe")
    parser.add_argument("host", nargs="?")
    parser.add_argument("port", type=int, nargs="?")
    parser.add_argument("--timeout", type=float, default=1.0)
    parser.add_argument("--batch", action="store_true", help="[host, port] pairs as JSON on stdin")
    args = parser.parse_args(argv)
    if args.batch:
        print(json.dumps(probe_batch(json.load(sys.stdin), args.timeout)))
        return 0
    if args.host is None or args.port is None:
        parser.error("HOST and PORT are required without --batch")
    ok, detail = probe(args.host, args.port, args.timeout)
    print(f"{args.host}:{args.port} {detail}")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
