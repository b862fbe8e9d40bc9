"""Fixtures for the SQL stores: an upgraded ``db`` and a fresh account's ``signal_store``."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from mautrix_whatsapp_py.whatsapp.store.signal_store import SQLSignalStore
from mautrix_whatsapp_py.whatsapp.store.sqldb import Database
from mautrix_whatsapp_py.whatsapp.store.upgrade import upgrade_table


@pytest.fixture
async def upgraded_db(db: Database) -> AsyncIterator[Database]:
    """``db`` with the engine schema applied."""
    await upgrade_table.upgrade(db)
    yield db


@pytest.fixture
async def signal_store(upgraded_db: Database) -> SQLSignalStore:
    return await SQLSignalStore.create(upgraded_db, "111:1@s.whatsapp.net")


TABLES = (
    "whatsapp_device",
    "whatsapp_identity_keys",
    "whatsapp_prekeys",
    "whatsapp_signed_prekeys",
    "whatsapp_sessions",
    "whatsapp_sender_keys",
)


async def dump(db: Database) -> dict[str, list[tuple[object, ...]]]:
    """Every row of every engine table, in a stable order, for byte-for-byte comparisons."""
    result: dict[str, list[tuple[object, ...]]] = {}
    for table in TABLES:
        rows = await db.fetch(f"SELECT * FROM {table}")
        result[table] = sorted(
            (tuple(bytes(v) if isinstance(v, memoryview) else v for v in row) for row in rows),
            key=repr,
        )
    return result
