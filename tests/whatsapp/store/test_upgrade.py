"""Schema versioning: fresh upgrade, idempotence, newer databases refused, failed steps undone."""

from __future__ import annotations

import asyncio

import pytest

from mautrix_whatsapp_py.whatsapp.store.sqldb import Database
from mautrix_whatsapp_py.whatsapp.store.upgrade import (
    UnsupportedDatabaseVersionError,
    UpgradeError,
    UpgradeTable,
    upgrade_table,
)

ENGINE_TABLES = {
    "whatsapp_device",
    "whatsapp_identity_keys",
    "whatsapp_prekeys",
    "whatsapp_signed_prekeys",
    "whatsapp_sessions",
    "whatsapp_sender_keys",
}


async def table_names(db: Database) -> set[str]:
    if db.dialect == "postgres":
        rows = await db.fetch(
            "SELECT table_name FROM information_schema.tables WHERE table_schema = current_schema()"
        )
    else:
        rows = await db.fetch("SELECT name AS table_name FROM sqlite_master WHERE type = 'table'")
    return {row["table_name"] for row in rows}


async def test_engine_upgrade_from_empty_and_rerun(db: Database) -> None:
    assert await upgrade_table.get_version(db) == 0
    await upgrade_table.upgrade(db)
    assert await upgrade_table.get_version(db) == upgrade_table.latest_version >= 1
    assert ENGINE_TABLES | {"whatsapp_version"} <= await table_names(db)
    # idempotent: a second start changes nothing and does not fail
    await upgrade_table.upgrade(db)
    assert await upgrade_table.get_version(db) == upgrade_table.latest_version
    assert await db.fetchval("SELECT COUNT(*) FROM whatsapp_version") == 1


async def test_concurrent_upgrades(db: Database) -> None:
    await asyncio.gather(upgrade_table.upgrade(db), upgrade_table.upgrade(db))
    assert await upgrade_table.get_version(db) == upgrade_table.latest_version


def make_table(log: list[int], fail_at: int | None = None) -> UpgradeTable:
    table = UpgradeTable("test_version", advisory_lock_key=12345)
    table.register_sql(1, "create", "CREATE TABLE thing (k INTEGER PRIMARY KEY)")

    @table.register(2, "fill")
    async def v2(db: Database) -> None:
        log.append(2)
        await db.execute("INSERT INTO thing (k) VALUES ($1)", 1)
        await db.execute("CREATE TABLE other (k INTEGER)")
        if fail_at == 2:
            await db.execute("INSERT INTO thing (k) VALUES ($1)", 1)  # duplicate key

    @table.register(3, "more")
    async def v3(db: Database) -> None:
        log.append(3)
        await db.execute("INSERT INTO thing (k) VALUES ($1)", 3)

    return table


async def test_steps_applied_in_order_once(db: Database) -> None:
    log: list[int] = []
    table = make_table(log)
    await table.upgrade(db)
    await table.upgrade(db)
    assert log == [2, 3]
    assert [r["k"] for r in await db.fetch("SELECT k FROM thing ORDER BY k")] == [1, 3]


async def test_failed_step_rolls_back_and_keeps_version(db: Database) -> None:
    log: list[int] = []
    with pytest.raises(UpgradeError, match="v2"):
        await make_table(log, fail_at=2).upgrade(db)
    table = make_table(log)
    assert await table.get_version(db) == 1
    assert await db.fetchval("SELECT COUNT(*) FROM thing") == 0
    assert "other" not in await table_names(db)
    await table.upgrade(db)  # the fixed code finishes the job
    assert await table.get_version(db) == 3


async def test_refuses_newer_database(db: Database) -> None:
    await upgrade_table.upgrade(db)
    latest = upgrade_table.latest_version
    await db.execute("UPDATE whatsapp_version SET version = $1", latest + 5)
    with pytest.raises(UnsupportedDatabaseVersionError) as exc:
        await upgrade_table.upgrade(db)
    assert exc.value.found == latest + 5 and exc.value.latest == latest
    assert f"version {latest + 5}" in str(exc.value)
    assert await upgrade_table.get_version(db) == latest + 5


def test_registration_errors() -> None:
    table = UpgradeTable("x_version", advisory_lock_key=1)
    table.register_sql(1, "one", "SELECT 1")
    with pytest.raises(ValueError, match="twice"):
        table.register_sql(1, "again", "SELECT 1")
    table.register_sql(3, "three", "SELECT 1")
    with pytest.raises(UpgradeError, match="gaps"):
        _ = table.steps
    with pytest.raises(ValueError):
        UpgradeTable("bad name; DROP", advisory_lock_key=1)
