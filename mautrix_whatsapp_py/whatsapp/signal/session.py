"""Session state and session records, and their versioned byte serialization.

A :class:`SessionState` is one Double Ratchet session with one remote device. A
:class:`SessionRecord` holds the current state plus up to :data:`MAX_ARCHIVED_STATES` archived
(previous) ones, newest first, so that late messages for a replaced session still decrypt, as
libsignal keeps them (libsignal-node: 40 closed sessions).

Serialized form (opaque to stores): one format byte :data:`RECORD_FORMAT` followed by protobuf
fields: ``1`` the current state, ``2`` (repeated) archived states, each a nested message of the
schema in :meth:`SessionState.serialize`. Archived states stay as bytes until touched, so
loading and saving a record with many archived states costs almost nothing.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass, field

from .errors import InvalidMessageError
from .keys import KeyPair
from .wire import field_bytes, field_int, iter_fields

RECORD_FORMAT = 1
MAX_ARCHIVED_STATES = 40
MAX_RECEIVER_CHAINS = 5
MAX_SKIPPED_KEYS = 2000  # per receiver chain; the oldest are dropped beyond this
_SKIPPED = struct.Struct(">I32s")


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
        parts = [
            field_bytes(1, self.ratchet_key),
            field_bytes(2, self.chain_key),
            field_int(3, self.counter),
        ]
        if self.skipped:
            pack = _SKIPPED.pack
            parts.append(field_bytes(4, b"".join(pack(c, s) for c, s in self.skipped.items())))
        return b"".join(parts)

    @classmethod
    def deserialize(cls, data: bytes) -> ReceiverChain:
        ratchet_key = chain_key = b""
        counter = 0
        skipped: dict[int, bytes] = {}
        for number, value in iter_fields(data):
            if number == 1 and isinstance(value, bytes):
                ratchet_key = value
            elif number == 2 and isinstance(value, bytes):
                chain_key = value
            elif number == 3 and isinstance(value, int):
                counter = value
            elif number == 4 and isinstance(value, bytes):
                if len(value) % _SKIPPED.size:
                    raise InvalidMessageError("corrupt skipped key list")
                skipped = dict(_SKIPPED.iter_unpack(value))
        return cls(ratchet_key, chain_key, counter, skipped)


@dataclass(slots=True)
class PendingPreKey:
    """What the initiator repeats in every message until the responder answers."""

    prekey_id: int | None
    signed_prekey_id: int
    base_key: bytes

    def serialize(self) -> bytes:
        parts = [] if self.prekey_id is None else [field_int(1, self.prekey_id)]
        parts += (field_int(2, self.signed_prekey_id), field_bytes(3, self.base_key))
        return b"".join(parts)

    @classmethod
    def deserialize(cls, data: bytes) -> PendingPreKey:
        prekey_id: int | None = None
        signed_prekey_id = 0
        base_key = b""
        for number, value in iter_fields(data):
            if number == 1 and isinstance(value, int):
                prekey_id = value
            elif number == 2 and isinstance(value, int):
                signed_prekey_id = value
            elif number == 3 and isinstance(value, bytes):
                base_key = value
        return cls(prekey_id, signed_prekey_id, base_key)


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
        parts = [
            field_bytes(1, self.local_identity),
            field_bytes(2, self.remote_identity),
            field_bytes(3, self.root_key),
            field_bytes(4, self.sender_ratchet.public),
            field_bytes(5, self.sender_ratchet.private),
            field_bytes(6, self.sender_chain_key),
            field_int(7, self.sender_counter),
            field_int(8, self.previous_counter),
            field_bytes(9, self.base_key),
            field_int(10, self.remote_registration_id),
            field_int(11, self.local_registration_id),
        ]
        parts += [field_bytes(12, chain.serialize()) for chain in self.receiver_chains]
        if self.pending_prekey is not None:
            parts.append(field_bytes(13, self.pending_prekey.serialize()))
        return b"".join(parts)

    @classmethod
    def deserialize(cls, data: bytes) -> SessionState:
        f: dict[int, int | bytes] = {}
        chains: list[ReceiverChain] = []
        pending: PendingPreKey | None = None
        for number, value in iter_fields(data):
            if number == 12 and isinstance(value, bytes):
                chains.append(ReceiverChain.deserialize(value))
            elif number == 13 and isinstance(value, bytes):
                pending = PendingPreKey.deserialize(value)
            else:
                f[number] = value
        try:
            return cls(
                local_identity=_b(f[1]),
                remote_identity=_b(f[2]),
                root_key=_b(f[3]),
                sender_ratchet=KeyPair(_b(f[4]), _b(f[5])),
                sender_chain_key=_b(f[6]),
                sender_counter=_i(f[7]),
                previous_counter=_i(f[8]),
                base_key=_b(f[9]),
                remote_registration_id=_i(f[10]),
                local_registration_id=_i(f[11]),
                receiver_chains=chains,
                pending_prekey=pending,
            )
        except (KeyError, TypeError) as e:
            raise InvalidMessageError(f"corrupt session state: {e}") from None


def _b(value: int | bytes) -> bytes:
    if not isinstance(value, bytes):
        raise TypeError("expected bytes")
    return value


def _i(value: int | bytes) -> int:
    if not isinstance(value, int):
        raise TypeError("expected int")
    return value


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
        parts = [bytes((RECORD_FORMAT,))]
        if self.current is not None:
            parts.append(field_bytes(1, self.current.serialize()))
        for item in self._archived:
            parts.append(field_bytes(2, item if isinstance(item, bytes) else item.serialize()))
        return b"".join(parts)

    @classmethod
    def deserialize(cls, data: bytes) -> SessionRecord:
        if not data or data[0] != RECORD_FORMAT:
            raise InvalidMessageError("unknown session record format")
        current: SessionState | None = None
        archived: list[SessionState | bytes] = []
        for number, value in iter_fields(data[1:]):
            if number == 1 and isinstance(value, bytes):
                current = SessionState.deserialize(value)
            elif number == 2 and isinstance(value, bytes):
                archived.append(value)
        return cls(current, archived)
