"""Shared fixtures: ``db``, an empty started database, once on SQLite and once on PostgreSQL.

PostgreSQL tests use a throwaway database ``mwp_test_<hex>`` created for the test session (via
the ``postgres`` maintenance database) and dropped at its end; each test gets its own schema in
it. The server is ``MWP_TEST_POSTGRES`` (default ``postgresql://postgres@127.0.0.1:5432/``).
An unreachable server FAILS the PostgreSQL tests rather than skipping them, so a broken setup
cannot pass as green.
"""

from __future__ import annotations

import asyncio
import os
import secrets
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import asyncpg
import pytest

from mautrix_whatsapp_py.whatsapp.store.sqldb import Database

POSTGRES_BASE = os.environ.get("MWP_TEST_POSTGRES", "postgresql://postgres@127.0.0.1:5432/")


def _pg_url(dbname: str, query: str = "") -> str:
    return urlunsplit(urlsplit(POSTGRES_BASE)._replace(path=f"/{dbname}", query=query))


async def _pg_admin(dbname: str, statement: str) -> None:
    conn = await asyncpg.connect(_pg_url(dbname), timeout=10)
    try:
        await conn.execute(statement)
    finally:
        await conn.close()


@pytest.fixture(scope="session")
def postgres_test_db() -> Iterator[str]:
    """Name of this session's throwaway PostgreSQL database."""
    name = f"mwp_test_{secrets.token_hex(6)}"
    try:
        asyncio.run(_pg_admin("postgres", f'CREATE DATABASE "{name}"'))
    except (TimeoutError, OSError, asyncpg.PostgresError, asyncpg.InterfaceError) as e:
        pytest.fail(
            f"PostgreSQL is not usable at {POSTGRES_BASE} ({type(e).__name__}: {e}); start it "
            "or point MWP_TEST_POSTGRES at a server where we may create databases",
            pytrace=False,
        )
    yield name
    asyncio.run(_pg_admin("postgres", f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


@pytest.fixture(params=["sqlite", "postgres"])
def db_backend(request: pytest.FixtureRequest) -> str:
    """The backend name; requesting the PostgreSQL one sets up the session database."""
    if request.param == "postgres":
        request.getfixturevalue("postgres_test_db")
    return str(request.param)


async def open_test_db(backend: str, tmp_path: Path, pg_dbname: str | None) -> Database:
    """A fresh, started, empty database on ``backend`` (tests needing two use this directly)."""
    if backend == "sqlite":
        db = Database.create(f"sqlite:///{tmp_path / f'{secrets.token_hex(4)}.db'}")
    else:
        assert pg_dbname is not None
        schema = f"t_{secrets.token_hex(6)}"
        await _pg_admin(pg_dbname, f"CREATE SCHEMA {schema}")
        db = Database.create(_pg_url(pg_dbname, f"search_path={schema}"), max_size=5)
    await db.start()
    return db


@pytest.fixture
async def db(
    db_backend: str, tmp_path: Path, request: pytest.FixtureRequest
) -> AsyncIterator[Database]:
    """An empty database, started; parametrized over SQLite and PostgreSQL."""
    pg_dbname = request.getfixturevalue("postgres_test_db") if db_backend == "postgres" else None
    database = await open_test_db(db_backend, tmp_path, pg_dbname)
    try:
        yield database
    finally:
        await database.stop()
