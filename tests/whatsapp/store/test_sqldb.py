"""The SQL layer: placeholders, rows, errors, transactions and concurrency, on both backends."""

from __future__ import annotations

import asyncio
import itertools

import pytest
from hypothesis import given
from hypothesis import strategies as st

from mautrix_whatsapp_py.whatsapp.store.sqldb import (
    Database,
    DatabaseConfigError,
    DatabaseConnectionError,
    IntegrityError,
    QueryError,
    TransactionError,
    translate_placeholders,
)


class Boom(Exception):
    pass


async def make_table(db: Database) -> None:
    await db.execute("CREATE TABLE t (k INTEGER PRIMARY KEY, v TEXT NOT NULL)")


async def values(db: Database) -> dict[int, str]:
    return {row["k"]: row["v"] for row in await db.fetch("SELECT k, v FROM t ORDER BY k")}


# -- placeholder translation (pure) -------------------------------------------------------------


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("SELECT $1", "SELECT ?1"),
        ("INSERT INTO t VALUES ($1, $2)", "INSERT INTO t VALUES (?1, ?2)"),
        ("SELECT $2, $1, $2", "SELECT ?2, ?1, ?2"),
        ("SELECT $10 + $9", "SELECT ?10 + ?9"),
        ("SELECT '$1', $1", "SELECT '$1', ?1"),
        ("SELECT 'it''s $2', $1", "SELECT 'it''s $2', ?1"),
        ('SELECT "$1col" FROM t WHERE x=$1', 'SELECT "$1col" FROM t WHERE x=?1'),
        ("SELECT $1 -- not $2\n, $2", "SELECT ?1 -- not $2\n, ?2"),
        ("SELECT /* $3 */ $1", "SELECT /* $3 */ ?1"),
        ("SELECT $$", "SELECT $$"),
    ],
)
def test_translate_placeholders(query: str, expected: str) -> None:
    assert translate_placeholders(query) == expected


def test_placeholder_zero_rejected() -> None:
    with pytest.raises(QueryError, match=r"\$0"):
        translate_placeholders("SELECT $0")


def test_bad_urls() -> None:
    with pytest.raises(DatabaseConfigError, match="mysql"):
        Database.create("mysql://localhost/x")
    with pytest.raises(DatabaseConfigError):
        Database.create("sqlite://")
    assert "secret" not in repr(Database.create("postgresql://u:secret@localhost/db"))


async def test_unreachable_postgres() -> None:
    db = Database.create("postgresql://postgres:hunter2@127.0.0.1:1/x", min_size=1)
    with pytest.raises(DatabaseConnectionError) as exc:
        await db.start()
    assert "hunter2" not in str(exc.value)


async def test_sqlite_memory() -> None:
    async with Database.create("sqlite:///:memory:") as db:
        assert await db.fetchval("SELECT $1 + $2", 2, 3) == 5


async def test_not_started() -> None:
    db = Database.create("sqlite:///:memory:")
    with pytest.raises(Exception, match="not started"):
        await db.fetch("SELECT 1")


# -- queries on both backends -------------------------------------------------------------------


async def test_placeholders_run_on_backend(db: Database) -> None:
    row = await db.fetchrow(
        "SELECT CAST($2 AS TEXT) || CAST($1 AS TEXT) || CAST($2 AS TEXT) AS s, '$1' AS lit",
        "a",
        "b",
    )
    assert row is not None
    assert row["s"] == "bab"
    assert row["lit"] == "$1"
    assert row[0] == "bab"


async def test_rows_and_values(db: Database) -> None:
    await make_table(db)
    assert await db.execute("INSERT INTO t (k, v) VALUES ($1, $2)", 1, "one") == 1
    await db.executemany("INSERT INTO t (k, v) VALUES ($1, $2)", [(2, "two"), (3, "three")])
    rows = await db.fetch("SELECT k, v FROM t WHERE k >= $1 ORDER BY k", 2)
    assert [(r["k"], r["v"]) for r in rows] == [(2, "two"), (3, "three")]
    assert list(rows[0].keys()) == ["k", "v"]
    assert await db.fetchrow("SELECT k FROM t WHERE k = $1", 99) is None
    assert await db.fetchval("SELECT v FROM t WHERE k = $1", 99) is None
    assert await db.fetchval("SELECT k, v FROM t WHERE k = $1", 3, column=1) == "three"
    assert await db.execute("UPDATE t SET v = $1 WHERE k > $2", "x", 1) == 2
    assert await db.execute("DELETE FROM t WHERE k = $1", 42) == 0


async def test_bytes_round_trip(db: Database) -> None:
    blob = "BYTEA" if db.dialect == "postgres" else "BLOB"
    await db.execute(f"CREATE TABLE b (k INTEGER PRIMARY KEY, data {blob})")
    payload = bytes(range(256)) + b"\x00"
    await db.execute("INSERT INTO b (k, data) VALUES ($1, $2)", 1, payload)
    assert await db.fetchval("SELECT data FROM b WHERE k = $1", 1) == payload


async def test_errors_are_typed_and_redacted(db: Database) -> None:
    await make_table(db)
    await db.execute("INSERT INTO t (k, v) VALUES ($1, $2)", 1, "one")
    with pytest.raises(IntegrityError):
        await db.execute("INSERT INTO t (k, v) VALUES ($1, $2)", 1, "topsecret")
    with pytest.raises(QueryError) as exc:
        await db.execute("INSERT INTO nowhere VALUES ($1)", "topsecret")
    assert "topsecret" not in str(exc.value)
    if db.dialect == "postgres":
        # asyncpg's own message would quote the value; ours must not.
        with pytest.raises(QueryError) as exc:
            await db.execute("INSERT INTO t (k, v) VALUES ($1, $2)", b"topsecret", "v")
        assert "topsecret" not in str(exc.value)


async def test_executemany_is_atomic(db: Database) -> None:
    await make_table(db)
    with pytest.raises(IntegrityError):
        await db.executemany("INSERT INTO t (k, v) VALUES ($1, $2)", [(1, "a"), (2, "b"), (1, "c")])
    assert await values(db) == {}


# -- transactions -------------------------------------------------------------------------------


async def test_transaction_commits(db: Database) -> None:
    await make_table(db)
    assert not db.in_transaction
    async with db.transaction():
        assert db.in_transaction
        await db.execute("INSERT INTO t (k, v) VALUES ($1, $2)", 1, "a")
        # read-your-writes inside the transaction
        assert await values(db) == {1: "a"}
        await db.execute("INSERT INTO t (k, v) VALUES ($1, $2)", 2, "b")
    assert not db.in_transaction
    assert await values(db) == {1: "a", 2: "b"}


async def _deep_write(db: Database, k: int) -> None:
    # Stands for store code deep in a call stack that knows nothing about the transaction.
    await db.execute("INSERT INTO t (k, v) VALUES ($1, $2)", k, "deep")


async def test_transaction_rolls_back_everything(db: Database) -> None:
    await make_table(db)
    await db.execute("INSERT INTO t (k, v) VALUES ($1, $2)", 1, "keep")
    with pytest.raises(Boom):
        async with db.transaction():
            await db.execute("UPDATE t SET v = $1 WHERE k = $2", "changed", 1)
            await _deep_write(db, 2)
            await db.executemany("INSERT INTO t (k, v) VALUES ($1, $2)", [(3, "c"), (4, "d")])
            raise Boom
    assert await values(db) == {1: "keep"}
    # the database is usable afterwards
    async with db.transaction():
        await _deep_write(db, 5)
    assert await values(db) == {1: "keep", 5: "deep"}


async def test_query_error_inside_transaction_rolls_back(db: Database) -> None:
    await make_table(db)
    with pytest.raises(IntegrityError):
        async with db.transaction():
            await db.execute("INSERT INTO t (k, v) VALUES ($1, $2)", 1, "a")
            await db.execute("INSERT INTO t (k, v) VALUES ($1, $2)", 1, "dup")
    assert await values(db) == {}


async def test_cancelled_transaction_rolls_back(db: Database) -> None:
    await make_table(db)
    started = asyncio.Event()

    async def writer() -> None:
        async with db.transaction():
            await db.execute("INSERT INTO t (k, v) VALUES ($1, $2)", 1, "a")
            started.set()
            await asyncio.sleep(10)

    task = asyncio.create_task(writer())
    await started.wait()
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    assert await values(db) == {}


async def test_nested_transaction_is_savepoint(db: Database) -> None:
    await make_table(db)
    async with db.transaction():
        await db.execute("INSERT INTO t (k, v) VALUES ($1, $2)", 1, "outer")
        with pytest.raises(Boom):
            async with db.transaction():
                await db.execute("INSERT INTO t (k, v) VALUES ($1, $2)", 2, "inner-failed")
                raise Boom
        async with db.transaction():
            await db.execute("INSERT INTO t (k, v) VALUES ($1, $2)", 3, "inner-ok")
            async with db.transaction():
                await db.execute("INSERT INTO t (k, v) VALUES ($1, $2)", 4, "inner-inner")
        assert await values(db) == {1: "outer", 3: "inner-ok", 4: "inner-inner"}
    assert await values(db) == {1: "outer", 3: "inner-ok", 4: "inner-inner"}


async def test_outer_failure_undoes_committed_inner(db: Database) -> None:
    await make_table(db)
    with pytest.raises(Boom):
        async with db.transaction():
            async with db.transaction():
                await db.execute("INSERT INTO t (k, v) VALUES ($1, $2)", 1, "inner")
            raise Boom
    assert await values(db) == {}


async def test_other_task_cannot_use_open_transaction(db: Database) -> None:
    await make_table(db)
    async with db.transaction():
        await db.execute("INSERT INTO t (k, v) VALUES ($1, $2)", 1, "a")
        child = asyncio.create_task(db.fetch("SELECT k FROM t"))
        with pytest.raises(TransactionError, match="another task"):
            await child
        done = asyncio.Event()

        async def after_commit() -> None:
            await done.wait()
            await _deep_write(db, 2)

        late = asyncio.create_task(after_commit())
        await asyncio.sleep(0)
    # A task spawned in the transaction but querying after it ends uses the database normally.
    done.set()
    await late
    assert await values(db) == {1: "a", 2: "deep"}


async def test_concurrent_writers(db: Database) -> None:
    await make_table(db)

    async def writer(base: int, fail: bool) -> None:
        for i in range(10):
            try:
                async with db.transaction():
                    await db.execute("INSERT INTO t (k, v) VALUES ($1, $2)", base + i, "x")
                    await asyncio.sleep(0)  # let the other task run mid-transaction
                    await db.execute("UPDATE t SET v = $1 WHERE k = $2", f"w{base}", base + i)
                    if fail and i % 2:
                        raise Boom
            except Boom:
                pass

    await asyncio.gather(writer(100, False), writer(200, True), writer(300, False))
    result = await values(db)
    expected = {100 + i: "w100" for i in range(10)}
    expected |= {200 + i: "w200" for i in range(0, 10, 2)}
    expected |= {300 + i: "w300" for i in range(10)}
    assert result == expected


async def test_reader_does_not_see_uncommitted(db: Database) -> None:
    await make_table(db)
    in_tx = asyncio.Event()
    release = asyncio.Event()

    async def writer() -> None:
        async with db.transaction():
            await db.execute("INSERT INTO t (k, v) VALUES ($1, $2)", 1, "a")
            in_tx.set()
            await release.wait()
            raise Boom

    task = asyncio.create_task(writer())
    await in_tx.wait()
    reader = asyncio.create_task(values(db))
    await asyncio.sleep(0.05)
    release.set()
    with pytest.raises(Boom):
        await task
    # PostgreSQL answers at once from committed data; SQLite waits for the writer. Either way
    # the rolled-back row is never seen.
    assert await reader == {}


async def test_placeholder_orders_bind_like_postgres(db: Database) -> None:
    # Every sequence of 4 placeholders over $1..$3 that uses all three (PostgreSQL rejects a
    # parameter it cannot type), so repeats and every order are covered on both backends.
    args = ("x", "y", "z")
    for order in itertools.product((1, 2, 3), repeat=4):
        if set(order) != {1, 2, 3}:
            continue
        columns = ", ".join(f"CAST(${n} AS TEXT)" for n in order)
        row = await db.fetchrow(f"SELECT {columns}", *args)
        assert row is not None
        assert tuple(row) == tuple(args[n - 1] for n in order), order


async def test_recover_from_expected_error_with_savepoint(db: Database) -> None:
    # The portable way to continue a transaction after an expected error (see module docs).
    await make_table(db)
    async with db.transaction():
        await db.execute("INSERT INTO t (k, v) VALUES ($1, $2)", 1, "a")
        with pytest.raises(IntegrityError):
            async with db.transaction():
                await db.execute("INSERT INTO t (k, v) VALUES ($1, $2)", 1, "dup")
        await db.execute("INSERT INTO t (k, v) VALUES ($1, $2)", 2, "b")
    assert await values(db) == {1: "a", 2: "b"}


_FRAGMENTS = st.one_of(
    st.integers(1, 120).map(lambda n: (f"${n}", f"?{n}")),
    st.integers(0, 120).map(lambda n: (f"'a${n}''b'", f"'a${n}''b'")),
    st.integers(0, 120).map(lambda n: (f'"c${n}"', f'"c${n}"')),
    st.integers(0, 120).map(lambda n: (f"-- ${n} '\n", f"-- ${n} '\n")),
    st.integers(0, 120).map(lambda n: (f"/* ${n} ' */", f"/* ${n} ' */")),
    st.sampled_from([" ", ", ", "SELECT ", "x = ", "(", ")", "$$"]).map(lambda s: (s, s)),
)


@given(st.lists(_FRAGMENTS, max_size=30))
def test_translate_placeholders_property(fragments: list[tuple[str, str]]) -> None:
    query = "".join(f[0] for f in fragments)
    expected = "".join(f[1] for f in fragments)
    assert translate_placeholders(query) == expected
