"""The persistent identity of one WhatsApp companion device, in the engine's SQL database.

A :class:`DeviceStore` row holds the Noise static key, the Signal identity and registration
id, the ADV secret shown in QR codes, and, once paired, our JID, LID, platform and the signed
device identity the phone gave us. It lives in ``whatsapp_device``, the same row the Signal
store hangs off, so logging out is one ``DELETE``. Before pairing the row's jid is a placeholder
(``unpaired:<hex>``); :meth:`DeviceStore.mark_paired` renames it and every Signal row follows
through ``ON UPDATE CASCADE``.
"""

from __future__ import annotations

import os
import time
from dataclasses import dataclass

from ..binary import JID
from ..proto import wa_adv_pb2 as adv_pb
from ..signal.keys import KeyPair, SignedPreKeyRecord, generate_signed_prekey
from .signal_store import SQLSignalStore
from .sqldb import Database

UNPAIRED_PREFIX = "unpaired:"
SIGNED_PREKEY_ID = 1


@dataclass(slots=True)
class DeviceStore:
    """One device: its keys and, once paired, who it is. Load with :meth:`load` / :meth:`new`."""

    db: Database
    row_jid: str
    noise_key: KeyPair
    identity: KeyPair
    registration_id: int
    adv_secret: bytes
    signed_prekey: SignedPreKeyRecord
    signal: SQLSignalStore
    platform: str = ""
    push_name: str = ""
    lid: str = ""
    account: adv_pb.ADVSignedDeviceIdentity | None = None
    paired: bool = False

    @property
    def jid(self) -> JID | None:
        """Our device JID, or ``None`` before pairing."""
        return JID.parse(self.row_jid) if self.paired else None

    @classmethod
    async def new(cls, db: Database) -> DeviceStore:
        """Make and save a fresh, unpaired device."""
        row_jid = UNPAIRED_PREFIX + os.urandom(8).hex()
        signal = await SQLSignalStore.create(db, row_jid)
        identity = await signal.get_identity_key_pair()
        signed = generate_signed_prekey(identity, SIGNED_PREKEY_ID, int(time.time()))
        noise_key = KeyPair.generate()
        adv_secret = os.urandom(32)
        async with db.transaction():
            await signal.store_signed_prekey(signed)
            await db.execute(
                "UPDATE whatsapp_device SET noise_key = $2, adv_secret = $3 WHERE jid = $1",
                row_jid,
                noise_key.private,
                adv_secret,
            )
        return cls(
            db,
            row_jid,
            noise_key,
            identity,
            await signal.get_local_registration_id(),
            adv_secret,
            signed,
            signal,
        )

    @classmethod
    async def load(cls, db: Database, row_jid: str) -> DeviceStore | None:
        row = await db.fetchrow(
            "SELECT noise_key, adv_secret, platform, push_name, lid, account, paired "
            "FROM whatsapp_device WHERE jid = $1",
            row_jid,
        )
        signal = await SQLSignalStore.load(db, row_jid)
        if row is None or signal is None or row["noise_key"] is None:
            return None
        signed = await signal.load_signed_prekey(SIGNED_PREKEY_ID)
        if signed is None:
            return None
        account = None
        if row["account"] is not None:
            account = adv_pb.ADVSignedDeviceIdentity.FromString(bytes(row["account"]))
        return cls(
            db,
            row_jid,
            KeyPair.from_private(bytes(row["noise_key"])),
            await signal.get_identity_key_pair(),
            await signal.get_local_registration_id(),
            bytes(row["adv_secret"]),
            signed,
            signal,
            row["platform"],
            row["push_name"],
            row["lid"],
            account,
            bool(row["paired"]),
        )

    @staticmethod
    async def list_devices(db: Database) -> list[str]:
        """Row keys of every device with a device store (paired ones first)."""
        rows = await db.fetch(
            "SELECT jid FROM whatsapp_device WHERE noise_key IS NOT NULL ORDER BY paired DESC, jid"
        )
        return [r["jid"] for r in rows]

    @classmethod
    async def load_or_new(cls, db: Database) -> DeviceStore:
        """The first device in the database (a paired one if any), or a new one."""
        for row_jid in await cls.list_devices(db):
            device = await cls.load(db, row_jid)
            if device is not None:
                return device
        return await cls.new(db)

    async def mark_paired(
        self, jid: JID, lid: str, platform: str, account: adv_pb.ADVSignedDeviceIdentity
    ) -> None:
        new_jid = str(jid)
        await self.db.execute(
            "UPDATE whatsapp_device SET jid = $2, lid = $3, platform = $4, account = $5, "
            "paired = true WHERE jid = $1",
            self.row_jid,
            new_jid,
            lid,
            platform,
            account.SerializeToString(),
        )
        self.row_jid = new_jid
        self.signal.our_jid = new_jid
        self.lid, self.platform, self.account, self.paired = lid, platform, account, True

    async def set_adv_secret(self, secret: bytes) -> None:
        """Pairing by code derives the ADV secret instead of showing ours in a QR code."""
        await self.db.execute(
            "UPDATE whatsapp_device SET adv_secret = $2 WHERE jid = $1", self.row_jid, secret
        )
        self.adv_secret = secret

    async def set_push_name(self, name: str) -> None:
        await self.db.execute(
            "UPDATE whatsapp_device SET push_name = $2 WHERE jid = $1", self.row_jid, name
        )
        self.push_name = name

    async def delete(self) -> None:
        """Forget this device and all its keys (after logout)."""
        await self.db.execute("DELETE FROM whatsapp_device WHERE jid = $1", self.row_jid)

    # -- decrypted event buffer -----------------------------------------------------------------

    async def buffered_plaintext(self, ciphertext_hash: bytes) -> tuple[bool, bytes | None]:
        """Whether a copy with this hash was decrypted before, and its plaintext if it has not
        been handled yet (handled copies keep only their hash)."""
        row = await self.db.fetchrow(
            "SELECT plaintext FROM whatsapp_event_buffer WHERE our_jid = $1 "
            "AND ciphertext_hash = $2",
            self.row_jid,
            ciphertext_hash,
        )
        if row is None:
            return False, None
        return True, bytes(row["plaintext"]) if row["plaintext"] is not None else None

    async def mark_handled(self, ciphertext_hashes: list[bytes]) -> None:
        """The events of these copies were delivered: forget the plaintexts, keep the hashes
        so that a redelivery is recognised and dropped."""
        await self.db.executemany(
            "UPDATE whatsapp_event_buffer SET plaintext = NULL "
            "WHERE our_jid = $1 AND ciphertext_hash = $2",
            [(self.row_jid, h) for h in ciphertext_hashes],
        )

    async def buffer_plaintext(self, ciphertext_hash: bytes, plaintext: bytes) -> None:
        await self.db.execute(
            "INSERT INTO whatsapp_event_buffer (our_jid, ciphertext_hash, plaintext, inserted_at) "
            "VALUES ($1, $2, $3, $4) ON CONFLICT (our_jid, ciphertext_hash) DO NOTHING",
            self.row_jid,
            ciphertext_hash,
            plaintext,
            int(time.time()),
        )

    async def prune_buffer(self, max_age: int = 14 * 24 * 3600) -> None:
        """Drop buffered plaintexts old enough that the server will not redeliver them."""
        await self.db.execute(
            "DELETE FROM whatsapp_event_buffer WHERE our_jid = $1 AND inserted_at < $2",
            self.row_jid,
            int(time.time()) - max_age,
        )
