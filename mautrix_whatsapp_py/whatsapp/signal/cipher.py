"""1:1 encryption and decryption against a :class:`SignalStore`: the async layer over the ratchet.

:class:`SessionCipher` loads the serialized record, works on the freshly deserialized copy, and
only when everything succeeded writes the session, the consumed one-time prekey and the remote
identity together inside ``store.transaction()``. A failed decrypt (bad MAC, unknown prekey,
replay, corruption) therefore changes nothing in the store.

Operations on one address are serialised with a per-(store, address) lock, so two concurrent
decrypts for the same device cannot both start from the same record.
"""

from __future__ import annotations

import asyncio
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
from .session import SessionRecord, SessionState
from .store import SignalStore
from .wire import PreKeySignalMessage, SignalMessage

log = logging.getLogger(__name__)

MessageType = Literal["msg", "pkmsg"]

_locks: weakref.WeakValueDictionary[tuple[int, str], asyncio.Lock] = weakref.WeakValueDictionary()


def address_lock(store: SignalStore, key: str) -> asyncio.Lock:
    """The lock serialising operations on one address (or sender key name) of one store."""
    lock_key = (id(store), key)
    lock = _locks.get(lock_key)
    if lock is None:
        lock = asyncio.Lock()
        _locks[lock_key] = lock
    return lock


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

    def __repr__(self) -> str:
        return f"<SessionCipher {self._key}>"

    async def _load(self) -> SessionRecord | None:
        data = await self.store.load_session(self.address)
        return None if data is None else SessionRecord.deserialize(data)

    async def has_session(self) -> bool:
        record = await self._load()
        return record is not None and record.current is not None

    async def process_bundle(self, bundle: PreKeyBundle) -> bool:
        """Start a new outgoing session from ``bundle``; returns whether the identity changed.

        The previous session, if any, is archived (late messages on it still decrypt).
        """
        async with address_lock(self.store, self._key):
            our_identity = await self.store.get_identity_key_pair()
            reg_id = await self.store.get_local_registration_id()
            state = builder.initiate(our_identity, reg_id, bundle)
            record = await self._load() or SessionRecord()
            record.promote_state(state)
            old_identity = await self.store.get_identity(self.address)
            async with self.store.transaction():
                await self.store.store_session(self.address, record.serialize())
                await self.store.save_identity(self.address, bundle.identity_key)
            return old_identity is not None and old_identity != bundle.identity_key

    async def encrypt(self, plaintext: bytes) -> EncryptResult:
        """Encrypt with the current session; ``pkmsg`` until the peer has answered."""
        async with address_lock(self.store, self._key):
            record = await self._load()
            if record is None or record.current is None:
                raise NoSessionError(f"no session with {self._key}")
            state = record.current
            body = ratchet.encrypt(state, plaintext)
            await self.store.store_session(self.address, record.serialize())
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
        async with address_lock(self.store, self._key):
            record = await self._load()
            if record is None or (record.current is None and record.archived_count == 0):
                raise NoSessionError(f"no session with {self._key}")
            plaintext = self._decrypt_with_record(record, message)
            await self.store.store_session(self.address, record.serialize())
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
        async with address_lock(self.store, self._key):
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
                await self.store.store_session(self.address, record.serialize())
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
