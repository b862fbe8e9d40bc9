"""Session record serialization, archiving bounds and the skipped-key bound."""

from __future__ import annotations

import pytest

from mautrix_whatsapp_py.whatsapp.signal import ratchet
from mautrix_whatsapp_py.whatsapp.signal.errors import InvalidMessageError
from mautrix_whatsapp_py.whatsapp.signal.session import (
    MAX_ARCHIVED_STATES,
    MAX_RECEIVER_CHAINS,
    MAX_SKIPPED_KEYS,
    SessionRecord,
)
from mautrix_whatsapp_py.whatsapp.signal.wire import SignalMessage

from .helpers import ALICE, BOB, bundle_of, pair


async def established() -> tuple[SessionRecord, SessionRecord]:
    a, b, to_bob, to_alice = await pair()
    await to_bob.process_bundle(bundle_of(b))
    await to_alice.decrypt("pkmsg", (await to_bob.encrypt(b"x")).ciphertext)
    return (
        SessionRecord.deserialize(a.sessions[str(BOB)]),
        SessionRecord.deserialize(b.sessions[str(ALICE)]),
    )


async def test_record_round_trip_and_archive_bound() -> None:
    alice, _bob = await established()
    assert alice.current is not None and alice.current.pending_prekey is not None
    data = alice.serialize()
    assert SessionRecord.deserialize(data).serialize() == data
    state = alice.current
    for _ in range(MAX_ARCHIVED_STATES + 3):
        alice.promote_state(SessionRecord.deserialize(data).current)  # type: ignore[arg-type]
    assert alice.archived_count == MAX_ARCHIVED_STATES
    assert alice.find_by_base_key(state.base_key) is not None
    again = SessionRecord.deserialize(alice.serialize())
    assert again.archived_count == MAX_ARCHIVED_STATES
    assert again.archived_state(5).serialize() == alice.archived_state(5).serialize()


@pytest.mark.parametrize("cut", [1, 10, 200])
async def test_corrupt_records_rejected(cut: int) -> None:
    alice, _ = await established()
    data = alice.serialize()
    with pytest.raises(InvalidMessageError):
        SessionRecord.deserialize(data[:-cut])
    with pytest.raises(InvalidMessageError):
        SessionRecord.deserialize(b"\x09" + data[1:])


async def test_skipped_keys_and_receiver_chains_are_bounded() -> None:
    alice, bob = await established()
    a, b = alice.current, bob.current
    assert a is not None and b is not None
    # Alice sends 2,500 messages in bursts; Bob only receives the last of each burst.
    for _ in range(3):
        last = b""
        for _ in range(900):
            last = ratchet.encrypt(a, b"m")
        ratchet.decrypt(b, SignalMessage.parse(last))
    assert sum(len(c.skipped) for c in b.receiver_chains) <= MAX_SKIPPED_KEYS
    # many DH ratchet steps: each reply from Bob then Alice adds a receiver chain
    for _ in range(MAX_RECEIVER_CHAINS + 3):
        ratchet.decrypt(a, SignalMessage.parse(ratchet.encrypt(b, b"r")))
        ratchet.decrypt(b, SignalMessage.parse(ratchet.encrypt(a, b"s")))
    assert len(a.receiver_chains) == len(b.receiver_chains) == MAX_RECEIVER_CHAINS
