"""Group (sender key) sessions against a :class:`SignalStore`: the async layer.

:class:`GroupSessionBuilder` creates our own sender key for a group (and the distribution message
to hand to members through 1:1 sessions) and processes distribution messages from others;
:class:`GroupCipher` encrypts with our chain and decrypts others'. As with 1:1 sessions, a
failed decrypt writes nothing.
"""

from __future__ import annotations

from . import sender_key
from .address import SenderKeyName
from .errors import NoSessionError
from .lock import address_lock
from .sender_key import SenderKeyRecord
from .store import SignalStore
from .wire import SenderKeyDistributionMessage


async def _load(store: SignalStore, name: SenderKeyName) -> SenderKeyRecord | None:
    data = await store.load_sender_key(name)
    return None if data is None else SenderKeyRecord.deserialize(data)


class GroupSessionBuilder:
    """Creates and processes sender key distribution messages."""

    def __init__(self, store: SignalStore) -> None:
        self.store = store

    async def create(self, name: SenderKeyName) -> SenderKeyDistributionMessage:
        """Our distribution message for ``name`` (our own address in a group), creating the
        sender key on first use."""
        async with address_lock(self.store, str(name)):
            record = await _load(self.store, name)
            state = None if record is None else record.get_state()
            if record is None or state is None or state.signing_private is None:
                record = SenderKeyRecord()
                state = sender_key.new_own_state()
                record.set_own_state(state)
                await self.store.store_sender_key(name, record.serialize())
            return sender_key.distribution_message(state)

    async def process(self, name: SenderKeyName, message: SenderKeyDistributionMessage) -> bool:
        """Store a member's sender key; returns False if we already had this key id."""
        state = sender_key.state_from_distribution(message)
        async with address_lock(self.store, str(name)):
            record = await _load(self.store, name) or SenderKeyRecord()
            added = record.add_state(state)
            if added:
                await self.store.store_sender_key(name, record.serialize())
            return added


class GroupCipher:
    """Encrypts with our sender key in a group, or decrypts one member's messages."""

    def __init__(self, store: SignalStore, name: SenderKeyName) -> None:
        self.store = store
        self.name = name
        self._key = str(name)

    def __repr__(self) -> str:
        return f"<GroupCipher {self._key}>"

    async def encrypt(self, plaintext: bytes) -> bytes:
        async with address_lock(self.store, self._key):
            record = await _load(self.store, self.name)
            state = None if record is None else record.get_state()
            if record is None or state is None:
                raise NoSessionError(f"no sender key for {self._key}")
            ciphertext = sender_key.encrypt(state, plaintext)
            await self.store.store_sender_key(self.name, record.serialize())
            return ciphertext

    async def decrypt(self, ciphertext: bytes) -> bytes:
        async with address_lock(self.store, self._key):
            record = await _load(self.store, self.name)
            if record is None:
                raise NoSessionError(f"no sender key for {self._key}")
            plaintext = sender_key.decrypt(record, ciphertext)
            await self.store.store_sender_key(self.name, record.serialize())
            return plaintext
