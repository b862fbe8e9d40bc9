"""Schema versioning for the engine's tables.

The database records one integer, the schema version, in ``whatsapp_version``. Upgrade steps are
numbered 1, 2, 3 ... and :meth:`UpgradeTable.upgrade` applies every step above the recorded
version, each in its own transaction together with the version bump, so a crash leaves the
database at a whole version. A database whose version is above the newest step this code knows
is refused with :class:`UnsupportedDatabaseVersionError` instead of being used by code that may
misread it.

Every version of the engine schema is listed in this file, in order, so a reader sees the whole
history in one place. Later modules (device store, app state, message secrets) append theirs::

    @upgrade_table.register(2, "Add app state tables")
    async def upgrade_v2(db: Database) -> None:
        await db.execute("CREATE TABLE whatsapp_app_state_version (...)")

A step receives the :class:`Database` and may branch on ``db.dialect``; it must not open its own
transaction (it already runs in one; a nested one would be a savepoint). Engine tables are
prefixed ``whatsapp_`` so the bridge can keep its own tables in the same database, as
mautrix-whatsapp does next to whatsmeow's.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from .sqldb import Database, DatabaseError

log = logging.getLogger(__name__)

UpgradeFunc = Callable[[Database], Awaitable[None]]


class UpgradeError(DatabaseError):
    """The schema could not be brought up to date."""


class UnsupportedDatabaseVersionError(UpgradeError):
    """The database was written by newer code than this one."""

    def __init__(self, table: str, found: int, latest: int) -> None:
        super().__init__(
            f"database schema ({table}) is at version {found}, but this code only knows versions "
            f"up to {latest}; run a newer version of the software or point it at another database"
        )
        self.found = found
        self.latest = latest


@dataclass(frozen=True, slots=True)
class UpgradeStep:
    """One numbered schema change."""

    version: int
    description: str
    func: UpgradeFunc


class UpgradeTable:
    """An ordered list of upgrade steps and the table that records how far a database got."""

    def __init__(self, version_table: str, advisory_lock_key: int) -> None:
        if not version_table.isidentifier():
            raise ValueError(f"bad version table name {version_table!r}")
        self.version_table = version_table
        # PostgreSQL: processes upgrading the same database at once queue on this lock.
        self.advisory_lock_key = advisory_lock_key
        self._steps: dict[int, UpgradeStep] = {}

    @property
    def latest_version(self) -> int:
        return max(self._steps, default=0)

    @property
    def steps(self) -> list[UpgradeStep]:
        """The steps in version order; raises if the numbering has a gap."""
        versions = sorted(self._steps)
        if versions != list(range(1, len(versions) + 1)):
            raise UpgradeError(f"upgrade steps must be numbered 1..n without gaps, got {versions}")
        return [self._steps[v] for v in versions]

    def register(self, version: int, description: str) -> Callable[[UpgradeFunc], UpgradeFunc]:
        """Decorator adding ``func`` as the step to ``version``."""

        def decorator(func: UpgradeFunc) -> UpgradeFunc:
            self.add(UpgradeStep(version, description, func))
            return func

        return decorator

    def register_sql(self, version: int, description: str, *statements: str) -> None:
        """Add a step made of plain SQL statements (the common dialect of both backends)."""

        async def run(db: Database) -> None:
            for statement in statements:
                await db.execute(statement)

        self.add(UpgradeStep(version, description, run))

    def add(self, step: UpgradeStep) -> None:
        if step.version < 1:
            raise ValueError("upgrade versions start at 1")
        if step.version in self._steps:
            raise ValueError(f"upgrade version {step.version} is registered twice")
        self._steps[step.version] = step

    async def _prepare(self, db: Database) -> int:
        """In a transaction: lock, create the version table if needed, return the version."""
        if db.dialect == "postgres":
            await db.execute("SELECT pg_advisory_xact_lock($1)", self.advisory_lock_key)
        await db.execute(
            f"CREATE TABLE IF NOT EXISTS {self.version_table} (version INTEGER NOT NULL)"
        )
        version = await db.fetchval(f"SELECT MAX(version) FROM {self.version_table}")
        return int(version) if version is not None else 0

    async def get_version(self, db: Database) -> int:
        """The recorded schema version (0 for an empty database)."""
        async with db.transaction():
            return await self._prepare(db)

    async def upgrade(self, db: Database) -> None:
        """Apply every missing step; refuse a database newer than :attr:`latest_version`."""
        steps = self.steps
        latest = len(steps)
        while True:
            async with db.transaction():
                # Re-read under the lock each time: another process may have upgraded meanwhile.
                current = await self._prepare(db)
                if current > latest:
                    raise UnsupportedDatabaseVersionError(self.version_table, current, latest)
                if current == latest:
                    return
                step = steps[current]
                log.info(
                    "Upgrading %s from v%d to v%d: %s",
                    self.version_table,
                    current,
                    step.version,
                    step.description,
                )
                try:
                    await step.func(db)
                except DatabaseError as e:
                    raise UpgradeError(f"upgrade to v{step.version} failed: {e}") from e
                await db.execute(f"DELETE FROM {self.version_table}")
                await db.execute(
                    f"INSERT INTO {self.version_table} (version) VALUES ($1)", step.version
                )


#: The engine's schema. Key 0x5741 is "WA"; any constant unlikely to clash with the bridge works.
upgrade_table = UpgradeTable("whatsapp_version", advisory_lock_key=0x57410001)


def _blob(db: Database) -> str:
    # Both spellings would store bytes on SQLite, but BLOB gives the column the intended affinity.
    return "BYTEA" if db.dialect == "postgres" else "BLOB"


@upgrade_table.register(1, "Device identity and Signal protocol stores")
async def upgrade_v1(db: Database) -> None:
    blob = _blob(db)
    # One row per logged-in account: our JID (the scope of every other table), registration id,
    # identity private key (the public half is derived) and the next one-time prekey id, kept
    # here rather than derived from MAX(key_id) so that ids of consumed prekeys are not reused.
    # The device store will add its columns (noise key, ADV secret, platform ...) to this table.
    await db.execute(
        f"""CREATE TABLE whatsapp_device (
            jid              TEXT    PRIMARY KEY,
            registration_id  BIGINT  NOT NULL CHECK (registration_id BETWEEN 0 AND 4294967295),
            identity_key     {blob}  NOT NULL CHECK (length(identity_key) = 32),
            next_prekey_id   BIGINT  NOT NULL DEFAULT 1
        )"""
    )
    # Every Signal table cascades from whatsapp_device, so logging out is one DELETE.
    fk = "FOREIGN KEY (our_jid) REFERENCES whatsapp_device(jid) ON DELETE CASCADE ON UPDATE CASCADE"
    await db.execute(
        f"""CREATE TABLE whatsapp_identity_keys (
            our_jid      TEXT     NOT NULL,
            their_name   TEXT     NOT NULL,
            their_device INTEGER  NOT NULL,
            identity     {blob}   NOT NULL CHECK (length(identity) = 33),
            PRIMARY KEY (our_jid, their_name, their_device),
            {fk}
        )"""
    )
    await db.execute(
        f"""CREATE TABLE whatsapp_prekeys (
            our_jid   TEXT     NOT NULL,
            key_id    INTEGER  NOT NULL,
            private   {blob}   NOT NULL CHECK (length(private) = 32),
            uploaded  BOOLEAN  NOT NULL DEFAULT false,
            PRIMARY KEY (our_jid, key_id),
            {fk}
        )"""
    )
    await db.execute(
        f"""CREATE TABLE whatsapp_signed_prekeys (
            our_jid    TEXT     NOT NULL,
            key_id     INTEGER  NOT NULL,
            private    {blob}   NOT NULL CHECK (length(private) = 32),
            signature  {blob}   NOT NULL CHECK (length(signature) = 64),
            timestamp  BIGINT   NOT NULL,
            PRIMARY KEY (our_jid, key_id),
            {fk}
        )"""
    )
    await db.execute(
        f"""CREATE TABLE whatsapp_sessions (
            our_jid      TEXT     NOT NULL,
            their_name   TEXT     NOT NULL,
            their_device INTEGER  NOT NULL,
            session      {blob}   NOT NULL,
            PRIMARY KEY (our_jid, their_name, their_device),
            {fk}
        )"""
    )
    await db.execute(
        f"""CREATE TABLE whatsapp_sender_keys (
            our_jid     TEXT    NOT NULL,
            group_id    TEXT    NOT NULL,
            sender_id   TEXT    NOT NULL,
            sender_key  {blob}  NOT NULL,
            PRIMARY KEY (our_jid, group_id, sender_id),
            {fk}
        )"""
    )


@upgrade_table.register(2, "Device store columns and the decrypted event buffer")
async def upgrade_v2(db: Database) -> None:
    blob = _blob(db)
    # A device exists before it is paired (it needs keys to show a QR code); until then its
    # jid is a placeholder "unpaired:<hex>" that pairing renames, cascading to every table.
    for column in (
        f"noise_key {blob}",
        f"adv_secret {blob}",
        "platform TEXT NOT NULL DEFAULT ''",
        "push_name TEXT NOT NULL DEFAULT ''",
        "lid TEXT NOT NULL DEFAULT ''",
        f"account {blob}",
        "paired BOOLEAN NOT NULL DEFAULT false",
    ):
        await db.execute(f"ALTER TABLE whatsapp_device ADD COLUMN {column}")
    # Plaintexts of messages decrypted but not yet acknowledged, keyed by a hash of their
    # ciphertext: a message redelivered after a crash is served from here, because its Signal
    # keys were already used up.
    await db.execute(
        f"""CREATE TABLE whatsapp_event_buffer (
            our_jid          TEXT    NOT NULL,
            ciphertext_hash  {blob}  NOT NULL,
            plaintext        {blob},
            inserted_at      BIGINT  NOT NULL,
            PRIMARY KEY (our_jid, ciphertext_hash),
            FOREIGN KEY (our_jid) REFERENCES whatsapp_device(jid)
                ON DELETE CASCADE ON UPDATE CASCADE
        )"""
    )
