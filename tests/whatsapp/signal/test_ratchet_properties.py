"""Property: any delivery order across DH ratchet steps decrypts everything exactly once.

The one allowed exception is a message whose receiving chain was already evicted (only the five
newest chains are kept): it must fail with a bad MAC and change nothing.
"""

from __future__ import annotations

import asyncio

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from mautrix_whatsapp_py.whatsapp.signal import ratchet
from mautrix_whatsapp_py.whatsapp.signal.errors import DuplicateMessageError, InvalidMacError
from mautrix_whatsapp_py.whatsapp.signal.session import SessionRecord, SessionState
from mautrix_whatsapp_py.whatsapp.signal.wire import SignalMessage

from .helpers import ALICE, BOB, bundle_of, pair


def established() -> tuple[SessionState, SessionState]:
    async def build() -> tuple[SessionState, SessionState]:
        a, b, to_bob, to_alice = await pair()
        await to_bob.process_bundle(bundle_of(b))
        await to_alice.decrypt("pkmsg", (await to_bob.encrypt(b"x")).ciphertext)
        sa = SessionRecord.deserialize(a.sessions[str(BOB)]).current
        sb = SessionRecord.deserialize(b.sessions[str(ALICE)]).current
        assert sa is not None and sb is not None
        return sa, sb

    return asyncio.run(build())


# Each step: (who acts: 0 Alice / 1 Bob, action: True send / False deliver one pending, pick)
steps = st.lists(st.tuples(st.integers(0, 1), st.booleans(), st.integers(0, 1000)), max_size=120)


@settings(max_examples=60, deadline=None)
@given(steps)
def test_any_delivery_order(schedule: list[tuple[int, bool, int]]) -> None:
    states = established()
    in_flight: list[list[tuple[bytes, bytes]]] = [[], []]  # messages waiting for party i
    seen: list[set[bytes]] = [
        {c.ratchet_key for c in states[0].receiver_chains},
        {c.ratchet_key for c in states[1].receiver_chains},
    ]
    counter = 0
    for who, send, pick in schedule:
        if send:
            counter += 1
            plaintext = f"{who}:{counter}".encode()
            in_flight[1 - who].append((ratchet.encrypt(states[who], plaintext), plaintext))
        elif in_flight[who]:
            body, plaintext = in_flight[who].pop(pick % len(in_flight[who]))
            deliver(states[who], seen[who], body, plaintext)
    for who in (0, 1):
        for body, plaintext in in_flight[who]:
            deliver(states[who], seen[who], body, plaintext)


def deliver(state: SessionState, seen: set[bytes], body: bytes, plaintext: bytes) -> None:
    message = SignalMessage.parse(body)
    if message.ratchet_key in seen and state.find_receiver_chain(message.ratchet_key) is None:
        before = state.serialize()
        with pytest.raises(InvalidMacError):
            ratchet.decrypt(state, message)
        assert state.serialize() == before
        return
    assert ratchet.decrypt(state, message) == plaintext
    seen.update(chain.ratchet_key for chain in state.receiver_chains)
    with pytest.raises(DuplicateMessageError):
        ratchet.decrypt(state, message)
