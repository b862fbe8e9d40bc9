"""Command line for debugging and scripting the engine.

``python -m mautrix_whatsapp_py.whatsapp --db URL [--websocket-url URL --noise-root-key B64] CMD``

* ``pair``: print each QR code as ``{"qr": "..."}``, then ``{"paired": "<jid>"}``
  (``pair --phone NUMBER`` prints ``{"code": "..."}`` to type on the phone instead);
* ``listen``: print one JSON line per event until interrupted;
* ``send JID TEXT``: print ``{"id": "..."}`` once the server has acked the message.

Defaults point at the real WhatsApp servers.
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import contextlib
import json
import logging
import sys
from typing import Any

from google.protobuf.json_format import MessageToDict

from . import events as ev
from .binary import JID
from .client import Client
from .socket.constants import DEFAULT_URL, WA_CERT_ROOT_PUBLIC_KEY
from .store.device_store import DeviceStore
from .store.sqldb import Database
from .store.upgrade import upgrade_table


def _emit(data: dict[str, Any]) -> None:
    sys.stdout.write(json.dumps(data) + "\n")
    sys.stdout.flush()


def event_json(event: ev.Event) -> dict[str, Any]:
    """A JSON-friendly view of an event (JIDs as strings, protobufs as dicts)."""
    data: dict[str, Any] = {"event": type(event).__name__}
    for name in getattr(event, "__dataclass_fields__", {}):
        value = getattr(event, name)
        if name == "raw":
            continue
        if isinstance(value, JID):
            value = str(value)
        elif isinstance(value, ev.MessageSource):
            value = {
                "chat": str(value.chat),
                "sender": str(value.sender),
                "is_from_me": value.is_from_me,
                "is_group": value.is_group,
            }
        elif hasattr(value, "DESCRIPTOR"):
            value = MessageToDict(value)
        data[name] = value
    return data


async def run(args: argparse.Namespace) -> int:
    db = Database.create(args.db)
    await db.start()
    try:
        await upgrade_table.upgrade(db)
        device = await DeviceStore.load_or_new(db)
        client = Client(
            device,
            websocket_url=args.websocket_url,
            noise_root_key=base64.b64decode(args.noise_root_key)
            if args.noise_root_key
            else WA_CERT_ROOT_PUBLIC_KEY,
        )
        done = asyncio.get_running_loop().create_future()
        if args.command == "pair":
            return await _pair(client, args, done)
        if not device.paired:
            _emit({"error": "not paired; run the pair command first"})
            return 2
        if args.command == "listen":
            client.add_handler(lambda e: _emit(event_json(e)))
            await client.connect()
            await done  # until interrupted
            return 0
        await client.connect()
        await client.wait_logged_in(timeout=60)
        result = await client.send_text(JID.parse(args.jid), args.text)
        _emit({"id": result.id, "t": result.timestamp})
        await client.disconnect()
        return 0
    finally:
        await db.stop()


async def _pair(client: Client, args: argparse.Namespace, done: asyncio.Future[int]) -> int:
    if client.device.paired:
        _emit({"paired": str(client.device.jid)})
        return 0

    def on_event(event: ev.Event) -> None:
        if isinstance(event, ev.QRCode) and not args.phone:
            _emit({"qr": event.code})
        elif isinstance(event, ev.PairingCode):
            _emit({"code": event.code})
        elif isinstance(event, ev.PairSuccess):
            _emit({"paired": str(event.jid)})
        elif isinstance(event, ev.Connected) and not done.done():
            done.set_result(0)
        elif isinstance(event, ev.PairError) and not done.done():
            _emit({"error": event.reason})
            done.set_result(1)

    client.add_handler(on_event)
    await client.connect()
    if args.phone:
        await client.pair_phone(args.phone)
    try:
        return await done
    finally:
        await client.disconnect()


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m mautrix_whatsapp_py.whatsapp")
    parser.add_argument("--db", required=True, help="postgres://… or sqlite:///file.db")
    parser.add_argument("--websocket-url", default=DEFAULT_URL)
    parser.add_argument("--noise-root-key", default="", help="base64 root key to trust")
    parser.add_argument("--log-level", default="WARNING")
    sub = parser.add_subparsers(dest="command", required=True)
    pair = sub.add_parser("pair", help="link this device (QR codes, or a code with --phone)")
    pair.add_argument("--phone", default="", help="pair with a code for this phone number")
    sub.add_parser("listen", help="print events as JSON lines")
    send = sub.add_parser("send", help="send a text message")
    send.add_argument("jid")
    send.add_argument("text")
    args = parser.parse_args()
    logging.basicConfig(level=args.log_level, stream=sys.stderr)
    with contextlib.suppress(KeyboardInterrupt):
        sys.exit(asyncio.run(run(args)))


if __name__ == "__main__":
    main()
