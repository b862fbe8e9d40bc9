"""Session state and session records, and their versioned byte serialization.

A :class:`SessionState` is one Double Ratchet session with one remote device. A
:class:`SessionRecord` holds the current state plus up to :data:`MAX_ARCHIVED_STATES` archived
(previous) ones, newest first, so that late messages for a replaced session still decrypt, as
libsignal keeps them (libsignal-node: 40 closed sessions).

Serialized form (opaque to stores; all integers big-endian): one format byte
:data:`RECORD_FORMAT`, then the current state as ``u32 length || state`` (length 0: none), then
``u16 count`` archived states, each ``u32 length || state``. A state is a fixed-layout header
(:data:`_HEADER`) followed by its receiver chains; fixed layouts parse with one ``struct`` call,
which is what makes loading and saving a record on every message cheap. Archived states stay as
bytes until touched.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass, field

from .errors import InvalidMessageError
from .keys import KeyPair

RECORD_FORMAT = 2
MAX_ARCHIVED_STATES = 40
MAX_RECEIVER_CHAINS = 5
MAX_SKIPPED_KEYS = 2000  # per receiver chain; the oldest are dropped beyond this
_SKIPPED = struct.Struct(">I32s")
_NO_PREKEY = 0xFFFFFFFF
# local identity, remote identity, root key, ratchet public, ratchet private, sender chain key,
# base key, sender counter, previous counter, remote reg id, local reg id,
# pending flag, pending one-time prekey id, pending signed prekey id, receiver chain count
_HEADER = struct.Struct(">33s33s32s33s32s32s33sIIIIBIIB")
# ratchet key, chain key, counter, skipped count
_CHAIN = struct.Struct(">33s32sII")
_LEN = struct.Struct(">I")
_COUNT = struct.Struct(">H")


@dataclass(slots=True)
class ReceiverChain:
    """A receiving chain: their ratchet key, the next chain key and keys skipped on it.

    ``counter`` is the index of the message key that ``chain_key`` yields next; ``skipped`` maps
    counters of messages not yet received to their message key seeds, oldest first.
    """

    ratchet_key: bytes
    chain_key: bytes = field(repr=False)
    counter: int = 0
    skipped: dict[int, bytes] = field(default_factory=dict, repr=False)

    def serialize(self) -> bytes:
        head = _CHAIN.pack(self.ratchet_key, self.chain_key, self.counter, len(self.skipped))
        if not self.skipped:
            return head
        pack = _SKIPPED.pack
        return head + b"".join([pack(c, s) for c, s in self.skipped.items()])

    @classmethod
    def deserialize_from(cls, data: bytes, offset: int) -> tuple[ReceiverChain, int]:
        ratchet_key, chain_key, counter, n_skipped = _CHAIN.unpack_from(data, offset)
        offset += _CHAIN.size
        skipped: dict[int, bytes] = {}
        if n_skipped:
            end = offset + n_skipped * _SKIPPED.size
            if end > len(data):
                raise InvalidMessageError("corrupt skipped key list")
            skipped = dict(_SKIPPED.iter_unpack(data[offset:end]))
            offset = end
        return cls(ratchet_key, chain_key, counter, skipped), offset


@dataclass(slots=True)
class PendingPreKey:
    """What the initiator repeats in every message until the responder answers."""

    prekey_id: int | None
    signed_prekey_id: int
    base_key: bytes


@dataclass(slots=True)
class SessionState:
    """One Double Ratchet session. Mutated in place by :mod:`.ratchet`.

    ``base_key`` is the initiator's X3DH base key; it identifies the session when the same
    prekey message arrives again. ``sender_counter`` is the index of the next message we send.
    """

    local_identity: bytes
    remote_identity: bytes
    root_key: bytes = field(repr=False)
    sender_ratchet: KeyPair
    sender_chain_key: bytes = field(repr=False)
    base_key: bytes
    sender_counter: int = 0
    previous_counter: int = 0
    receiver_chains: list[ReceiverChain] = field(default_factory=list)
    pending_prekey: PendingPreKey | None = None
    remote_registration_id: int = 0
    local_registration_id: int = 0

    def find_receiver_chain(self, ratchet_key: bytes) -> ReceiverChain | None:
        for chain in self.receiver_chains:
            if chain.ratchet_key == ratchet_key:
                return chain
        return None

    def add_receiver_chain(self, chain: ReceiverChain) -> None:
        self.receiver_chains.insert(0, chain)
        del self.receiver_chains[MAX_RECEIVER_CHAINS:]

    def serialize(self) -> bytes:
        pending = self.pending_prekey
        if pending is None:
            flag, prekey_id, signed_id = 0, _NO_PREKEY, 0
        else:
            flag = 1
            prekey_id = _NO_PREKEY if pending.prekey_id is None else pending.prekey_id
            signed_id = pending.signed_prekey_id
        head = _HEADER.pack(
            self.local_identity,
            self.remote_identity,
            self.root_key,
            self.sender_ratchet.public,
            self.sender_ratchet.private,
            self.sender_chain_key,
            self.base_key,
            self.sender_counter,
            self.previous_counter,
            self.remote_registration_id,
            self.local_registration_id,
            flag,
            prekey_id,
            signed_id,
            len(self.receiver_chains),
        )
        return head + b"".join([chain.serialize() for chain in self.receiver_chains])

    @classmethod
    def deserialize(cls, data: bytes) -> SessionState:
        try:
            (
                local_identity,
                remote_identity,
                root_key,
                ratchet_public,
                ratchet_private,
                sender_chain_key,
                base_key,
                sender_counter,
                previous_counter,
                remote_reg,
                local_reg,
                flag,
                prekey_id,
                signed_id,
                n_chains,
            ) = _HEADER.unpack_from(data)
            offset = _HEADER.size
            chains = []
            for _ in range(n_chains):
                chain, offset = ReceiverChain.deserialize_from(data, offset)
                chains.append(chain)
        except struct.error as e:
            raise InvalidMessageError(f"corrupt session state: {e}") from None
        if offset != len(data):
            raise InvalidMessageError("corrupt session state: trailing bytes")
        pending = None
        if flag:
            pending = PendingPreKey(
                None if prekey_id == _NO_PREKEY else prekey_id, signed_id, base_key
            )
        return cls(
            local_identity=local_identity,
            remote_identity=remote_identity,
            root_key=root_key,
            sender_ratchet=KeyPair(ratchet_public, ratchet_private),
            sender_chain_key=sender_chain_key,
            base_key=base_key,
            sender_counter=sender_counter,
            previous_counter=previous_counter,
            receiver_chains=chains,
            pending_prekey=pending,
            remote_registration_id=remote_reg,
            local_registration_id=local_reg,
        )


class SessionRecord:
    """The current session with one device plus archived previous sessions, newest first."""

    __slots__ = ("_archived", "current")

    def __init__(
        self,
        current: SessionState | None = None,
        archived: list[SessionState | bytes] | None = None,
    ) -> None:
        self.current = current
        # Archived states are kept serialized until someone needs them.
        self._archived: list[SessionState | bytes] = archived or []

    def __repr__(self) -> str:
        return f"<SessionRecord current={self.current is not None} archived={len(self._archived)}>"

    @property
    def archived_count(self) -> int:
        return len(self._archived)

    def archived_state(self, index: int) -> SessionState:
        item = self._archived[index]
        if isinstance(item, bytes):
            item = SessionState.deserialize(item)
            self._archived[index] = item
        return item

    def archived_states(self) -> list[SessionState]:
        return [self.archived_state(i) for i in range(len(self._archived))]

    def archive_current(self) -> None:
        """Move the current state (if any) to the front of the archive."""
        if self.current is not None:
            self._archived.insert(0, self.current)
            del self._archived[MAX_ARCHIVED_STATES:]
            self.current = None

    def promote_state(self, state: SessionState) -> None:
        """Make ``state`` current, archiving the present current state."""
        self.archive_current()
        self.current = state
        # The state may still be in the archive (when promoting an archived one).
        self._archived = [s for s in self._archived if s is not state]

    def promote_archived(self, index: int) -> None:
        state = self.archived_state(index)
        del self._archived[index]
        self.archive_current()
        self.current = state

    def find_by_base_key(self, base_key: bytes) -> SessionState | None:
        """The current or archived state whose X3DH base key is ``base_key``."""
        if self.current is not None and self.current.base_key == base_key:
            return self.current
        for i in range(len(self._archived)):
            state = self.archived_state(i)
            if state.base_key == base_key:
                return state
        return None

    def serialize(self) -> bytes:
        current = b"" if self.current is None else self.current.serialize()
        parts = [bytes((RECORD_FORMAT,)), _LEN.pack(len(current)), current]
        parts.append(_COUNT.pack(len(self._archived)))
        for item in self._archived:
            blob = item if isinstance(item, bytes) else item.serialize()
            parts += (_LEN.pack(len(blob)), blob)
        return b"".join(parts)

    @classmethod
    def deserialize(cls, data: bytes) -> SessionRecord:
        if not data or data[0] != RECORD_FORMAT:
            raise InvalidMessageError("unknown session record format")
        try:
            (length,) = _LEN.unpack_from(data, 1)
            offset = 5 + length
            current = SessionState.deserialize(data[5:offset]) if length else None
            (count,) = _COUNT.unpack_from(data, offset)
            offset += 2
            archived: list[SessionState | bytes] = []
            for _ in range(count):
                (length,) = _LEN.unpack_from(data, offset)
                offset += 4
                archived.append(data[offset : offset + length])
                offset += length
        except struct.error as e:
            raise InvalidMessageError(f"corrupt session record: {e}") from None
        if offset != len(data):
            raise InvalidMessageError("corrupt session record: trailing bytes")
        return cls(current, archived)
