"""The engine's tests run against the test network; reuse its fixtures, and pair one engine."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from mautrix_whatsapp_py.testnet.server import TestNetServer
from mautrix_whatsapp_py.whatsapp.store.sqldb import Database
from tests.testnet.conftest import Admin, admin, link_companion, pair_baileys, testnet

from .engine_helpers import Engine, pair_engine

__all__ = ["admin", "alice_engine", "link_companion", "pair_baileys", "testnet"]

ALICE = "15550001"


@pytest.fixture
async def alice_engine(db: Database, testnet: TestNetServer, admin: Admin) -> AsyncIterator[Engine]:
    """Alice's account with our engine linked to it and connected; disconnected afterwards."""
    await admin.create_account(ALICE, "Alice")
    client, log = await pair_engine(db, testnet, admin, ALICE)
    try:
        yield client, log
    finally:
        await client.disconnect()
