"""1:1 encryption and decryption against a :class:`SignalStore`: the async layer over the ratchet.

:class:`SessionCipher` loads the serialized record, works on the freshly deserialized copy, and
only when everything succeeded writes the session, the consumed one-time prekey and the remote
identity together inside ``store.transaction()``. A failed decrypt (bad MAC, unknown prekey,
replay, corruption) therefore changes nothing in the store.

Operations on one address are serialised with a per-(store, address) lock, so two concurrent
decrypts for the same device cannot both start from the same record. Parsed records are cached
per store and reused only while the store returns the very bytes they were parsed from.
"""

from __future__ import annotations

import logging
import weakref
from dataclasses import dataclass, field
from typing import Literal

from . import builder, ratchet
from .address import ProtocolAddress
from .errors import (
    DuplicateMessageError,
    InvalidKeyIdError,
    InvalidMessageError,
    NoSessionError,
    SignalError,
)
from .keys import PreKeyBundle
from .lock import address_lock
from .session import SessionRecord, SessionState
from .store import SignalStore
from .wire import PreKeySignalMessage, SignalMessage

log = logging.getLogger(__name__)

MessageType = Literal["msg", "pkmsg"]


class _RecordCache:
    """Parsed session records of one store, keyed by address, each with the bytes it parses.

    A cached record is used only when the store hands back exactly those bytes, so the store
    stays the source of truth; any failure while a record is being worked on drops the entry.
    Saves parsing the record on every message.
    """

    MAX = 4096

    def __init__(self) -> None:
        self.entries: dict[str, tuple[bytes, SessionRecord]] = {}

    def get(self, key: str, data: bytes) -> SessionRecord:
        entry = self.entries.get(key)
        if entry is not None and (entry[0] is data or entry[0] == data):
            return entry[1]
        return SessionRecord.deserialize(data)

    def put(self, key: str, data: bytes, record: SessionRecord) -> None:
        entries = self.entries
        entries.pop(key, None)
        entries[key] = (data, record)
        if len(entries) > self.MAX:
            del entries[next(iter(entries))]

    def drop(self, key: str) -> None:
        self.entries.pop(key, None)


_caches: weakref.WeakKeyDictionary[SignalStore, _RecordCache] = weakref.WeakKeyDictionary()


def _cache_of(store: SignalStore) -> _RecordCache:
    try:
        cache = _caches.get(store)
        if cache is None:
            cache = _caches[store] = _RecordCache()
    except TypeError:  # an unhashable or non-weakrefable store: cache per cipher only
        cache = _RecordCache()
    return cache


@dataclass(frozen=True, slots=True)
class EncryptResult:
    """An encrypted message and its WhatsApp ``enc`` type."""

    type: MessageType
    ciphertext: bytes = field(repr=False)


@dataclass(frozen=True, slots=True)
class DecryptResult:
    """A decrypted message.

    ``identity_changed`` is true when a prekey message carried an identity key different from
    the one stored for this address (it was accepted and saved; the client should tell the
    user). ``used_prekey_id`` is the one-time prekey this message consumed, if any.
    """

    plaintext: bytes = field(repr=False)
    identity_changed: bool = False
    used_prekey_id: int | None = None


class SessionCipher:
    """Encrypts to and decrypts from one remote device."""

    def __init__(self, store: SignalStore, address: ProtocolAddress) -> None:
        self.store = store
        self.address = address
        self._key = str(address)
        self._cache = _cache_of(store)

    def __repr__(self) -> str:
        return f"<SessionCipher {self._key}>"

    async def _load(self) -> SessionRecord | None:
        data = await self.store.load_session(self.address)
        if data is None:
            self._cache.drop(self._key)
            return None
        return self._cache.get(self._key, data)

    async def _save(self, record: SessionRecord) -> None:
        data = record.serialize()
        await self.store.store_session(self.address, data)
        self._cache.put(self._key, data, record)

    def _locked(self) -> address_lock:
        # Any failure while a (possibly cached) record is being worked on forgets the cached
        # copy, so the next operation starts again from the stored bytes.
        return address_lock(self.store, self._key, self._drop_cached)

    def _drop_cached(self) -> None:
        self._cache.drop(self._key)

    async def has_session(self) -> bool:
        record = await self._load()
        return record is not None and record.current is not None

    async def process_bundle(self, bundle: PreKeyBundle) -> bool:
        """Start a new outgoing session from ``bundle``; returns whether the identity changed.

        The previous session, if any, is archived (late messages on it still decrypt).
        """
        async with self._locked():
            our_identity = await self.store.get_identity_key_pair()
            reg_id = await self.store.get_local_registration_id()
            state = builder.initiate(our_identity, reg_id, bundle)
            record = await self._load() or SessionRecord()
            record.promote_state(state)
            old_identity = await self.store.get_identity(self.address)
            async with self.store.transaction():
                await self._save(record)
                await self.store.save_identity(self.address, bundle.identity_key)
            return old_identity is not None and old_identity != bundle.identity_key

    async def encrypt(self, plaintext: bytes) -> EncryptResult:
        """Encrypt with the current session; ``pkmsg`` until the peer has answered."""
        async with self._locked():
            record = await self._load()
            if record is None or record.current is None:
                raise NoSessionError(f"no session with {self._key}")
            state = record.current
            body = ratchet.encrypt(state, plaintext)
            await self._save(record)
        pending = state.pending_prekey
        if pending is None:
            return EncryptResult("msg", body)
        pkmsg = PreKeySignalMessage(
            registration_id=state.local_registration_id,
            prekey_id=pending.prekey_id,
            signed_prekey_id=pending.signed_prekey_id,
            base_key=pending.base_key,
            identity_key=state.local_identity,
            message=SignalMessage(b"", 0, 0, b"", body),
        )
        return EncryptResult("pkmsg", pkmsg.serialize())

    async def decrypt(self, message_type: MessageType, ciphertext: bytes) -> DecryptResult:
        """Decrypt a WhatsApp ``enc`` payload of type ``msg`` or ``pkmsg``."""
        if message_type == "pkmsg":
            return await self.decrypt_prekey_message(ciphertext)
        if message_type == "msg":
            return DecryptResult(await self.decrypt_message(ciphertext))
        raise InvalidMessageError(f"unknown message type {message_type!r}")

    async def decrypt_message(self, data: bytes) -> bytes:
        """Decrypt a SignalMessage with the current session or, failing that, an archived one.

        An archived session that decrypts the message becomes current again (as libsignal
        java/go/rust do: the peer evidently still uses it).
        """
        message = SignalMessage.parse(data)
        async with self._locked():
            record = await self._load()
            if record is None or (record.current is None and record.archived_count == 0):
                raise NoSessionError(f"no session with {self._key}")
            plaintext = self._decrypt_with_record(record, message)
            await self._save(record)
            return plaintext

    @staticmethod
    def _decrypt_with_record(record: SessionRecord, message: SignalMessage) -> bytes:
        first_error: SignalError | None = None
        if record.current is not None:
            try:
                return ratchet.decrypt(record.current, message)
            except DuplicateMessageError:
                raise
            except SignalError as e:
                first_error = e
        for index in range(record.archived_count):
            state = record.archived_state(index)
            try:
                plaintext = ratchet.decrypt(state, message)
            except DuplicateMessageError:
                raise
            except SignalError as e:
                first_error = first_error or e
                continue
            record.promote_archived(index)
            return plaintext
        assert first_error is not None
        raise first_error

    async def decrypt_prekey_message(self, data: bytes) -> DecryptResult:
        """Decrypt a PreKeySignalMessage, building the responder session if it is new."""
        message = PreKeySignalMessage.parse(data)
        async with self._locked():
            record = await self._load() or SessionRecord()
            state = record.find_by_base_key(message.base_key)
            used_prekey: int | None = None
            if state is None:
                state = await self._respond(message)
                used_prekey = message.prekey_id
            plaintext = ratchet.decrypt(state, message.message)
            if state is not record.current:
                record.promote_state(state)
            old_identity = await self.store.get_identity(self.address)
            async with self.store.transaction():
                await self._save(record)
                if used_prekey is not None:
                    await self.store.remove_prekey(used_prekey)
                await self.store.save_identity(self.address, message.identity_key)
        changed = old_identity is not None and old_identity != message.identity_key
        if changed:
            log.info("Identity key of %s changed", self._key)
        return DecryptResult(plaintext, changed, used_prekey)

    async def _respond(self, message: PreKeySignalMessage) -> SessionState:
        signed = await self.store.load_signed_prekey(message.signed_prekey_id)
        if signed is None:
            raise InvalidKeyIdError(f"unknown signed prekey {message.signed_prekey_id}")
        one_time = None
        if message.prekey_id is not None:
            record = await self.store.load_prekey(message.prekey_id)
            if record is None:
                raise InvalidKeyIdError(f"unknown or used prekey {message.prekey_id}")
            one_time = record.key_pair
        our_identity = await self.store.get_identity_key_pair()
        reg_id = await self.store.get_local_registration_id()
        return builder.respond(our_identity, reg_id, signed.key_pair, one_time, message)
