"""`python -m local.sandbox --port 8081`: run the sandbox exchange alone until interrupted."""

from __future__ import annotations

import argparse
import contextlib
import logging
import signal
import threading
from collections.abc import Sequence

from local.sandbox.server import SandboxServer


def parse_args(argv: Sequence[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m local.sandbox", description=__doc__)
    parser.add_argument("--host", default="127.0.0.1", help="bind address (loopback only by policy)")
    parser.add_argument("--port", type=int, default=8081)
    parser.add_argument(
        "--clock-speed",
        "--step-seconds",
        dest="step_seconds",
        type=float,
        default=10.0,
        help="seconds per lifecycle step of every order; 0 = orders move only on command",
    )
    parser.add_argument(
        "--lapse-seconds", type=float, default=1800.0, help="an unpaid order lapses after this; 0 = never"
    )
    parser.add_argument(
        "--timestamp-window", type=float, default=30.0, help="allowed clock skew of signed calls"
    )
    parser.add_argument(
        "--unpaid-fraction", type=float, default=0.0, help="share of orders the clock never pays (they lapse)"
    )
    parser.add_argument("--quiet", action="store_true", help="no access log")
    return parser.parse_args(argv)


def main(argv: Sequence[str] | None = None) -> None:
    args = parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s sandbox %(message)s")
    sandbox = SandboxServer(
        args.host,
        args.port,
        timestamp_window=args.timestamp_window,
        lapse_seconds=args.lapse_seconds,
        step_seconds=args.step_seconds,
        unpaid_fraction=args.unpaid_fraction,
        access_log=not args.quiet,
    )
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    with sandbox:
        # The public key is printed for convenience; the secret never is.
        print(f"sandbox exchange listening on {sandbox.url} (public key {sandbox.public_key})", flush=True)
        with contextlib.suppress(KeyboardInterrupt):
            stop.wait()


if __name__ == "__main__":
    main()
