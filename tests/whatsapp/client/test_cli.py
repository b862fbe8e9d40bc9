"""The engine's command line, run as a real process against the test network and Baileys."""

from __future__ import annotations

import asyncio
import json
import sys
from pathlib import Path
from typing import Any

from mautrix_whatsapp_py.testnet.server import TestNetServer
from tests.testnet.conftest import Admin, PairFn, requires_node

pytestmark = requires_node

ALICE, BOB = "15550001", "15550002"


async def _start(testnet: TestNetServer, db_path: Path, *args: str) -> asyncio.subprocess.Process:
    return await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "mautrix_whatsapp_py.whatsapp",
        "--db",
        f"sqlite:///{db_path}",
        "--websocket-url",
        testnet.info["websocket_url"],
        "--noise-root-key",
        testnet.info["noise_root_public_key"],
        *args,
        stdout=asyncio.subprocess.PIPE,
    )


async def _line(proc: asyncio.subprocess.Process) -> dict[str, Any]:
    assert proc.stdout is not None
    async with asyncio.timeout(60):
        line = await proc.stdout.readline()
    assert line, f"process exited with {await proc.wait()}"
    data: dict[str, Any] = json.loads(line)
    return data


async def test_cli_pair_send_listen(
    testnet: TestNetServer, admin: Admin, pair_baileys: PairFn, tmp_path: Path
) -> None:
    bob = await pair_baileys(BOB, "Bob")
    await admin.create_account(ALICE, "Alice")
    db_path = tmp_path / "cli.db"

    pair = await _start(testnet, db_path, "pair")
    first = await _line(pair)
    assert "qr" in first
    await admin.link(ALICE, first["qr"])
    while "paired" not in (out := await _line(pair)):
        assert "qr" in out
    assert out["paired"].startswith(f"{ALICE}:1@")
    assert await pair.wait() == 0

    after = await bob.last_seq()
    send = await _start(testnet, db_path, "send", f"{BOB}@s.whatsapp.net", "from the cli")
    sent = await _line(send)
    assert await send.wait() == 0
    got = await bob.wait_event("message", {"text": "from the cli"}, after=after)
    assert got["key"]["id"] == sent["id"]

    listen = await _start(testnet, db_path, "listen")
    try:
        while (await _line(listen))["event"] != "Connected":
            pass
        await bob.send_text(f"{ALICE}@s.whatsapp.net", "to the cli")
        while (event := await _line(listen))["event"] != "Message":
            pass
        assert event["message"]["extendedTextMessage"]["text"] == "to the cli"
        assert event["source"]["chat"] == f"{BOB}@s.whatsapp.net"
    finally:
        listen.terminate()
        await listen.wait()
