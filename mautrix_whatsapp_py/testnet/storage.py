"""Everything the test network remembers, in one SQLite file under its data directory.

Accounts with their simulated phones, linked companion devices with their keys and prekeys, the
per-device delivery queue, groups, app state patches, profile pictures and the server's own
keys. Media blobs live beside the database as files (see :mod:`.media`). The simulated phones'
Signal state uses the engine's own SQL Signal store in the same database.
"""

from __future__ import annotations

import asyncio
import json
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ..whatsapp.binary.jid import DEFAULT_USER_SERVER, JID
from ..whatsapp.store.sqldb import Database, Row
from ..whatsapp.store.upgrade import UpgradeTable
from ..whatsapp.store.upgrade import upgrade_table as engine_upgrade_table

testnet_upgrades = UpgradeTable("testnet_version", advisory_lock_key=0x57410002)

testnet_upgrades.register_sql(
    1,
    "Accounts, devices, prekeys, queue, groups, app state",
    """CREATE TABLE server_key (name TEXT PRIMARY KEY, value BLOB NOT NULL)""",
    """CREATE TABLE account (
        phone       TEXT PRIMARY KEY,
        lid         TEXT NOT NULL UNIQUE,
        push_name   TEXT NOT NULL,
        created     INTEGER NOT NULL,
        next_device INTEGER NOT NULL DEFAULT 1,
        key_index   INTEGER NOT NULL DEFAULT 0,
        status      TEXT NOT NULL DEFAULT ''
    )""",
    """CREATE TABLE device (
        phone            TEXT NOT NULL REFERENCES account(phone) ON DELETE CASCADE,
        device_id        INTEGER NOT NULL,
        noise_key        BLOB,
        identity_key     BLOB NOT NULL,
        registration_id  INTEGER NOT NULL,
        skey_id          INTEGER NOT NULL,
        skey_pub         BLOB NOT NULL,
        skey_sig         BLOB NOT NULL,
        key_index        INTEGER NOT NULL DEFAULT 0,
        platform         TEXT NOT NULL DEFAULT '',
        push_name        TEXT NOT NULL DEFAULT '',
        device_identity  BLOB,
        created          INTEGER NOT NULL,
        PRIMARY KEY (phone, device_id)
    )""",
    """CREATE TABLE prekey (
        phone     TEXT NOT NULL,
        device_id INTEGER NOT NULL,
        key_id    INTEGER NOT NULL,
        pub       BLOB NOT NULL,
        PRIMARY KEY (phone, device_id, key_id),
        FOREIGN KEY (phone, device_id) REFERENCES device(phone, device_id) ON DELETE CASCADE
    )""",
    """CREATE TABLE queue (
        seq         INTEGER PRIMARY KEY AUTOINCREMENT,
        phone       TEXT NOT NULL,
        device_id   INTEGER NOT NULL,
        class       TEXT NOT NULL,
        stanza_id   TEXT NOT NULL,
        sender      TEXT NOT NULL,
        participant TEXT NOT NULL DEFAULT '',
        kind        TEXT NOT NULL DEFAULT '',
        stanza      BLOB NOT NULL,
        FOREIGN KEY (phone, device_id) REFERENCES device(phone, device_id) ON DELETE CASCADE
    )""",
    "CREATE INDEX queue_device ON queue (phone, device_id, seq)",
    """CREATE TABLE chat_group (
        jid             TEXT PRIMARY KEY,
        subject         TEXT NOT NULL,
        subject_owner   TEXT NOT NULL,
        subject_time    INTEGER NOT NULL,
        creator         TEXT NOT NULL,
        created         INTEGER NOT NULL,
        description     TEXT NOT NULL DEFAULT '',
        description_id  TEXT NOT NULL DEFAULT '',
        announce        BOOLEAN NOT NULL DEFAULT false,
        locked          BOOLEAN NOT NULL DEFAULT false,
        invite_code     TEXT NOT NULL
    )""",
    """CREATE TABLE group_member (
        group_jid TEXT NOT NULL REFERENCES chat_group(jid) ON DELETE CASCADE,
        phone     TEXT NOT NULL,
        role      TEXT NOT NULL DEFAULT '',
        PRIMARY KEY (group_jid, phone)
    )""",
    """CREATE TABLE app_state_patch (
        phone      TEXT NOT NULL,
        collection TEXT NOT NULL,
        version    INTEGER NOT NULL,
        patch      BLOB NOT NULL,
        PRIMARY KEY (phone, collection, version)
    )""",
    """CREATE TABLE profile_picture (
        jid  TEXT PRIMARY KEY,
        id   TEXT NOT NULL,
        path TEXT NOT NULL
    )""",
    """CREATE TABLE phone_inbox (
        seq      INTEGER PRIMARY KEY AUTOINCREMENT,
        phone    TEXT NOT NULL,
        chat     TEXT NOT NULL,
        sender   TEXT NOT NULL,
        msg_id   TEXT NOT NULL,
        ts       INTEGER NOT NULL,
        message  BLOB NOT NULL
    )""",
)


def device_jid(phone: str, device_id: int) -> str:
    """The JID of one device of an account (the phone, device 0, has no device part)."""
    return str(JID(phone, DEFAULT_USER_SERVER, device_id))


def now() -> int:
    return int(time.time())


@dataclass(slots=True)
class Account:
    phone: str
    lid: str
    push_name: str
    created: int
    key_index: int
    status: str

    @property
    def jid(self) -> str:
        return f"{self.phone}@s.whatsapp.net"


@dataclass(slots=True)
class Device:
    """A device registered to an account: the phone is device 0, companions 1 and up."""

    phone: str
    device_id: int
    noise_key: bytes | None
    identity_key: bytes
    registration_id: int
    skey_id: int
    skey_pub: bytes
    skey_sig: bytes
    key_index: int
    platform: str
    push_name: str
    device_identity: bytes | None
    created: int

    @property
    def jid(self) -> str:
        return device_jid(self.phone, self.device_id)


@dataclass(slots=True)
class QueuedStanza:
    seq: int
    cls: str
    stanza_id: str
    sender: str
    participant: str
    kind: str
    stanza: bytes


@dataclass(slots=True)
class Group:
    jid: str
    subject: str
    subject_owner: str
    subject_time: int
    creator: str
    created: int
    description: str
    description_id: str
    announce: bool
    locked: bool
    invite_code: str
    members: dict[str, str]  # phone -> role ('' | 'admin' | 'superadmin')


def _account(row: Row) -> Account:
    return Account(
        row["phone"],
        row["lid"],
        row["push_name"],
        row["created"],
        row["key_index"],
        row["status"],
    )


def _device(row: Row) -> Device:
    return Device(
        row["phone"],
        row["device_id"],
        bytes(row["noise_key"]) if row["noise_key"] is not None else None,
        bytes(row["identity_key"]),
        row["registration_id"],
        row["skey_id"],
        bytes(row["skey_pub"]),
        bytes(row["skey_sig"]),
        row["key_index"],
        row["platform"],
        row["push_name"],
        bytes(row["device_identity"]) if row["device_identity"] is not None else None,
        row["created"],
    )


class Storage:
    """The test network's persistent state; open with :meth:`open`, close with :meth:`close`."""

    def __init__(self, db: Database, data_dir: Path) -> None:
        self.db = db
        self.data_dir = data_dir

    @classmethod
    async def open(cls, data_dir: Path) -> Storage:
        await asyncio.to_thread(data_dir.mkdir, parents=True, exist_ok=True)
        db = Database.create(f"sqlite:///{data_dir / 'testnet.db'}")
        await db.start()
        await engine_upgrade_table.upgrade(db)
        await testnet_upgrades.upgrade(db)
        return cls(db, data_dir)

    async def close(self) -> None:
        await self.db.stop()

    # -- server keys -----------------------------------------------------------------------

    async def get_server_key(self, name: str) -> bytes | None:
        value = await self.db.fetchval("SELECT value FROM server_key WHERE name = $1", name)
        return bytes(value) if value is not None else None

    async def put_server_key(self, name: str, value: bytes) -> None:
        await self.db.execute(
            "INSERT INTO server_key (name, value) VALUES ($1, $2) "
            "ON CONFLICT (name) DO UPDATE SET value = excluded.value",
            name,
            value,
        )

    # -- accounts --------------------------------------------------------------------------

    async def create_account(self, phone: str, push_name: str, lid: str) -> Account:
        await self.db.execute(
            "INSERT INTO account (phone, lid, push_name, created) VALUES ($1, $2, $3, $4)",
            phone,
            lid,
            push_name,
            now(),
        )
        account = await self.get_account(phone)
        assert account is not None
        return account

    async def get_account(self, phone: str) -> Account | None:
        row = await self.db.fetchrow("SELECT * FROM account WHERE phone = $1", phone)
        return _account(row) if row else None

    async def get_account_by_lid(self, lid: str) -> Account | None:
        row = await self.db.fetchrow("SELECT * FROM account WHERE lid = $1", lid)
        return _account(row) if row else None

    async def list_accounts(self) -> list[Account]:
        return [_account(r) for r in await self.db.fetch("SELECT * FROM account ORDER BY phone")]

    async def set_push_name(self, phone: str, push_name: str) -> None:
        await self.db.execute(
            "UPDATE account SET push_name = $2 WHERE phone = $1", phone, push_name
        )

    async def set_status(self, phone: str, status: str) -> None:
        await self.db.execute("UPDATE account SET status = $2 WHERE phone = $1", phone, status)

    async def next_device_id(self, phone: str) -> tuple[int, int]:
        """Reserve a device id and key index for a new companion of ``phone``."""
        async with self.db.transaction():
            row = await self.db.fetchrow(
                "SELECT next_device, key_index FROM account WHERE phone = $1", phone
            )
            assert row is not None
            device_id, key_index = row["next_device"], row["key_index"] + 1
            await self.db.execute(
                "UPDATE account SET next_device = $2, key_index = $3 WHERE phone = $1",
                phone,
                device_id + 1,
                key_index,
            )
        return device_id, key_index

    # -- devices ---------------------------------------------------------------------------

    async def put_device(self, device: Device) -> None:
        await self.db.execute(
            "INSERT INTO device (phone, device_id, noise_key, identity_key, registration_id, "
            "skey_id, skey_pub, skey_sig, key_index, platform, push_name, device_identity, created)"
            " VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13)",
            device.phone,
            device.device_id,
            device.noise_key,
            device.identity_key,
            device.registration_id,
            device.skey_id,
            device.skey_pub,
            device.skey_sig,
            device.key_index,
            device.platform,
            device.push_name,
            device.device_identity,
            device.created,
        )

    async def update_signed_prekey(
        self,
        phone: str,
        device_id: int,
        registration_id: int,
        identity: bytes,
        skey_id: int,
        skey_pub: bytes,
        skey_sig: bytes,
    ) -> None:
        await self.db.execute(
            "UPDATE device SET registration_id = $3, identity_key = $4, skey_id = $5, "
            "skey_pub = $6, skey_sig = $7 WHERE phone = $1 AND device_id = $2",
            phone,
            device_id,
            registration_id,
            identity,
            skey_id,
            skey_pub,
            skey_sig,
        )

    async def get_device(self, phone: str, device_id: int) -> Device | None:
        row = await self.db.fetchrow(
            "SELECT * FROM device WHERE phone = $1 AND device_id = $2", phone, device_id
        )
        return _device(row) if row else None

    async def devices_of(self, phone: str) -> list[Device]:
        rows = await self.db.fetch(
            "SELECT * FROM device WHERE phone = $1 ORDER BY device_id", phone
        )
        return [_device(r) for r in rows]

    async def remove_device(self, phone: str, device_id: int) -> bool:
        return (
            await self.db.execute(
                "DELETE FROM device WHERE phone = $1 AND device_id = $2", phone, device_id
            )
            > 0
        )

    # -- prekeys ---------------------------------------------------------------------------

    async def add_prekeys(self, phone: str, device_id: int, keys: list[tuple[int, bytes]]) -> None:
        await self.db.executemany(
            "INSERT INTO prekey (phone, device_id, key_id, pub) VALUES ($1, $2, $3, $4) "
            "ON CONFLICT (phone, device_id, key_id) DO UPDATE SET pub = excluded.pub",
            [(phone, device_id, key_id, pub) for key_id, pub in keys],
        )

    async def count_prekeys(self, phone: str, device_id: int) -> int:
        return int(
            await self.db.fetchval(
                "SELECT COUNT(*) FROM prekey WHERE phone = $1 AND device_id = $2",
                phone,
                device_id,
            )
        )

    async def take_prekey(self, phone: str, device_id: int) -> tuple[int, bytes] | None:
        """Hand out one one-time prekey; it is gone afterwards, as on the real server."""
        async with self.db.transaction():
            row = await self.db.fetchrow(
                "SELECT key_id, pub FROM prekey WHERE phone = $1 AND device_id = $2 "
                "ORDER BY key_id LIMIT 1",
                phone,
                device_id,
            )
            if row is None:
                return None
            await self.db.execute(
                "DELETE FROM prekey WHERE phone = $1 AND device_id = $2 AND key_id = $3",
                phone,
                device_id,
                row["key_id"],
            )
        return row["key_id"], bytes(row["pub"])

    # -- delivery queue --------------------------------------------------------------------

    async def enqueue(
        self,
        phone: str,
        device_id: int,
        cls: str,
        stanza_id: str,
        sender: str,
        participant: str,
        kind: str,
        stanza: bytes,
    ) -> int:
        async with self.db.transaction():
            await self.db.execute(
                "INSERT INTO queue (phone, device_id, class, stanza_id, sender, participant, "
                "kind, stanza) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
                phone,
                device_id,
                cls,
                stanza_id,
                sender,
                participant,
                kind,
                stanza,
            )
            return int(await self.db.fetchval("SELECT last_insert_rowid()"))

    async def queued(self, phone: str, device_id: int, after: int = 0) -> list[QueuedStanza]:
        """A device's queue in order, from the entry after sequence number ``after``."""
        rows = await self.db.fetch(
            "SELECT seq, class, stanza_id, sender, participant, kind, stanza FROM queue "
            "WHERE phone = $1 AND device_id = $2 AND seq > $3 ORDER BY seq",
            phone,
            device_id,
            after,
        )
        return [
            QueuedStanza(
                r["seq"],
                r["class"],
                r["stanza_id"],
                r["sender"],
                r["participant"],
                r["kind"],
                bytes(r["stanza"]),
            )
            for r in rows
        ]

    async def count_queued(self, phone: str, device_id: int) -> int:
        return int(
            await self.db.fetchval(
                "SELECT COUNT(*) FROM queue WHERE phone = $1 AND device_id = $2", phone, device_id
            )
        )

    async def dequeue(
        self,
        phone: str,
        device_id: int,
        cls: str,
        stanza_id: str,
        sender: str,
        participant: str,
        kind: str,
    ) -> int:
        """Drop what an ack confirms; returns how many rows it matched.

        Receipts of different types for one message (delivered, read ...) are told apart by
        their type, which clients echo in the ack; message acks carry no type.
        """
        query = (
            "DELETE FROM queue WHERE phone = $1 AND device_id = $2 AND class = $3 "
            "AND stanza_id = $4"
        )
        args: list[Any] = [phone, device_id, cls, stanza_id]
        for column, value in (("sender", sender), ("participant", participant)):
            if value:
                args.append(value)
                query += f" AND {column} = ${len(args)}"
        if cls != "message":
            args.append(kind)
            query += f" AND kind = ${len(args)}"
        return await self.db.execute(query, *args)

    # -- groups ----------------------------------------------------------------------------

    async def put_group(self, group: Group) -> None:
        async with self.db.transaction():
            await self.db.execute(
                "INSERT INTO chat_group (jid, subject, subject_owner, subject_time, creator, "
                "created, description, description_id, announce, locked, invite_code) "
                "VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11) "
                "ON CONFLICT (jid) DO UPDATE SET subject = excluded.subject, "
                "subject_owner = excluded.subject_owner, subject_time = excluded.subject_time, "
                "description = excluded.description, description_id = excluded.description_id, "
                "announce = excluded.announce, locked = excluded.locked, "
                "invite_code = excluded.invite_code",
                group.jid,
                group.subject,
                group.subject_owner,
                group.subject_time,
                group.creator,
                group.created,
                group.description,
                group.description_id,
                group.announce,
                group.locked,
                group.invite_code,
            )
            await self.db.execute("DELETE FROM group_member WHERE group_jid = $1", group.jid)
            await self.db.executemany(
                "INSERT INTO group_member (group_jid, phone, role) VALUES ($1, $2, $3)",
                [(group.jid, phone, role) for phone, role in group.members.items()],
            )

    async def get_group(self, jid: str) -> Group | None:
        row = await self.db.fetchrow("SELECT * FROM chat_group WHERE jid = $1", jid)
        if row is None:
            return None
        members = await self.db.fetch(
            "SELECT phone, role FROM group_member WHERE group_jid = $1 ORDER BY rowid", jid
        )
        return Group(
            row["jid"],
            row["subject"],
            row["subject_owner"],
            row["subject_time"],
            row["creator"],
            row["created"],
            row["description"],
            row["description_id"],
            bool(row["announce"]),
            bool(row["locked"]),
            row["invite_code"],
            {m["phone"]: m["role"] for m in members},
        )

    async def group_by_invite(self, code: str) -> Group | None:
        jid = await self.db.fetchval("SELECT jid FROM chat_group WHERE invite_code = $1", code)
        return await self.get_group(jid) if jid else None

    async def groups_of(self, phone: str) -> list[Group]:
        rows = await self.db.fetch(
            "SELECT group_jid FROM group_member WHERE phone = $1 ORDER BY group_jid", phone
        )
        groups = [await self.get_group(r["group_jid"]) for r in rows]
        return [g for g in groups if g is not None]

    # -- app state -------------------------------------------------------------------------

    async def app_state_version(self, phone: str, collection: str) -> int:
        value = await self.db.fetchval(
            "SELECT MAX(version) FROM app_state_patch WHERE phone = $1 AND collection = $2",
            phone,
            collection,
        )
        return int(value or 0)

    async def add_app_state_patch(
        self, phone: str, collection: str, version: int, patch: bytes
    ) -> None:
        await self.db.execute(
            "INSERT INTO app_state_patch (phone, collection, version, patch) "
            "VALUES ($1, $2, $3, $4)",
            phone,
            collection,
            version,
            patch,
        )

    async def app_state_patches(
        self, phone: str, collection: str, after: int
    ) -> list[tuple[int, bytes]]:
        rows = await self.db.fetch(
            "SELECT version, patch FROM app_state_patch WHERE phone = $1 AND collection = $2 "
            "AND version > $3 ORDER BY version",
            phone,
            collection,
            after,
        )
        return [(r["version"], bytes(r["patch"])) for r in rows]

    # -- profile pictures ------------------------------------------------------------------

    async def set_profile_picture(self, jid: str, pic_id: str, path: str) -> None:
        await self.db.execute(
            "INSERT INTO profile_picture (jid, id, path) VALUES ($1, $2, $3) "
            "ON CONFLICT (jid) DO UPDATE SET id = excluded.id, path = excluded.path",
            jid,
            pic_id,
            path,
        )

    async def get_profile_picture(self, jid: str) -> tuple[str, str] | None:
        row = await self.db.fetchrow("SELECT id, path FROM profile_picture WHERE jid = $1", jid)
        return (row["id"], row["path"]) if row else None

    async def remove_profile_picture(self, jid: str) -> None:
        await self.db.execute("DELETE FROM profile_picture WHERE jid = $1", jid)

    # -- what the simulated phones received ------------------------------------------------

    async def add_inbox(
        self, phone: str, chat: str, sender: str, msg_id: str, ts: int, message: bytes
    ) -> None:
        await self.db.execute(
            "INSERT INTO phone_inbox (phone, chat, sender, msg_id, ts, message) "
            "VALUES ($1, $2, $3, $4, $5, $6)",
            phone,
            chat,
            sender,
            msg_id,
            ts,
            message,
        )

    async def inbox(self, phone: str) -> list[dict[str, Any]]:
        rows = await self.db.fetch(
            "SELECT chat, sender, msg_id, ts, message FROM phone_inbox WHERE phone = $1 "
            "ORDER BY seq",
            phone,
        )
        return [
            {
                "chat": r["chat"],
                "sender": r["sender"],
                "id": r["msg_id"],
                "t": r["ts"],
                "message": bytes(r["message"]),
            }
            for r in rows
        ]


def dump_json(path: Path, data: dict[str, Any]) -> None:
    tmp = path.with_suffix(".tmp")
    tmp.write_text(json.dumps(data, indent=2))
    tmp.replace(path)
