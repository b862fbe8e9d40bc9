"""The SQL Signal store: interface contract, account scoping, bulk operations, atomicity."""

from __future__ import annotations

import pytest

from mautrix_whatsapp_py.whatsapp.signal.address import ProtocolAddress, SenderKeyName
from mautrix_whatsapp_py.whatsapp.signal.keys import (
    KeyPair,
    PreKeyRecord,
    generate_prekeys,
    generate_signed_prekey,
)
from mautrix_whatsapp_py.whatsapp.store.signal_store import (
    MAX_PREKEY_ID,
    AccountExistsError,
    SQLSignalStore,
)
from mautrix_whatsapp_py.whatsapp.store.sqldb import Database

from ..signal.store_conformance import run_store_conformance
from .conftest import dump

ALICE = ProtocolAddress("111", 0)
ALICE2 = ProtocolAddress("111", 5)
BOB = ProtocolAddress("222", 0)


class Boom(Exception):
    pass


async def test_conformance(signal_store: SQLSignalStore) -> None:
    await run_store_conformance(signal_store)


async def test_account_lifecycle(upgraded_db: Database) -> None:
    identity = KeyPair.generate()
    store = await SQLSignalStore.create(upgraded_db, "a@s.whatsapp.net", identity, 1234)
    with pytest.raises(AccountExistsError):
        await SQLSignalStore.create(upgraded_db, "a@s.whatsapp.net")
    assert await SQLSignalStore.load(upgraded_db, "missing@s.whatsapp.net") is None
    loaded = await SQLSignalStore.load(upgraded_db, "a@s.whatsapp.net")
    assert loaded is not None
    assert await loaded.get_identity_key_pair() == identity
    assert await loaded.get_local_registration_id() == 1234
    await SQLSignalStore.create(upgraded_db, "b@s.whatsapp.net")
    assert await SQLSignalStore.list_accounts(upgraded_db) == [
        "a@s.whatsapp.net",
        "b@s.whatsapp.net",
    ]
    await store.delete_account()
    assert await SQLSignalStore.list_accounts(upgraded_db) == ["b@s.whatsapp.net"]


async def fill(store: SQLSignalStore, tag: bytes) -> None:
    await store.save_identity(ALICE, KeyPair.generate().public)
    await store.store_prekey(generate_prekeys(1, 1)[0])
    await store.store_signed_prekey(
        generate_signed_prekey(await store.get_identity_key_pair(), 1, 99)
    )
    await store.store_session(ALICE, b"\x01session-" + tag)
    await store.store_session(ALICE2, b"\x01session2-" + tag)
    await store.store_sender_key(SenderKeyName("g@g.us", ALICE), b"\x01sk-" + tag)


async def test_scoped_by_account(upgraded_db: Database) -> None:
    a = await SQLSignalStore.create(upgraded_db, "a@s.whatsapp.net")
    b = await SQLSignalStore.create(upgraded_db, "b@s.whatsapp.net")
    await fill(a, b"a")
    assert await b.load_session(ALICE) is None
    assert await b.get_identity(ALICE) is None
    assert await b.load_prekey(1) is None
    assert await b.load_signed_prekey(1) is None
    assert await b.load_sender_key(SenderKeyName("g@g.us", ALICE)) is None
    await fill(b, b"b")
    assert await a.load_session(ALICE) == b"\x01session-a"
    assert await b.load_session(ALICE) == b"\x01session-b"
    assert await a.get_identity(ALICE) != await b.get_identity(ALICE)

    await b.delete_all_sessions("111")
    await b.remove_prekey(1)
    await b.delete_identity(ALICE)
    assert await a.load_session(ALICE2) == b"\x01session2-a"
    assert await a.load_prekey(1) is not None
    assert await a.get_identity(ALICE) is not None

    # Logout of b removes every row of b, through the foreign key cascade, and nothing of a.
    before_a = {
        t: [r for r in rows if "a@s.whatsapp.net" in r]
        for t, rows in (await dump(upgraded_db)).items()
    }
    await b.delete_account()
    after = await dump(upgraded_db)
    assert not any("b@s.whatsapp.net" in row for rows in after.values() for row in rows)
    assert {
        t: [r for r in rows if "a@s.whatsapp.net" in r] for t, rows in after.items()
    } == before_a
    assert await a.load_sender_key(SenderKeyName("g@g.us", ALICE)) == b"\x01sk-a"


async def test_prekey_generation_and_upload_bookkeeping(signal_store: SQLSignalStore) -> None:
    store = signal_store
    assert await store.next_prekey_id() == 1
    first = await store.generate_prekeys(5)
    assert [p.key_id for p in first] == [1, 2, 3, 4, 5]
    assert await store.count_prekeys() == 5
    assert await store.count_prekeys(uploaded=False) == 5
    await store.mark_prekeys_uploaded([1, 2, 3])
    assert await store.count_prekeys(uploaded=True) == 3
    # get_or_generate returns the 2 unuploaded ones plus 3 new ones
    batch = await store.get_or_generate_prekeys(5)
    assert [p.key_id for p in batch] == [4, 5, 6, 7, 8]
    assert batch[:2] == first[3:]
    await store.mark_prekeys_uploaded(p.key_id for p in batch)
    assert await store.count_prekeys(uploaded=False) == 0
    # consuming the newest prekey must not make its id available again
    await store.remove_prekey(8)
    reloaded = await SQLSignalStore.load(store.db, store.our_jid)
    assert reloaded is not None
    assert await reloaded.next_prekey_id() == 9
    assert [p.key_id for p in await reloaded.generate_prekeys(1)] == [9]
    assert await store.generate_prekeys(0) == []


async def test_prekey_ids_wrap(signal_store: SQLSignalStore) -> None:
    await signal_store.db.execute(
        "UPDATE whatsapp_device SET next_prekey_id = $1 WHERE jid = $2",
        MAX_PREKEY_ID - 1,
        signal_store.our_jid,
    )
    ids = [p.key_id for p in await signal_store.generate_prekeys(4)]
    assert ids == [MAX_PREKEY_ID - 1, MAX_PREKEY_ID, 1, 2]
    assert await signal_store.next_prekey_id() == 3


async def test_bulk_sessions_and_identities(signal_store: SQLSignalStore) -> None:
    store = signal_store
    # more names than one IN chunk, to exercise chunking
    addresses = [ProtocolAddress(f"{1000 + i}", i % 3) for i in range(1203)]
    await store.store_sessions({a: b"\x01" + str(a).encode() for a in addresses})
    wanted = [*addresses[::2], ProtocolAddress("999999", 0), ProtocolAddress("1000", 7)]
    loaded = await store.load_sessions(iter(wanted))
    assert loaded == {a: b"\x01" + str(a).encode() for a in addresses[::2]}
    await store.store_session(ProtocolAddress("1000", 9), b"\x01extra")
    per_user = await store.load_user_sessions(["1000", "1001"])
    assert set(per_user) == {addresses[0], ProtocolAddress("1000", 9), addresses[1]}
    assert len(await store.list_session_addresses()) == 1204

    keys = {a: KeyPair.generate().public for a in addresses[:600]}
    for address, key in keys.items():
        await store.save_identity(address, key)
    assert await store.get_identities(addresses) == keys
    await store.delete_all_identities(addresses[0].name)
    assert await store.get_identity(addresses[0]) is None


async def test_signed_prekeys_and_group_keys(signal_store: SQLSignalStore) -> None:
    identity = await signal_store.get_identity_key_pair()
    spks = [generate_signed_prekey(identity, i, 1000 + i) for i in (3, 1, 2)]
    for spk in spks:
        await signal_store.store_signed_prekey(spk)
    assert await signal_store.load_signed_prekeys() == sorted(spks, key=lambda s: s.key_id)
    for sender in (ALICE, BOB):
        await signal_store.store_sender_key(SenderKeyName("g1@g.us", sender), b"\x01x")
    await signal_store.store_sender_key(SenderKeyName("g2@g.us", ALICE), b"\x01y")
    await signal_store.delete_group_sender_keys("g1@g.us")
    assert await signal_store.load_sender_key(SenderKeyName("g1@g.us", BOB)) is None
    assert await signal_store.load_sender_key(SenderKeyName("g2@g.us", ALICE)) == b"\x01y"


async def test_failed_transaction_leaves_no_trace(signal_store: SQLSignalStore) -> None:
    store = signal_store
    await fill(store, b"x")
    before = await dump(store.db)
    with pytest.raises(Boom):
        async with store.transaction():
            await store.store_session(ALICE, b"\x01changed")
            await store.store_sessions({BOB: b"\x01new"})
            await store.delete_all_sessions("111")
            await store.remove_prekey(1)
            await store.generate_prekeys(3)
            await store.save_identity(BOB, KeyPair.generate().public)
            await store.delete_identity(ALICE)
            await store.remove_signed_prekey(1)
            await store.delete_sender_key(SenderKeyName("g@g.us", ALICE))
            await store.mark_prekeys_uploaded([1])
            raise Boom
    assert await dump(store.db) == before


async def test_prekey_upsert_resets_uploaded(signal_store: SQLSignalStore) -> None:
    record = PreKeyRecord(7, KeyPair.generate())
    await signal_store.store_prekey(record)
    await signal_store.mark_prekeys_uploaded([7])
    replacement = PreKeyRecord(7, KeyPair.generate())
    await signal_store.store_prekey(replacement)
    assert await signal_store.load_prekey(7) == replacement
    assert await signal_store.count_prekeys(uploaded=False) == 1
