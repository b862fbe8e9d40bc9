"""A minimal async SQL layer over asyncpg (PostgreSQL) and aiosqlite (SQLite).

The engine cannot use ``mautrix.util.async_db`` (nothing under ``whatsapp/`` imports Matrix
code), so, like whatsmeow's ``sqlstore``, it carries its own small layer. It offers one query
dialect: queries are written with PostgreSQL's ``$1``-style placeholders and run unchanged on
both backends. Everything else in the SQL must be the common subset of the two (``ON CONFLICT``
upserts, ``RETURNING``, ``COALESCE`` ... all work on SQLite >= 3.35); code that truly needs to
differ can branch on :attr:`Database.dialect`.

Transactions
============
``async with db.transaction():`` opens one database transaction, and every query issued through
the same :class:`Database` *by the same task* inside the block runs in it, however deep in the
call stack, because the transaction's connection is found through a :class:`ContextVar`. So store
methods need no connection argument to take part in a caller's transaction.

* A nested ``transaction()`` in the same task is a SAVEPOINT: if the inner block raises, only
  its writes are undone (and the exception goes on to the outer block as usual); if it succeeds,
  its writes become part of the outer transaction.
* A task started inside a transaction inherits the context but must not use the transaction's
  connection concurrently: its queries raise :class:`TransactionError` while the transaction is
  open (after the transaction ends they run normally). Note that on Python 3.11
  ``asyncio.wait_for`` and ``asyncio.gather`` run their coroutines as new tasks; inside a
  transaction use ``asyncio.timeout()`` and sequential awaits instead.
* On PostgreSQL each transaction holds one pooled connection; other tasks keep using the pool.
  After a failed statement PostgreSQL refuses further statements in the same transaction
  (SQLite does not): to recover from an expected error, e.g. an :class:`IntegrityError`, run
  the statement in a nested ``transaction()`` so only its savepoint is rolled back.
* SQLite has a single connection and a single writer: an :class:`asyncio.Lock` serialises
  transactions (``BEGIN IMMEDIATE``, so the write lock is taken up front and a transaction never
  fails half-way for lock upgrade reasons) and also every statement outside a transaction, so
  that no task's statement lands inside another task's open transaction. WAL journaling and
  foreign keys are switched on.

Nothing here logs query parameters; they can be keys.
"""

from __future__ import annotations

import asyncio
import logging
import re
import sqlite3
from abc import ABC, abstractmethod
from collections.abc import AsyncIterator, Iterable, Iterator, Sequence
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from functools import lru_cache
from types import TracebackType
from typing import Any, Literal, Protocol, cast
from urllib.parse import unquote, urlsplit, urlunsplit

import aiosqlite
import asyncpg

Dialect = Literal["postgres", "sqlite"]

log = logging.getLogger(__name__)


class Row(Protocol):
    """A result row: ``row["column"]`` and ``row[0]`` work on both backends."""

    def __getitem__(self, key: int | str, /) -> Any: ...

    def __len__(self) -> int: ...

    def __iter__(self) -> Iterator[Any]:
        """The values, in column order."""
        ...

    def keys(self) -> Any:
        """The column names (a list on SQLite, an iterator on PostgreSQL)."""
        ...


class DatabaseError(Exception):
    """Base class of every error raised by this module."""


class DatabaseConfigError(DatabaseError):
    """The database URL is malformed or names an unsupported scheme."""


class DatabaseConnectionError(DatabaseError):
    """The database could not be opened or reached."""


class QueryError(DatabaseError):
    """The database rejected a statement. ``__cause__`` holds the backend's exception."""


class IntegrityError(QueryError):
    """A UNIQUE, FOREIGN KEY, NOT NULL or CHECK constraint was violated."""


class TransactionError(DatabaseError):
    """A transaction was misused (e.g. its connection used from another task)."""


# Tokens that may contain a "$1" which is NOT a placeholder come first in the alternation, so a
# match on them consumes the whole literal/comment and only bare "$n" reach group 1.
_TOKEN_RE = re.compile(
    r"""
    '(?:[^']|'')*'        # string literal ('' escapes a quote)
    | "(?:[^"]|"")*"      # quoted identifier
    | --[^\n]*            # line comment
    | /\*.*?\*/           # block comment
    | \$(\d+)             # placeholder
    """,
    re.DOTALL | re.VERBOSE,
)


@lru_cache(maxsize=2048)
def translate_placeholders(query: str) -> str:
    """Rewrite PostgreSQL ``$n`` placeholders for SQLite.

    ``$n`` becomes SQLite's numbered ``?n`` rather than a bare ``?``: SQLite then binds argument
    ``n`` wherever ``?n`` appears, so repeated (``$1 ... $1``) and out-of-order (``$2 ... $1``)
    placeholders keep exactly their PostgreSQL meaning with the same argument tuple, and no
    argument reordering is needed. ``$n`` inside string literals, quoted identifiers and
    comments is left alone.
    """

    def repl(match: re.Match[str]) -> str:
        number = match.group(1)
        if number is None:
            return match.group(0)
        if int(number) == 0:
            raise QueryError("placeholder $0 is invalid; placeholders start at $1")
        return f"?{int(number)}"

    return _TOKEN_RE.sub(repl, query)


def redact_url(url: str) -> str:
    """``url`` with any password replaced, for logs and error messages."""
    parts = urlsplit(url)
    if parts.password is None:
        return url
    netloc = parts.netloc.rsplit("@", 1)
    userinfo = netloc[0].split(":", 1)[0]
    return urlunsplit(parts._replace(netloc=f"{userinfo}:***@{netloc[1]}"))


@dataclass(eq=False)
class _TxState:
    """The open transaction of one task: its connection and savepoint depth."""

    conn: Any
    owner: asyncio.Task[Any] | None
    depth: int = 0
    active: bool = True


class Database(ABC):
    """A connection (pool) to one database. Create with :meth:`create`, then :meth:`start`."""

    dialect: Dialect

    def __init__(self, url: str) -> None:
        self.url = url
        # One ContextVar per Database: two databases in one process have independent
        # transactions. Databases are few and long-lived, so per-instance vars do not pile up.
        self._tx: ContextVar[_TxState | None] = ContextVar(f"mwp_sqldb_tx_{id(self)}", default=None)

    def __repr__(self) -> str:
        return f"<{type(self).__name__} {redact_url(self.url)}>"

    @staticmethod
    def create(url: str, *, min_size: int = 1, max_size: int = 10) -> Database:
        """A database for ``url``.

        ``postgres://`` / ``postgresql://`` URLs use an asyncpg pool of ``min_size`` ..
        ``max_size`` connections (query parameters such as ``?search_path=x`` are passed to the
        server as settings). ``sqlite:///relative.db``, ``sqlite:////absolute.db`` and
        ``sqlite:///:memory:`` open one SQLite connection (one slash after ``sqlite://`` is the
        separator, as in SQLAlchemy and mautrix).
        """
        scheme = urlsplit(url).scheme.lower()
        if scheme in ("postgres", "postgresql"):
            return PostgresDatabase(url, min_size=min_size, max_size=max_size)
        if scheme in ("sqlite", "sqlite3"):
            path = unquote(urlsplit(url).path)
            if path.startswith("/"):
                path = path[1:]
            if not path:
                raise DatabaseConfigError(f"no file path in SQLite URL {url!r}")
            return SQLiteDatabase(url, path)
        raise DatabaseConfigError(
            f"unsupported database URL scheme {scheme!r} in {redact_url(url)!r} "
            "(expected postgres://, postgresql:// or sqlite:///)"
        )

    async def __aenter__(self) -> Database:
        await self.start()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.stop()

    @abstractmethod
    async def start(self) -> None:
        """Open the connection(s); raises :class:`DatabaseConnectionError` on failure."""

    @abstractmethod
    async def stop(self) -> None:
        """Close the connection(s)."""

    def _current_tx(self) -> _TxState | None:
        state = self._tx.get()
        if state is None or not state.active:
            return None
        if state.owner is not asyncio.current_task():
            raise TransactionError(
                "a database transaction opened by another task is still in progress; tasks "
                "started inside a transaction cannot use it (await them after it ends instead)"
            )
        return state

    @property
    def in_transaction(self) -> bool:
        """Whether the current task is inside :meth:`transaction`."""
        try:
            return self._current_tx() is not None
        except TransactionError:
            return False

    def transaction(self) -> AbstractAsyncContextManager[None]:
        """An async context manager: one transaction, or a savepoint when nested."""
        return self._transaction()

    @abstractmethod
    def _transaction(self) -> AbstractAsyncContextManager[None]: ...

    @abstractmethod
    async def execute(self, query: str, *args: Any) -> int:
        """Run one statement; returns the number of rows it inserted/updated/deleted."""

    async def executemany(self, query: str, args: Iterable[Sequence[Any]]) -> None:
        """Run one statement per argument tuple, all-or-nothing (in one transaction)."""
        async with self.transaction():
            await self._executemany(query, list(args))

    @abstractmethod
    async def _executemany(self, query: str, args: list[Sequence[Any]]) -> None: ...

    @abstractmethod
    async def fetch(self, query: str, *args: Any) -> list[Row]:
        """All result rows."""

    async def fetchrow(self, query: str, *args: Any) -> Row | None:
        """The first result row, or ``None``."""
        rows = await self.fetch(query, *args)
        return rows[0] if rows else None

    async def fetchval(self, query: str, *args: Any, column: int = 0) -> Any:
        """One value of the first result row, or ``None`` if there is no row."""
        row = await self.fetchrow(query, *args)
        return None if row is None else row[column]


# -- PostgreSQL ---------------------------------------------------------------------------------

# asyncpg's client-side encoding errors quote the offending argument; it may be key material.
_ARG_VALUE_RE = re.compile(r"(query argument \$\d+): .*", re.DOTALL)


def _pg_error(e: Exception, query: str) -> QueryError:
    message = _ARG_VALUE_RE.sub(r"\1 (value redacted)", str(e))
    cls = (
        IntegrityError
        if isinstance(e, asyncpg.exceptions.IntegrityConstraintViolationError)
        else QueryError
    )
    return cls(f"{type(e).__name__}: {message} [query: {query.strip()[:200]}]")


# OSError: a connection lost mid-query can surface as a plain socket error.
_PG_ERRORS = (asyncpg.PostgresError, asyncpg.InterfaceError, OSError)


class PostgresDatabase(Database):
    """PostgreSQL through an asyncpg pool."""

    dialect: Dialect = "postgres"

    def __init__(self, url: str, *, min_size: int = 1, max_size: int = 10) -> None:
        super().__init__(url)
        self._min_size = min_size
        self._max_size = max_size
        self._pool: Any = None

    async def start(self) -> None:
        if self._pool is not None:
            return
        # asyncpg only knows the "postgresql"/"postgres" schemes, both of which we accept.
        try:
            self._pool = await asyncpg.create_pool(
                self.url, min_size=self._min_size, max_size=self._max_size
            )
        except (OSError, asyncpg.PostgresError, asyncpg.InterfaceError) as e:
            raise DatabaseConnectionError(
                f"could not connect to PostgreSQL at {redact_url(self.url)}: {e}"
            ) from e
        log.info("Connected to PostgreSQL at %s", redact_url(self.url))

    async def stop(self) -> None:
        if self._pool is not None:
            pool, self._pool = self._pool, None
            await pool.close()

    def _target(self) -> Any:
        state = self._current_tx()
        if state is not None:
            return state.conn
        if self._pool is None:
            raise DatabaseError("database not started; call start() first")
        return self._pool

    async def execute(self, query: str, *args: Any) -> int:
        target = self._target()
        try:
            status: str = await target.execute(query, *args)
        except _PG_ERRORS as e:
            raise _pg_error(e, query) from e
        # Status is like "INSERT 0 3", "UPDATE 2", "CREATE TABLE": the count is the last word.
        last = status.rsplit(" ", 1)[-1]
        return int(last) if last.isdigit() else 0

    async def _executemany(self, query: str, args: list[Sequence[Any]]) -> None:
        if not args:
            return
        try:
            await self._target().executemany(query, args)
        except _PG_ERRORS as e:
            raise _pg_error(e, query) from e

    async def fetch(self, query: str, *args: Any) -> list[Row]:
        target = self._target()
        try:
            return cast(list[Row], await target.fetch(query, *args))
        except _PG_ERRORS as e:
            raise _pg_error(e, query) from e

    @asynccontextmanager
    async def _transaction(self) -> AsyncIterator[None]:
        state = self._current_tx()
        if state is not None:
            # asyncpg turns a transaction() on a connection already in one into a SAVEPOINT.
            state.depth += 1
            try:
                async with state.conn.transaction():
                    yield
            finally:
                state.depth -= 1
            return
        if self._pool is None:
            raise DatabaseError("database not started; call start() first")
        conn = await self._pool.acquire()
        try:
            tr = conn.transaction()
            try:
                await tr.start()
            except _PG_ERRORS as e:
                raise _pg_error(e, "BEGIN") from e
            state = _TxState(conn, asyncio.current_task())
            token = self._tx.set(state)
            try:
                yield
            except BaseException:
                state.active = False
                try:
                    await tr.rollback()
                except Exception:
                    # The original exception matters more; on release the pool rolls the
                    # connection back again or, if that fails too, terminates it.
                    log.warning("ROLLBACK failed", exc_info=True)
                raise
            else:
                state.active = False
                try:
                    await tr.commit()
                except _PG_ERRORS as e:
                    raise _pg_error(e, "COMMIT") from e
            finally:
                state.active = False
                self._tx.reset(token)
        finally:
            await self._pool.release(conn)


# -- SQLite -------------------------------------------------------------------------------------


def _sqlite_error(e: sqlite3.Error, query: str) -> QueryError:
    cls = IntegrityError if isinstance(e, sqlite3.IntegrityError) else QueryError
    return cls(f"{type(e).__name__}: {e} [query: {query.strip()[:200]}]")


class SQLiteDatabase(Database):
    """SQLite through one aiosqlite connection, serialised by a lock."""

    dialect: Dialect = "sqlite"

    #: How long (ms) SQLite waits for another *process* holding the write lock.
    busy_timeout_ms = 30_000

    def __init__(self, url: str, path: str) -> None:
        super().__init__(url)
        self.path = path
        self._conn: aiosqlite.Connection | None = None
        self._lock = asyncio.Lock()

    async def start(self) -> None:
        if self._conn is not None:
            return
        try:
            # isolation_level=None: no implicit BEGIN from the sqlite3 module; we issue our own.
            conn = await aiosqlite.connect(self.path, isolation_level=None)
        except sqlite3.Error as e:
            raise DatabaseConnectionError(
                f"could not open SQLite database {self.path!r}: {e}"
            ) from e
        conn.row_factory = sqlite3.Row
        try:
            await conn.execute(f"PRAGMA busy_timeout = {int(self.busy_timeout_ms)}")
            await conn.execute("PRAGMA foreign_keys = ON")
            if self.path != ":memory:" and not self.path.startswith("file::memory:"):
                await conn.execute("PRAGMA journal_mode = WAL")
                # NORMAL is durable against application crashes in WAL mode and much faster.
                await conn.execute("PRAGMA synchronous = NORMAL")
        except sqlite3.Error as e:
            await conn.close()
            raise DatabaseConnectionError(
                f"could not set up SQLite database {self.path!r}: {e}"
            ) from e
        self._conn = conn
        log.info("Opened SQLite database %s", self.path)

    async def stop(self) -> None:
        if self._conn is not None:
            conn, self._conn = self._conn, None
            await conn.close()

    def _connection(self) -> aiosqlite.Connection:
        if self._conn is None:
            raise DatabaseError("database not started; call start() first")
        return self._conn

    @asynccontextmanager
    async def _locked(self) -> AsyncIterator[aiosqlite.Connection]:
        """The connection, holding the lock unless the current task's transaction has it."""
        if self._current_tx() is not None:
            yield self._connection()
            return
        async with self._lock:
            yield self._connection()

    async def execute(self, query: str, *args: Any) -> int:
        sql = translate_placeholders(query)
        async with self._locked() as conn:
            try:
                async with conn.execute(sql, args) as cur:
                    return max(cur.rowcount, 0)
            except sqlite3.Error as e:
                raise _sqlite_error(e, query) from e

    async def _executemany(self, query: str, args: list[Sequence[Any]]) -> None:
        if not args:
            return
        sql = translate_placeholders(query)
        async with self._locked() as conn:
            try:
                await conn.executemany(sql, args)
            except sqlite3.Error as e:
                raise _sqlite_error(e, query) from e

    async def fetch(self, query: str, *args: Any) -> list[Row]:
        sql = translate_placeholders(query)
        async with self._locked() as conn:
            try:
                async with conn.execute(sql, args) as cur:
                    return cast(list[Row], list(await cur.fetchall()))
            except sqlite3.Error as e:
                raise _sqlite_error(e, query) from e

    @asynccontextmanager
    async def _transaction(self) -> AsyncIterator[None]:
        state = self._current_tx()
        if state is not None:
            async with self._nested(state):
                yield
            return
        async with self._lock:
            conn = self._connection()
            if conn.in_transaction:
                # Only possible if an earlier ROLLBACK failed; never build on a stale transaction.
                log.warning("SQLite connection was left inside a transaction; rolling it back")
                await conn.execute("ROLLBACK")
            try:
                await conn.execute("BEGIN IMMEDIATE")
            except sqlite3.Error as e:
                raise _sqlite_error(e, "BEGIN IMMEDIATE") from e
            state = _TxState(conn, asyncio.current_task())
            token = self._tx.set(state)
            try:
                yield
            except BaseException:
                state.active = False
                try:
                    await conn.execute("ROLLBACK")
                except Exception:
                    log.warning("ROLLBACK failed", exc_info=True)
                raise
            else:
                state.active = False
                try:
                    await conn.execute("COMMIT")
                except sqlite3.Error as e:
                    # A failed COMMIT leaves the transaction open; close it before reporting.
                    if conn.in_transaction:
                        await conn.execute("ROLLBACK")
                    raise _sqlite_error(e, "COMMIT") from e
            finally:
                state.active = False
                self._tx.reset(token)

    @asynccontextmanager
    async def _nested(self, state: _TxState) -> AsyncIterator[None]:
        state.depth += 1
        name = f"mwp_sp{state.depth}"
        conn: aiosqlite.Connection = state.conn
        await conn.execute(f"SAVEPOINT {name}")
        try:
            yield
        except BaseException:
            await conn.execute(f"ROLLBACK TO SAVEPOINT {name}")
            await conn.execute(f"RELEASE SAVEPOINT {name}")
            raise
        else:
            await conn.execute(f"RELEASE SAVEPOINT {name}")
        finally:
            state.depth -= 1
