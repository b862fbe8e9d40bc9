"""End-to-end messaging through the test network: our engine against Baileys, one run.

Usage: ``python bench/bench_messaging.py [--messages N]``

Two accounts, each with one linked companion, on a fresh test network running in its own
process. Alice's companion sends N text messages to Bob's, one after another as fast as the
sender allows, and the clock stops when Bob's companion has received the last one. The same is
done with two engine clients (both in this process) and with two Baileys 6.17 clients (a Node
process each), against the same server, so the server's share is common to both and the ratio
compares the clients (encrypt, send, receive, decrypt, ack, receipt).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import aiohttp

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from mautrix_whatsapp_py.whatsapp import events as ev
from mautrix_whatsapp_py.whatsapp.binary import JID
from mautrix_whatsapp_py.whatsapp.store.sqldb import Database
from tests.interop.baileys_client import BaileysClient
from tests.testnet.conftest import Admin, link_baileys, wait_not_buffering
from tests.whatsapp.client.engine_helpers import pair_engine, text_of


class ServerInfo:
    """What the benchmarks need of a test network running in another process."""

    def __init__(self, info: dict[str, Any]) -> None:
        self.info = info


async def bench_engine(server: ServerInfo, admin: Admin, tmp: Path, count: int) -> float:
    await admin.create_account("15551001", "Alice")
    await admin.create_account("15551002", "Bob")
    db_a = Database.create(f"sqlite:///{tmp / 'a.db'}")
    db_b = Database.create(f"sqlite:///{tmp / 'b.db'}")
    await db_a.start()
    await db_b.start()
    alice, _ = await pair_engine(db_a, server, admin, "15551001")
    bob, bob_log = await pair_engine(db_b, server, admin, "15551002")
    try:
        to = JID.parse("15551002@s.whatsapp.net")
        await alice.send_text(to, "warm-up")
        await bob_log.wait(ev.Message, lambda m: text_of(m) == "warm-up")
        start = time.perf_counter()
        for i in range(count):
            await alice.send_text(to, f"message {i}")
        last = f"message {count - 1}"
        await bob_log.wait(ev.Message, lambda m: text_of(m) == last, within=600)
        return count / (time.perf_counter() - start)
    finally:
        await alice.disconnect()
        await bob.disconnect()
        await db_a.stop()
        await db_b.stop()


async def _pair_baileys(server: ServerInfo, admin: Admin, phone: str, tmp: Path) -> BaileysClient:
    await admin.create_account(phone, phone)
    client = await link_baileys(server.info, admin, phone, tmp / f"baileys-{phone}")
    await wait_not_buffering(client)
    return client


async def bench_baileys(server: ServerInfo, admin: Admin, tmp: Path, count: int) -> float:
    alice = await _pair_baileys(server, admin, "15552001", tmp)
    bob = await _pair_baileys(server, admin, "15552002", tmp)
    try:
        to = "15552002@s.whatsapp.net"
        await alice.send_text(to, "warm-up")
        await bob.wait_event("message", {"text": "warm-up"})
        after = await bob.last_seq()
        start = time.perf_counter()
        for i in range(count):
            await alice.send_text(to, f"message {i}")
        await bob.wait_event("message", {"text": f"message {count - 1}"}, after=after, timeout=600)
        return count / (time.perf_counter() - start)
    finally:
        await alice.close()
        await bob.close()


async def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--messages", type=int, default=300)
    args = parser.parse_args()
    logging.basicConfig(level=logging.WARNING)
    with tempfile.TemporaryDirectory() as tmp_name:
        tmp = Path(tmp_name)
        data = tmp / "testnet"
        proc = await asyncio.create_subprocess_exec(
            sys.executable, "-m", "mautrix_whatsapp_py.testnet", "--data", str(data),
            "--log-level", "WARNING",
        )  # fmt: skip
        try:
            for _ in range(200):
                if (data / "server.json").exists():
                    break
                await asyncio.sleep(0.05)
            server = ServerInfo(json.loads((data / "server.json").read_text()))
            async with aiohttp.ClientSession() as session:
                admin = Admin(session, server.info["admin_url"])
                ours = await bench_engine(server, admin, tmp, args.messages)
                theirs = await bench_baileys(server, admin, tmp, args.messages)
        finally:
            proc.terminate()
            await proc.wait()
    print(f"{args.messages} sequential 1:1 texts, companion to companion, via the test network")
    print(f"{'':24}{'ours':>12}{'Baileys 6.17':>14}{'ratio':>8}")
    print(f"{'messages/s':24}{ours:>12.1f}{theirs:>14.1f}{ours / theirs:>7.2f}x")


if __name__ == "__main__":
    asyncio.run(main())
