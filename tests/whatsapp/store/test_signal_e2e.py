"""End to end: two parties whose Signal stores are SQL stores on different backends.

Alice and Bob each have their own database (one SQLite, one PostgreSQL, both ways round), run
the real X3DH / Double Ratchet / sender key code through :class:`SessionCipher` and
:class:`GroupCipher`, and every failed decrypt must leave the receiver's tables byte-identical.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from mautrix_whatsapp_py.whatsapp.signal.address import ProtocolAddress, SenderKeyName
from mautrix_whatsapp_py.whatsapp.signal.cipher import SessionCipher
from mautrix_whatsapp_py.whatsapp.signal.errors import (
    DuplicateMessageError,
    InvalidKeyIdError,
    InvalidMacError,
    SignalError,
)
from mautrix_whatsapp_py.whatsapp.signal.group import GroupCipher, GroupSessionBuilder
from mautrix_whatsapp_py.whatsapp.signal.keys import PreKeyBundle, generate_signed_prekey
from mautrix_whatsapp_py.whatsapp.signal.wire import SenderKeyDistributionMessage
from mautrix_whatsapp_py.whatsapp.store.signal_store import SQLSignalStore
from mautrix_whatsapp_py.whatsapp.store.sqldb import Database
from mautrix_whatsapp_py.whatsapp.store.upgrade import upgrade_table

from ...conftest import open_test_db
from .conftest import dump

ALICE = ProtocolAddress("111", 0)
BOB = ProtocolAddress("222", 0)
CAROL = ProtocolAddress("333", 0)
GROUP = "123-456@g.us"


@pytest.fixture(params=[("sqlite", "postgres"), ("postgres", "sqlite")], ids=["A-sqlite", "A-pg"])
async def parties(
    request: pytest.FixtureRequest, tmp_path: Path, postgres_test_db: str
) -> AsyncIterator[tuple[SQLSignalStore, SQLSignalStore, SQLSignalStore]]:
    """Stores of Alice, Bob and Carol; Alice and Carol share a database (as two accounts)."""
    alice_backend, bob_backend = request.param
    dbs: list[Database] = []
    try:
        for backend in (alice_backend, bob_backend):
            db = await open_test_db(backend, tmp_path, postgres_test_db)
            dbs.append(db)
            await upgrade_table.upgrade(db)
        alice = await SQLSignalStore.create(dbs[0], "111:0@s.whatsapp.net")
        bob = await SQLSignalStore.create(dbs[1], "222:0@s.whatsapp.net")
        carol = await SQLSignalStore.create(dbs[0], "333:0@s.whatsapp.net")
        yield alice, bob, carol
    finally:
        for db in dbs:
            await db.stop()


async def bundle_of(store: SQLSignalStore, device_id: int) -> PreKeyBundle:
    identity = await store.get_identity_key_pair()
    signed = generate_signed_prekey(identity, 1, 1700000000)
    await store.store_signed_prekey(signed)
    [prekey] = await store.generate_prekeys(1)
    return PreKeyBundle(
        registration_id=await store.get_local_registration_id(),
        device_id=device_id,
        identity_key=identity.public,
        signed_prekey_id=signed.key_id,
        signed_prekey=signed.key_pair.public,
        signed_prekey_signature=signed.signature,
        prekey_id=prekey.key_id,
        prekey=prekey.key_pair.public,
    )


def flip_last_byte(data: bytes) -> bytes:
    return data[:-1] + bytes([data[-1] ^ 0x01])


async def test_session_between_sql_stores(
    parties: tuple[SQLSignalStore, SQLSignalStore, SQLSignalStore],
) -> None:
    alice, bob, _ = parties
    bundle = await bundle_of(bob, BOB.device_id)
    to_bob = SessionCipher(alice, BOB)
    to_alice = SessionCipher(bob, ALICE)
    assert await to_bob.process_bundle(bundle) is False

    first = await to_bob.encrypt(b"hello bob")
    assert first.type == "pkmsg"
    result = await to_alice.decrypt(first.type, first.ciphertext)
    assert result.plaintext == b"hello bob"
    assert result.used_prekey_id == bundle.prekey_id
    assert bundle.prekey_id is not None and await bob.load_prekey(bundle.prekey_id) is None
    alice_identity = await alice.get_identity_key_pair()
    assert await bob.get_identity(ALICE) == alice_identity.public

    # Replaying the prekey message changes nothing (the prekey is gone, the key was used).
    before = await dump(bob.db)
    with pytest.raises(DuplicateMessageError):
        await to_alice.decrypt(first.type, first.ciphertext)
    assert await dump(bob.db) == before

    reply = await to_alice.encrypt(b"hi alice")
    assert reply.type == "msg"
    assert (await to_bob.decrypt(reply.type, reply.ciphertext)).plaintext == b"hi alice"

    # A few ratchet turns, including messages delivered out of order.
    for turn in range(3):
        batch = [await to_bob.encrypt(f"a{turn}-{i}".encode()) for i in range(3)]
        for i in (2, 0, 1):
            decrypted = await to_alice.decrypt(batch[i].type, batch[i].ciphertext)
            assert decrypted.plaintext == f"a{turn}-{i}".encode()
        back = await to_alice.encrypt(f"b{turn}".encode())
        assert (await to_bob.decrypt(back.type, back.ciphertext)).plaintext == f"b{turn}".encode()

    # A corrupted MAC is rejected and leaves Bob's SQL state byte-identical ...
    genuine = await to_bob.encrypt(b"the real one")
    before = await dump(bob.db)
    with pytest.raises(InvalidMacError):
        await to_alice.decrypt(genuine.type, flip_last_byte(genuine.ciphertext))
    assert await dump(bob.db) == before
    # ... so the genuine message still decrypts afterwards.
    assert (await to_alice.decrypt(genuine.type, genuine.ciphertext)).plaintext == b"the real one"


async def test_failed_prekey_messages_change_nothing(
    parties: tuple[SQLSignalStore, SQLSignalStore, SQLSignalStore],
) -> None:
    _, bob, carol = parties
    bundle = await bundle_of(bob, BOB.device_id)
    to_bob = SessionCipher(carol, BOB)
    await to_bob.process_bundle(bundle)
    first = await to_bob.encrypt(b"from carol")
    to_carol = SessionCipher(bob, CAROL)

    before = await dump(bob.db)
    with pytest.raises(SignalError):
        await to_carol.decrypt(first.type, flip_last_byte(first.ciphertext))
    assert await dump(bob.db) == before  # prekey not consumed, no session, no identity

    # The prekey is consumed by a genuine message only; a missing prekey is a clean error.
    assert (await to_carol.decrypt(first.type, first.ciphertext)).plaintext == b"from carol"
    assert bundle.prekey_id is not None
    await bob.delete_session(CAROL)  # as if Bob lost the session: the pkmsg must not rebuild it
    before = await dump(bob.db)
    with pytest.raises(InvalidKeyIdError):
        await to_carol.decrypt(first.type, first.ciphertext)
    assert await dump(bob.db) == before


async def test_group_messages_between_sql_stores(
    parties: tuple[SQLSignalStore, SQLSignalStore, SQLSignalStore],
) -> None:
    alice, bob, _ = parties
    name = SenderKeyName(GROUP, ALICE)
    distribution = await GroupSessionBuilder(alice).create(name)
    received = SenderKeyDistributionMessage.parse(distribution.serialize())
    assert await GroupSessionBuilder(bob).process(name, received) is True

    sending = GroupCipher(alice, name)
    receiving = GroupCipher(bob, name)
    messages = [await sending.encrypt(f"group {i}".encode()) for i in range(4)]
    assert await receiving.decrypt(messages[0]) == b"group 0"
    assert await receiving.decrypt(messages[3]) == b"group 3"

    before = await dump(bob.db)
    with pytest.raises(SignalError):
        await receiving.decrypt(flip_last_byte(messages[1]))
    assert await dump(bob.db) == before
    assert await receiving.decrypt(messages[1]) == b"group 1"
    assert await receiving.decrypt(messages[2]) == b"group 2"
