"""The Signal protocol store on SQL (PostgreSQL or SQLite), one instance per logged-in account.

:class:`SQLSignalStore` implements :class:`~..signal.store.SignalStore` over the tables created
by :mod:`.upgrade` (version 1). Every row carries ``our_jid``, the JID of the local device, so
one database holds any number of accounts (the bridge has one WhatsApp login per Matrix user),
and every table cascades from that account's ``whatsapp_device`` row, so logging out is one
``DELETE`` (:meth:`SQLSignalStore.delete_account`).

Session and sender key records are opaque bytes here, stored and returned verbatim.
:meth:`SQLSignalStore.transaction` is :meth:`Database.transaction`: store methods called inside
it by the same task run on the transaction's connection, so the cipher's writes after a
successful decrypt commit or vanish together.

Beyond the interface, the store has the bulk operations the client needs: loading many sessions
at once for fan-out, prekey generation with a persistent id counter, upload bookkeeping, and
deleting everything of one remote user or of the whole account.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Sequence
from contextlib import AbstractAsyncContextManager
from typing import Any

from ..signal.address import ProtocolAddress, SenderKeyName
from ..signal.keys import (
    IdentityKeyPair,
    KeyPair,
    PreKeyRecord,
    SignedPreKeyRecord,
    generate_prekeys,
    generate_registration_id,
)
from ..signal.store import SignalStore
from .sqldb import Database, IntegrityError, Row

log = logging.getLogger(__name__)

#: One-time prekey ids are 24-bit on WhatsApp; 0 is never used (see ``keys.generate_prekeys``).
MAX_PREKEY_ID = 0xFFFFFE

# SQLite allows 32766 bound variables per statement; stay far below it (and below PostgreSQL's
# 65535) when expanding IN lists.
_IN_CHUNK = 500


class AccountExistsError(IntegrityError):
    """:meth:`SQLSignalStore.create` was called for a JID that already has an account row."""


def _chunks(items: Sequence[Any], size: int = _IN_CHUNK) -> Iterable[Sequence[Any]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


def _in_list(first: int, count: int) -> str:
    """``$first, $first+1, ...``: a portable IN list (no PostgreSQL-only ``= ANY($n)``)."""
    return ", ".join(f"${i}" for i in range(first, first + count))


class SQLSignalStore(SignalStore):
    """The Signal state of the account ``our_jid``; create with :meth:`create` or :meth:`load`."""

    def __init__(
        self, db: Database, our_jid: str, identity: IdentityKeyPair, registration_id: int
    ) -> None:
        self.db = db
        self.our_jid = our_jid
        self._identity = identity
        self._registration_id = registration_id

    def __repr__(self) -> str:
        return f"<SQLSignalStore {self.our_jid} on {self.db!r}>"

    # -- account lifecycle ----------------------------------------------------------------------

    @classmethod
    async def create(
        cls,
        db: Database,
        our_jid: str,
        identity: IdentityKeyPair | None = None,
        registration_id: int | None = None,
    ) -> SQLSignalStore:
        """Insert the account row for ``our_jid`` (new keys unless given) and return its store.

        Raises :class:`AccountExistsError` if the account exists (use :meth:`load`).
        """
        identity = identity or KeyPair.generate()
        registration_id = registration_id or generate_registration_id()
        try:
            await db.execute(
                "INSERT INTO whatsapp_device (jid, registration_id, identity_key) "
                "VALUES ($1, $2, $3)",
                our_jid,
                registration_id,
                identity.private,
            )
        except IntegrityError as e:
            raise AccountExistsError(f"an account for {our_jid} already exists") from e
        return cls(db, our_jid, identity, registration_id)

    @classmethod
    async def load(cls, db: Database, our_jid: str) -> SQLSignalStore | None:
        """The store of an existing account, or ``None``."""
        row = await db.fetchrow(
            "SELECT registration_id, identity_key FROM whatsapp_device WHERE jid = $1", our_jid
        )
        if row is None:
            return None
        identity = KeyPair.from_private(bytes(row["identity_key"]))
        return cls(db, our_jid, identity, int(row["registration_id"]))

    @staticmethod
    async def list_accounts(db: Database) -> list[str]:
        """The JIDs of every account in the database."""
        return [
            row["jid"] for row in await db.fetch("SELECT jid FROM whatsapp_device ORDER BY jid")
        ]

    async def delete_account(self) -> None:
        """Forget this account and all its Signal state (logout). The cascade does the rest."""
        await self.db.execute("DELETE FROM whatsapp_device WHERE jid = $1", self.our_jid)

    # -- transactions ---------------------------------------------------------------------------

    def transaction(self) -> AbstractAsyncContextManager[None]:
        return self.db.transaction()

    # -- identity -------------------------------------------------------------------------------

    async def get_identity_key_pair(self) -> IdentityKeyPair:
        return self._identity

    async def get_local_registration_id(self) -> int:
        return self._registration_id

    async def get_identity(self, address: ProtocolAddress) -> bytes | None:
        value = await self.db.fetchval(
            "SELECT identity FROM whatsapp_identity_keys "
            "WHERE our_jid = $1 AND their_name = $2 AND their_device = $3",
            self.our_jid,
            address.name,
            address.device_id,
        )
        return None if value is None else bytes(value)

    async def get_identities(
        self, addresses: Iterable[ProtocolAddress]
    ) -> dict[ProtocolAddress, bytes]:
        """The stored identity keys of many addresses at once (missing ones are left out)."""
        wanted = set(addresses)
        rows = await self._fetch_by_names(
            "SELECT their_name, their_device, identity FROM whatsapp_identity_keys", wanted
        )
        result: dict[ProtocolAddress, bytes] = {}
        for row in rows:
            address = ProtocolAddress(row["their_name"], int(row["their_device"]))
            if address in wanted:
                result[address] = bytes(row["identity"])
        return result

    async def save_identity(self, address: ProtocolAddress, identity_key: bytes) -> bool:
        # The engine serialises work per address, so read-then-upsert cannot race with itself.
        old = await self.get_identity(address)
        if old == identity_key:
            return False
        await self.db.execute(
            "INSERT INTO whatsapp_identity_keys (our_jid, their_name, their_device, identity) "
            "VALUES ($1, $2, $3, $4) ON CONFLICT (our_jid, their_name, their_device) "
            "DO UPDATE SET identity = excluded.identity",
            self.our_jid,
            address.name,
            address.device_id,
            identity_key,
        )
        return old is not None

    async def delete_identity(self, address: ProtocolAddress) -> None:
        await self.db.execute(
            "DELETE FROM whatsapp_identity_keys "
            "WHERE our_jid = $1 AND their_name = $2 AND their_device = $3",
            self.our_jid,
            address.name,
            address.device_id,
        )

    async def delete_all_identities(self, name: str) -> None:
        """Forget the identity keys of every device of user ``name``."""
        await self.db.execute(
            "DELETE FROM whatsapp_identity_keys WHERE our_jid = $1 AND their_name = $2",
            self.our_jid,
            name,
        )

    # -- one-time prekeys -----------------------------------------------------------------------

    @staticmethod
    def _prekey_from_row(row: Row) -> PreKeyRecord:
        return PreKeyRecord(int(row["key_id"]), KeyPair.from_private(bytes(row["private"])))

    async def load_prekey(self, prekey_id: int) -> PreKeyRecord | None:
        row = await self.db.fetchrow(
            "SELECT key_id, private FROM whatsapp_prekeys WHERE our_jid = $1 AND key_id = $2",
            self.our_jid,
            prekey_id,
        )
        return None if row is None else self._prekey_from_row(row)

    async def store_prekey(self, record: PreKeyRecord) -> None:
        await self.store_prekeys([record])

    async def store_prekeys(self, records: Iterable[PreKeyRecord], uploaded: bool = False) -> None:
        """Upsert many prekeys in one transaction (an upsert resets ``uploaded``)."""
        await self.db.executemany(
            "INSERT INTO whatsapp_prekeys (our_jid, key_id, private, uploaded) "
            "VALUES ($1, $2, $3, $4) ON CONFLICT (our_jid, key_id) "
            "DO UPDATE SET private = excluded.private, uploaded = excluded.uploaded",
            [(self.our_jid, r.key_id, r.key_pair.private, uploaded) for r in records],
        )

    async def remove_prekey(self, prekey_id: int) -> None:
        await self.db.execute(
            "DELETE FROM whatsapp_prekeys WHERE our_jid = $1 AND key_id = $2",
            self.our_jid,
            prekey_id,
        )

    async def count_prekeys(self, uploaded: bool | None = None) -> int:
        """How many prekeys we hold: all, or only those (not) yet uploaded to the server."""
        if uploaded is None:
            value = await self.db.fetchval(
                "SELECT COUNT(*) FROM whatsapp_prekeys WHERE our_jid = $1", self.our_jid
            )
        else:
            value = await self.db.fetchval(
                "SELECT COUNT(*) FROM whatsapp_prekeys WHERE our_jid = $1 AND uploaded = $2",
                self.our_jid,
                uploaded,
            )
        return int(value)

    async def next_prekey_id(self) -> int:
        """The id the next generated prekey will get."""
        return int(
            await self.db.fetchval(
                "SELECT next_prekey_id FROM whatsapp_device WHERE jid = $1", self.our_jid
            )
        )

    async def generate_prekeys(self, count: int) -> list[PreKeyRecord]:
        """Generate and store ``count`` new, not yet uploaded prekeys with fresh ids.

        The id counter lives in the account row and only moves forward (wrapping after the
        24-bit maximum), so an id is not handed out again while the server may still hold it.
        """
        if count <= 0:
            return []
        async with self.db.transaction():
            start = await self.next_prekey_id()
            records = generate_prekeys(start, count)
            await self.store_prekeys(records)
            await self.db.execute(
                "UPDATE whatsapp_device SET next_prekey_id = $1 WHERE jid = $2",
                ((start + count - 1) % MAX_PREKEY_ID) + 1,
                self.our_jid,
            )
        return records

    async def get_unuploaded_prekeys(self, limit: int) -> list[PreKeyRecord]:
        """Up to ``limit`` prekeys not yet uploaded, oldest ids first."""
        rows = await self.db.fetch(
            "SELECT key_id, private FROM whatsapp_prekeys WHERE our_jid = $1 AND uploaded = $2 "
            "ORDER BY key_id LIMIT $3",
            self.our_jid,
            False,
            limit,
        )
        return [self._prekey_from_row(row) for row in rows]

    async def get_or_generate_prekeys(self, count: int) -> list[PreKeyRecord]:
        """``count`` prekeys to upload: the unuploaded ones we have, topped up with new ones."""
        async with self.db.transaction():
            existing = await self.get_unuploaded_prekeys(count)
            return existing + await self.generate_prekeys(count - len(existing))

    async def mark_prekeys_uploaded(self, prekey_ids: Iterable[int]) -> None:
        """Record that the server now has these prekeys."""
        await self.db.executemany(
            "UPDATE whatsapp_prekeys SET uploaded = $1 WHERE our_jid = $2 AND key_id = $3",
            [(True, self.our_jid, key_id) for key_id in prekey_ids],
        )

    # -- signed prekeys -------------------------------------------------------------------------

    @staticmethod
    def _signed_prekey_from_row(row: Row) -> SignedPreKeyRecord:
        return SignedPreKeyRecord(
            int(row["key_id"]),
            KeyPair.from_private(bytes(row["private"])),
            bytes(row["signature"]),
            int(row["timestamp"]),
        )

    async def load_signed_prekey(self, signed_prekey_id: int) -> SignedPreKeyRecord | None:
        row = await self.db.fetchrow(
            "SELECT key_id, private, signature, timestamp FROM whatsapp_signed_prekeys "
            "WHERE our_jid = $1 AND key_id = $2",
            self.our_jid,
            signed_prekey_id,
        )
        return None if row is None else self._signed_prekey_from_row(row)

    async def load_signed_prekeys(self) -> list[SignedPreKeyRecord]:
        """Every signed prekey of the account, ordered by id."""
        rows = await self.db.fetch(
            "SELECT key_id, private, signature, timestamp FROM whatsapp_signed_prekeys "
            "WHERE our_jid = $1 ORDER BY key_id",
            self.our_jid,
        )
        return [self._signed_prekey_from_row(row) for row in rows]

    async def store_signed_prekey(self, record: SignedPreKeyRecord) -> None:
        await self.db.execute(
            "INSERT INTO whatsapp_signed_prekeys (our_jid, key_id, private, signature, timestamp) "
            "VALUES ($1, $2, $3, $4, $5) ON CONFLICT (our_jid, key_id) DO UPDATE SET "
            "private = excluded.private, signature = excluded.signature, "
            "timestamp = excluded.timestamp",
            self.our_jid,
            record.key_id,
            record.key_pair.private,
            record.signature,
            record.timestamp,
        )

    async def remove_signed_prekey(self, signed_prekey_id: int) -> None:
        await self.db.execute(
            "DELETE FROM whatsapp_signed_prekeys WHERE our_jid = $1 AND key_id = $2",
            self.our_jid,
            signed_prekey_id,
        )

    # -- sessions -------------------------------------------------------------------------------

    async def load_session(self, address: ProtocolAddress) -> bytes | None:
        value = await self.db.fetchval(
            "SELECT session FROM whatsapp_sessions "
            "WHERE our_jid = $1 AND their_name = $2 AND their_device = $3",
            self.our_jid,
            address.name,
            address.device_id,
        )
        return None if value is None else bytes(value)

    async def _fetch_by_names(
        self, select: str, addresses: Iterable[ProtocolAddress] | Iterable[str]
    ) -> list[Row]:
        """``select`` + a WHERE on our JID and a chunked IN list of user names."""
        names = sorted({a if isinstance(a, str) else a.name for a in addresses})
        rows: list[Row] = []
        for chunk in _chunks(names):
            rows += await self.db.fetch(
                f"{select} WHERE our_jid = $1 AND their_name IN ({_in_list(2, len(chunk))})",
                self.our_jid,
                *chunk,
            )
        return rows

    async def load_sessions(
        self, addresses: Iterable[ProtocolAddress]
    ) -> dict[ProtocolAddress, bytes]:
        """The session records of many devices at once, for fan-out (missing ones left out)."""
        wanted = set(addresses)
        rows = await self._fetch_by_names(
            "SELECT their_name, their_device, session FROM whatsapp_sessions", wanted
        )
        result: dict[ProtocolAddress, bytes] = {}
        for row in rows:
            address = ProtocolAddress(row["their_name"], int(row["their_device"]))
            if address in wanted:
                result[address] = bytes(row["session"])
        return result

    async def load_user_sessions(self, names: Iterable[str]) -> dict[ProtocolAddress, bytes]:
        """The session records of every device of the given users."""
        rows = await self._fetch_by_names(
            "SELECT their_name, their_device, session FROM whatsapp_sessions", list(names)
        )
        return {
            ProtocolAddress(row["their_name"], int(row["their_device"])): bytes(row["session"])
            for row in rows
        }

    async def store_session(self, address: ProtocolAddress, record: bytes) -> None:
        await self.db.execute(
            "INSERT INTO whatsapp_sessions (our_jid, their_name, their_device, session) "
            "VALUES ($1, $2, $3, $4) ON CONFLICT (our_jid, their_name, their_device) "
            "DO UPDATE SET session = excluded.session",
            self.our_jid,
            address.name,
            address.device_id,
            record,
        )

    async def store_sessions(self, records: dict[ProtocolAddress, bytes]) -> None:
        """Upsert many session records in one transaction."""
        await self.db.executemany(
            "INSERT INTO whatsapp_sessions (our_jid, their_name, their_device, session) "
            "VALUES ($1, $2, $3, $4) ON CONFLICT (our_jid, their_name, their_device) "
            "DO UPDATE SET session = excluded.session",
            [(self.our_jid, a.name, a.device_id, data) for a, data in records.items()],
        )

    async def delete_session(self, address: ProtocolAddress) -> None:
        await self.db.execute(
            "DELETE FROM whatsapp_sessions "
            "WHERE our_jid = $1 AND their_name = $2 AND their_device = $3",
            self.our_jid,
            address.name,
            address.device_id,
        )

    async def delete_all_sessions(self, name: str) -> None:
        await self.db.execute(
            "DELETE FROM whatsapp_sessions WHERE our_jid = $1 AND their_name = $2",
            self.our_jid,
            name,
        )

    # -- sender keys ----------------------------------------------------------------------------

    async def load_sender_key(self, name: SenderKeyName) -> bytes | None:
        value = await self.db.fetchval(
            "SELECT sender_key FROM whatsapp_sender_keys "
            "WHERE our_jid = $1 AND group_id = $2 AND sender_id = $3",
            self.our_jid,
            name.group_id,
            str(name.sender),
        )
        return None if value is None else bytes(value)

    async def store_sender_key(self, name: SenderKeyName, record: bytes) -> None:
        await self.db.execute(
            "INSERT INTO whatsapp_sender_keys (our_jid, group_id, sender_id, sender_key) "
            "VALUES ($1, $2, $3, $4) ON CONFLICT (our_jid, group_id, sender_id) "
            "DO UPDATE SET sender_key = excluded.sender_key",
            self.our_jid,
            name.group_id,
            str(name.sender),
            record,
        )

    async def delete_sender_key(self, name: SenderKeyName) -> None:
        await self.db.execute(
            "DELETE FROM whatsapp_sender_keys "
            "WHERE our_jid = $1 AND group_id = $2 AND sender_id = $3",
            self.our_jid,
            name.group_id,
            str(name.sender),
        )

    async def delete_group_sender_keys(self, group_id: str) -> None:
        """Forget every sender key of one group (ours and others'), e.g. after leaving it."""
        await self.db.execute(
            "DELETE FROM whatsapp_sender_keys WHERE our_jid = $1 AND group_id = $2",
            self.our_jid,
            group_id,
        )

    # -- inspection -----------------------------------------------------------------------------

    async def list_session_addresses(self) -> list[ProtocolAddress]:
        """Every remote device we have a session with (for diagnostics and migrations)."""
        rows = await self.db.fetch(
            "SELECT their_name, their_device FROM whatsapp_sessions WHERE our_jid = $1 "
            "ORDER BY their_name, their_device",
            self.our_jid,
        )
        return [ProtocolAddress(row["their_name"], int(row["their_device"])) for row in rows]
