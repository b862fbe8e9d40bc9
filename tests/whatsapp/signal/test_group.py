"""Sender keys between our own devices: distribution, out-of-order, replays and bounds."""

from __future__ import annotations

import random

import pytest

from mautrix_whatsapp_py.whatsapp.signal import sender_key
from mautrix_whatsapp_py.whatsapp.signal.address import ProtocolAddress, SenderKeyName
from mautrix_whatsapp_py.whatsapp.signal.errors import (
    DuplicateMessageError,
    InvalidSignatureError,
    NoSessionError,
    TooFarInFutureError,
)
from mautrix_whatsapp_py.whatsapp.signal.group import GroupCipher, GroupSessionBuilder
from mautrix_whatsapp_py.whatsapp.signal.kdf import chain_step
from mautrix_whatsapp_py.whatsapp.signal.memory_store import MemorySignalStore
from mautrix_whatsapp_py.whatsapp.signal.sender_key import SenderKeyRecord
from mautrix_whatsapp_py.whatsapp.signal.wire import SenderKeyDistributionMessage

NAME = SenderKeyName("123@g.us", ProtocolAddress("alice", 1))


async def setup() -> tuple[MemorySignalStore, GroupCipher, GroupCipher]:
    alice, bob = MemorySignalStore(), MemorySignalStore()
    skdm = await GroupSessionBuilder(alice).create(NAME)
    parsed = SenderKeyDistributionMessage.parse(skdm.serialize())
    assert parsed == skdm
    assert await GroupSessionBuilder(bob).process(NAME, parsed)
    assert not await GroupSessionBuilder(bob).process(NAME, parsed)  # repeat is ignored
    return bob, GroupCipher(alice, NAME), GroupCipher(bob, NAME)


async def test_out_of_order_and_replay() -> None:
    bob, sender, receiver = await setup()
    bodies = [await sender.encrypt(f"m{i}".encode()) for i in range(100)]
    order = list(range(100))
    random.Random(1).shuffle(order)
    for i in order:
        assert await receiver.decrypt(bodies[i]) == f"m{i}".encode()
    before = bob.snapshot()
    with pytest.raises(DuplicateMessageError):
        await receiver.decrypt(bodies[42])
    tampered = bytearray(bodies[7])
    tampered[-70] ^= 1  # inside the ciphertext, covered by the signature
    with pytest.raises(InvalidSignatureError):
        await receiver.decrypt(bytes(tampered))
    assert bob.snapshot() == before


async def test_too_far_and_unknown() -> None:
    bob, sender, receiver = await setup()
    record = SenderKeyRecord.deserialize(sender.store.sender_keys[str(NAME)])  # type: ignore[attr-defined]
    state = record.get_state()
    assert state is not None
    state_far = sender_key.SenderKeyState(
        state.key_id, state.iteration, state.chain_key, state.signing_public, state.signing_private
    )
    for _ in range(sender_key.MAX_JUMP + 1):
        state_far.chain_key = chain_step(state_far.chain_key)[1]
        state_far.iteration += 1
    far = sender_key.encrypt(state_far, b"far")
    before = bob.snapshot()
    with pytest.raises(TooFarInFutureError):
        await receiver.decrypt(far)
    assert bob.snapshot() == before
    with pytest.raises(NoSessionError):
        await GroupCipher(bob, SenderKeyName("other@g.us", NAME.sender)).decrypt(far)


def test_record_round_trip_and_bounds() -> None:
    record = SenderKeyRecord()
    for key_id in range(7):
        own = sender_key.new_own_state()
        own.key_id = key_id
        record.add_state(own)
    assert [s.key_id for s in record.states] == [6, 5, 4, 3, 2]
    again = SenderKeyRecord.deserialize(record.serialize())
    assert [s.serialize() for s in again.states] == [s.serialize() for s in record.states]
    text = repr(record.states[0])  # no secret key material in reprs
    assert repr(record.states[0].chain_key) not in text
    assert repr(record.states[0].signing_private) not in text
