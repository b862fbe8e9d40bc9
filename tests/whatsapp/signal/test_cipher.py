"""1:1 sessions between two of our own devices: X3DH, ratchet, failures leave no trace."""

from __future__ import annotations

import dataclasses
import random

import pytest

from mautrix_whatsapp_py.whatsapp.signal.cipher import SessionCipher
from mautrix_whatsapp_py.whatsapp.signal.errors import (
    DuplicateMessageError,
    InvalidKeyIdError,
    InvalidMacError,
    InvalidSignatureError,
    NoSessionError,
    TooFarInFutureError,
)
from mautrix_whatsapp_py.whatsapp.signal.keys import KeyPair
from mautrix_whatsapp_py.whatsapp.signal.session import SessionRecord

from .helpers import ALICE, BOB, bundle_of, make_device, pair


async def test_prekey_then_normal_messages() -> None:
    _a, b, to_bob, to_alice = await pair()
    assert await to_bob.process_bundle(bundle_of(b)) is False
    first = await to_bob.encrypt(b"hello")
    second = await to_bob.encrypt(b"again")
    assert first.type == second.type == "pkmsg"
    res = await to_alice.decrypt("pkmsg", first.ciphertext)
    assert res.plaintext == b"hello" and res.used_prekey_id == 1 and not res.identity_changed
    assert 1 not in b.prekeys
    # the second pkmsg reuses the session built by the first
    assert (await to_alice.decrypt("pkmsg", second.ciphertext)).plaintext == b"again"
    reply = await to_alice.encrypt(b"hi")
    assert reply.type == "msg"
    assert await to_bob.decrypt_message(reply.ciphertext) == b"hi"
    assert (await to_bob.encrypt(b"x")).type == "msg"


async def test_session_without_one_time_prekey() -> None:
    _a, b, to_bob, to_alice = await pair()
    await to_bob.process_bundle(bundle_of(b, prekey_id=None))
    msg = await to_bob.encrypt(b"no opk")
    res = await to_alice.decrypt("pkmsg", msg.ciphertext)
    assert res.plaintext == b"no opk" and res.used_prekey_id is None
    assert len(b.prekeys) == 5


async def test_long_conversation_out_of_order() -> None:
    _a, b, to_bob, to_alice = await pair()
    await to_bob.process_bundle(bundle_of(b))
    m = await to_bob.encrypt(b"start")
    await to_alice.decrypt("pkmsg", m.ciphertext)
    rng = random.Random(7)
    for round_ in range(20):
        sender, receiver = (to_bob, to_alice) if round_ % 2 else (to_alice, to_bob)
        count = rng.randint(1, 9)
        batch = [(i, await sender.encrypt(f"{round_}-{i}".encode())) for i in range(count)]
        rng.shuffle(batch)
        for i, enc in batch:
            assert enc.type == "msg"
            assert await receiver.decrypt_message(enc.ciphertext) == f"{round_}-{i}".encode()


async def test_failures_change_nothing() -> None:
    a, b, to_bob, to_alice = await pair()
    await to_bob.process_bundle(bundle_of(b))
    pk = await to_bob.encrypt(b"one")
    await to_alice.decrypt("pkmsg", pk.ciphertext)
    await to_bob.decrypt("msg", (await to_alice.encrypt(b"ack")).ciphertext)
    msg = await to_bob.encrypt(b"two")
    assert msg.type == "msg"
    await to_alice.decrypt("msg", msg.ciphertext)

    before = b.snapshot()
    with pytest.raises(DuplicateMessageError):
        await to_alice.decrypt("pkmsg", pk.ciphertext)
    with pytest.raises(DuplicateMessageError):
        await to_alice.decrypt("msg", msg.ciphertext)
    fresh = await to_bob.encrypt(b"three")
    corrupted = bytearray(fresh.ciphertext)
    corrupted[-1] ^= 1
    with pytest.raises(InvalidMacError):
        await to_alice.decrypt("msg", bytes(corrupted))
    assert b.snapshot() == before
    assert (await to_alice.decrypt("msg", fresh.ciphertext)).plaintext == b"three"

    # no session at all
    stranger = SessionCipher(b, BOB)
    with pytest.raises(NoSessionError):
        await stranger.decrypt("msg", fresh.ciphertext)
    with pytest.raises(NoSessionError):
        await stranger.encrypt(b"x")
    # unknown one-time prekey
    c = await make_device()
    to_b_from_c = SessionCipher(c, BOB)
    bundle = bundle_of(b, prekey_id=2)
    await b.remove_prekey(2)
    await to_b_from_c.process_bundle(bundle)
    enc = await to_b_from_c.encrypt(b"late")
    before = b.snapshot()
    with pytest.raises(InvalidKeyIdError):
        await SessionCipher(b, ALICE.__class__("carol", 0)).decrypt("pkmsg", enc.ciphertext)
    assert b.snapshot() == before
    del a


async def test_too_far_in_future() -> None:
    _a, b, to_bob, to_alice = await pair()
    await to_bob.process_bundle(bundle_of(b))
    await to_alice.decrypt("pkmsg", (await to_bob.encrypt(b"0")).ciphertext)
    await to_bob.decrypt("msg", (await to_alice.encrypt(b"ack")).ciphertext)
    for _ in range(2001):
        await to_bob.encrypt(b"skip")
    far = await to_bob.encrypt(b"far")
    before = b.snapshot()
    with pytest.raises(TooFarInFutureError):
        await to_alice.decrypt("msg", far.ciphertext)
    assert b.snapshot() == before


async def test_bad_bundle_signature() -> None:
    _a, b, to_bob, _to_alice = await pair()
    bundle = bundle_of(b)
    forged = dataclasses.replace(bundle, signed_prekey=KeyPair.generate().public)
    with pytest.raises(InvalidSignatureError):
        await to_bob.process_bundle(forged)


async def test_archived_session_decrypts_late_message_and_identity_change() -> None:
    a, b, to_bob, to_alice = await pair()
    await to_bob.process_bundle(bundle_of(b))
    await to_alice.decrypt("pkmsg", (await to_bob.encrypt(b"s1")).ciphertext)
    await to_bob.decrypt("msg", (await to_alice.encrypt(b"ack")).ciphertext)
    late = await to_bob.encrypt(b"late on s1")
    # Alice starts over with a new session (e.g. after a reinstall keeps the identity)
    await to_bob.process_bundle(bundle_of(b, prekey_id=2))
    res = await to_alice.decrypt("pkmsg", (await to_bob.encrypt(b"s2")).ciphertext)
    assert res.plaintext == b"s2" and not res.identity_changed
    record = SessionRecord.deserialize(b.sessions[str(ALICE)])
    assert record.archived_count == 1
    assert (await to_alice.decrypt("msg", late.ciphertext)).plaintext == b"late on s1"

    # Alice reinstalls: new identity, same address -> accepted and reported
    a2 = await make_device()
    to_bob2 = SessionCipher(a2, BOB)
    await to_bob2.process_bundle(bundle_of(b, prekey_id=3))
    res = await to_alice.decrypt("pkmsg", (await to_bob2.encrypt(b"new me")).ciphertext)
    assert res.plaintext == b"new me" and res.identity_changed
    assert b.identities[str(ALICE)] == a2.identity.public
    # and Bob's identity change is reported on the building side too
    b2 = await make_device()
    assert await SessionCipher(a2, BOB).process_bundle(bundle_of(b2)) is True
    del a
