"""Command line: ``python -m mautrix_whatsapp_py.testnet --host H --port P --data DIR``."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import logging
from pathlib import Path

from .server import TestNetServer, run_forever


def main() -> None:
    parser = argparse.ArgumentParser(description="Run the WhatsApp test network.")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=0, help="chat and admin port (0: any free)")
    parser.add_argument("--media-port", type=int, default=0, help="HTTPS media port (0: any free)")
    parser.add_argument("--data", type=Path, required=True, help="state directory")
    parser.add_argument("--log-level", default="INFO")
    args = parser.parse_args()
    logging.basicConfig(
        level=args.log_level, format="%(asctime)s %(levelname)s %(name)s: %(message)s"
    )
    server = TestNetServer(args.data, args.host, args.port, args.media_port)
    with contextlib.suppress(KeyboardInterrupt):
        asyncio.run(run_forever(server))


if __name__ == "__main__":
    main()
