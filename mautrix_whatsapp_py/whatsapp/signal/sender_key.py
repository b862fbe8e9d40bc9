"""Sender key state and records for group messages (pure), with versioned serialization.

A :class:`SenderKeyState` is one sender's chain in one group: key id, chain key and its
iteration, the sender's signing public key (and private key, for our own chain) and message keys
skipped by out-of-order delivery (at most :data:`MAX_SKIPPED_KEYS`). A
:class:`SenderKeyRecord` keeps the :data:`MAX_STATES` newest states, newest first, as
Baileys/libsignal do (5), so messages under a previous key id still decrypt after a rekey.

:func:`encrypt` and :func:`decrypt` work like :mod:`.ratchet`: decrypt verifies the signature
and decrypts before it writes anything to the state.
"""

from __future__ import annotations

import os
import struct
from dataclasses import dataclass, field

from .chain import keep, seek
from .errors import InvalidMessageError, NoSessionError
from .kdf import aes_cbc_decrypt, aes_cbc_encrypt, chain_step, sender_message_keys
from .keys import KeyPair, check_public, sign, verify_or_raise
from .wire import (
    SenderKeyDistributionMessage,
    SenderKeyMessage,
    field_bytes,
    field_int,
    iter_fields,
)

RECORD_FORMAT = 1
MAX_STATES = 5
MAX_SKIPPED_KEYS = 2000
MAX_JUMP = 2000
_SKIPPED = struct.Struct(">I32s")


@dataclass(slots=True)
class SenderKeyState:
    """One sender chain. ``iteration`` is the iteration whose key ``chain_key`` yields next."""

    key_id: int
    iteration: int
    chain_key: bytes = field(repr=False)
    signing_public: bytes
    signing_private: bytes | None = field(default=None, repr=False)
    skipped: dict[int, bytes] = field(default_factory=dict, repr=False)

    def serialize(self) -> bytes:
        parts = [
            field_int(1, self.key_id),
            field_int(2, self.iteration),
            field_bytes(3, self.chain_key),
            field_bytes(4, self.signing_public),
        ]
        if self.signing_private is not None:
            parts.append(field_bytes(5, self.signing_private))
        if self.skipped:
            pack = _SKIPPED.pack
            parts.append(field_bytes(6, b"".join(pack(i, s) for i, s in self.skipped.items())))
        return b"".join(parts)

    @classmethod
    def deserialize(cls, data: bytes) -> SenderKeyState:
        key_id = iteration = 0
        chain_key = signing_public = b""
        signing_private: bytes | None = None
        skipped: dict[int, bytes] = {}
        for number, value in iter_fields(data):
            if isinstance(value, int):
                if number == 1:
                    key_id = value
                elif number == 2:
                    iteration = value
            elif number == 3:
                chain_key = value
            elif number == 4:
                signing_public = value
            elif number == 5:
                signing_private = value
            elif number == 6:
                if len(value) % _SKIPPED.size:
                    raise InvalidMessageError("corrupt skipped key list")
                skipped = dict(_SKIPPED.iter_unpack(value))
        if len(chain_key) != 32 or not signing_public:
            raise InvalidMessageError("corrupt sender key state")
        return cls(key_id, iteration, chain_key, signing_public, signing_private, skipped)


class SenderKeyRecord:
    """The newest sender key states of one (group, sender), newest first."""

    __slots__ = ("states",)

    def __init__(self, states: list[SenderKeyState] | None = None) -> None:
        self.states: list[SenderKeyState] = states or []

    def __repr__(self) -> str:
        return f"<SenderKeyRecord key_ids={[s.key_id for s in self.states]}>"

    def is_empty(self) -> bool:
        return not self.states

    def get_state(self, key_id: int | None = None) -> SenderKeyState | None:
        """The newest state, or the one with ``key_id``."""
        if key_id is None:
            return self.states[0] if self.states else None
        for state in self.states:
            if state.key_id == key_id:
                return state
        return None

    def add_state(self, state: SenderKeyState) -> bool:
        """Add a state received in a distribution message; returns False if it was known.

        A repeated distribution message for a key id we already have with the same signing key
        is ignored, so it cannot rewind the chain (and re-enable replays).
        """
        for existing in self.states:
            if existing.key_id == state.key_id:
                if existing.signing_public == state.signing_public:
                    return False
                self.states.remove(existing)
                break
        self.states.insert(0, state)
        del self.states[MAX_STATES:]
        return True

    def set_own_state(self, state: SenderKeyState) -> None:
        """Replace everything with our own fresh chain."""
        self.states = [state]

    def serialize(self) -> bytes:
        return bytes((RECORD_FORMAT,)) + b"".join(
            field_bytes(1, state.serialize()) for state in self.states
        )

    @classmethod
    def deserialize(cls, data: bytes) -> SenderKeyRecord:
        if not data or data[0] != RECORD_FORMAT:
            raise InvalidMessageError("unknown sender key record format")
        return cls(
            [
                SenderKeyState.deserialize(value)
                for number, value in iter_fields(data[1:])
                if number == 1 and isinstance(value, bytes)
            ]
        )


def new_own_state() -> SenderKeyState:
    """A fresh sending chain for ourselves: random 31-bit key id, chain key and signing key."""
    signing = KeyPair.generate()
    key_id = int.from_bytes(os.urandom(4), "big") & 0x7FFFFFFF
    return SenderKeyState(key_id, 0, os.urandom(32), signing.public, signing.private)


def distribution_message(state: SenderKeyState) -> SenderKeyDistributionMessage:
    return SenderKeyDistributionMessage(
        state.key_id, state.iteration, state.chain_key, state.signing_public
    )


def state_from_distribution(message: SenderKeyDistributionMessage) -> SenderKeyState:
    if len(message.chain_key) != 32:
        raise InvalidMessageError("sender chain key must be 32 bytes")
    return SenderKeyState(
        message.key_id, message.iteration, message.chain_key, check_public(message.signing_key)
    )


def encrypt(state: SenderKeyState, plaintext: bytes) -> bytes:
    """Encrypt with our own chain and advance it; returns a serialized SenderKeyMessage."""
    if state.signing_private is None:
        raise NoSessionError("sender key state has no signing private key (not our own)")
    seed, state.chain_key = chain_step(state.chain_key)
    iteration = state.iteration
    state.iteration = iteration + 1
    iv, key = sender_message_keys(seed)
    body = SenderKeyMessage.encode_body(
        state.key_id, iteration, aes_cbc_encrypt(key, iv, plaintext)
    )
    return body + sign(state.signing_private, body)


def decrypt(record: SenderKeyRecord, data: bytes) -> bytes:
    """Decrypt a SenderKeyMessage; the record is only modified on success."""
    message = SenderKeyMessage.parse(data)
    state = record.get_state(message.key_id)
    if state is None:
        raise NoSessionError(f"no sender key state for key id {message.key_id}")
    verify_or_raise(state.signing_public, message.body, message.signature)
    found = seek(
        state.chain_key,
        state.iteration,
        message.iteration,
        state.skipped,
        MAX_JUMP,
        "sender key iteration",
    )
    iv, key = sender_message_keys(found.seed)
    plaintext = aes_cbc_decrypt(key, iv, message.ciphertext)
    # Verified and decrypted: commit.
    keep(state.skipped, found, MAX_SKIPPED_KEYS)
    if found.next_chain_key is not None:
        state.chain_key = found.next_chain_key
        state.iteration = found.position + 1
    return plaintext
