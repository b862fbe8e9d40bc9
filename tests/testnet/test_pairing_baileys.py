"""A real Baileys client pairs with a simulated phone by QR code and logs in."""

from __future__ import annotations

import asyncio
from pathlib import Path

from mautrix_whatsapp_py.testnet.server import TestNetServer
from tests.interop.baileys_client import BaileysClient

from .conftest import Admin, PairFn, requires_node

pytestmark = requires_node


async def test_baileys_pairs_and_logs_in(
    testnet: TestNetServer, admin: Admin, pair_baileys: PairFn
) -> None:
    client = await pair_baileys("15550001", "Alice")
    me = await client.me()
    assert me is not None and me["id"].startswith("15550001:1@")
    devices = await admin.devices("15550001")
    assert [d["device_id"] for d in devices] == [0, 1]
    assert devices[1]["online"]
    assert not await client.is_buffering()


async def _type_code(admin: Admin, phone: str, code: str) -> None:
    """Enter ``code`` on the phone once the companion's request has reached the server (Baileys
    sends it without waiting for an answer)."""
    result: object = None
    for _ in range(50):
        async with admin.session.post(
            f"{admin.url}/accounts/{phone}/link-code", json={"code": code}
        ) as resp:
            result = await resp.json()
            if resp.status == 200:
                return
        await asyncio.sleep(0.1)
    raise AssertionError(f"phone never saw the companion's code request: {result}")


async def test_baileys_pairs_with_phone_number_code(
    testnet: TestNetServer, admin: Admin, tmp_path: Path
) -> None:
    await admin.create_account("15550003", "Carol")
    client = await BaileysClient.start(
        testnet.info["websocket_url"], tmp_path / "carol", ca_cert=testnet.info["tls_cert"]
    )
    try:
        await client.wait_event("qr")
        code = await client.request_pairing_code("15550003")
        assert len(code) == 8
        await _type_code(admin, "15550003", code)
        await client.wait_event("connection", {"connection": "open"})
        me = await client.me()
        assert me is not None and me["id"].startswith("15550003:1@")
        assert [d["device_id"] for d in await admin.devices("15550003")] == [0, 1]
    finally:
        await client.close()


async def test_wrong_pairing_code_links_nothing(
    testnet: TestNetServer, admin: Admin, tmp_path: Path
) -> None:
    await admin.create_account("15550004", "Dave")
    client = await BaileysClient.start(
        testnet.info["websocket_url"], tmp_path / "dave", ca_cert=testnet.info["tls_cert"]
    )
    try:
        await client.wait_event("qr")
        code = await client.request_pairing_code("15550004")
        wrong = "".join("A" if c != "A" else "B" for c in code)
        await _type_code(admin, "15550004", wrong)
        # The companion answers with a bundle the phone cannot open; nothing gets linked.
        for _ in range(30):
            await asyncio.sleep(0.1)
            assert [d["device_id"] for d in await admin.devices("15550004")] == [0]
    finally:
        await client.close()
