"""Starts the local Stripe: localstripe bound to 127.0.0.1 only (its own CLI listens on every
interface), with Stripe Connect and deposit holds added (scripts/local_stripe/connect.py,
holds.py).

Usage: python scripts/localstripe_loopback.py PORT
"""
import logging
import sys
from pathlib import Path

from aiohttp import web
from localstripe.server import app

sys.path.insert(0, str(Path(__file__).resolve().parent / "local_stripe"))
import connect  # noqa: E402
import holds  # noqa: E402


def main() -> None:
    port = int(sys.argv[1]) if len(sys.argv) > 1 else 8420
    logging.basicConfig(level=logging.WARNING)
    connect.install(app)
    holds.install(app)
    # Start from an empty store every time: local runs and tests must not depend on leftovers.
    web.run_app(app, host="127.0.0.1", port=port, access_log=None, print=None)


if __name__ == "__main__":
    main()
