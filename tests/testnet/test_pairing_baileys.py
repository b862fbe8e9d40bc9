"""A real Baileys client pairs with a simulated phone by QR code and logs in."""

from __future__ import annotations

from mautrix_whatsapp_py.testnet.server import TestNetServer

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
