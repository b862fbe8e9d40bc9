"""Reusable conformance checks for any :class:`SignalStore` implementation.

Call ``await run_store_conformance(store)`` on a fresh, empty store (identity and registration id
already set up). SQL store tests can import it from here.
"""

from __future__ import annotations

import pytest

from mautrix_whatsapp_py.whatsapp.signal.address import ProtocolAddress, SenderKeyName
from mautrix_whatsapp_py.whatsapp.signal.keys import (
    KeyPair,
    generate_prekeys,
    generate_signed_prekey,
)
from mautrix_whatsapp_py.whatsapp.signal.store import SignalStore


class _Boom(Exception):
    pass


async def run_store_conformance(store: SignalStore) -> None:
    alice = ProtocolAddress("111", 0)
    alice2 = ProtocolAddress("111", 2)
    bob = ProtocolAddress("1112", 0)
    ident = await store.get_identity_key_pair()
    assert len(ident.public) == 33 and len(ident.private) == 32
    assert 1 <= await store.get_local_registration_id() <= 0x3FFF

    # identities: first save is not a change, same key is not a change, new key is
    k1, k2 = KeyPair.generate().public, KeyPair.generate().public
    assert await store.get_identity(alice) is None
    assert await store.save_identity(alice, k1) is False
    assert await store.save_identity(alice, k1) is False
    assert await store.get_identity(alice) == k1
    assert await store.save_identity(alice, k2) is True
    assert await store.get_identity(alice) == k2
    await store.delete_identity(alice)
    assert await store.get_identity(alice) is None
    await store.delete_identity(alice)

    # prekeys
    pks = generate_prekeys(1, 3)
    for pk in pks:
        await store.store_prekey(pk)
    loaded = await store.load_prekey(2)
    assert loaded is not None and loaded.key_pair == pks[1].key_pair and loaded.key_id == 2
    await store.remove_prekey(2)
    assert await store.load_prekey(2) is None
    await store.remove_prekey(2)
    spk = generate_signed_prekey(ident, 7, timestamp=1234)
    await store.store_signed_prekey(spk)
    assert await store.load_signed_prekey(7) == spk
    assert await store.load_signed_prekey(8) is None
    await store.remove_signed_prekey(7)
    assert await store.load_signed_prekey(7) is None

    # sessions (opaque bytes, upsert)
    assert await store.load_session(alice) is None
    await store.store_session(alice, b"\x01one")
    await store.store_session(alice, b"\x01two")
    await store.store_session(alice2, b"\x01dev2")
    await store.store_session(bob, b"\x01bob")
    assert await store.load_session(alice) == b"\x01two"
    await store.delete_all_sessions("111")
    assert await store.load_session(alice) is None
    assert await store.load_session(alice2) is None
    assert await store.load_session(bob) == b"\x01bob"
    await store.delete_session(bob)
    assert await store.load_session(bob) is None

    # sender keys
    skn = SenderKeyName("123-456@g.us", alice)
    skn_other = SenderKeyName("123-456@g.us", bob)
    await store.store_sender_key(skn, b"\x01sk")
    assert await store.load_sender_key(skn) == b"\x01sk"
    assert await store.load_sender_key(skn_other) is None
    await store.delete_sender_key(skn)
    assert await store.load_sender_key(skn) is None

    # transactions: all-or-nothing, read-your-writes inside
    await store.store_session(alice, b"\x01before")
    await store.store_prekey(pks[0])
    with pytest.raises(_Boom):
        async with store.transaction():
            await store.store_session(alice, b"\x01after")
            await store.store_session(bob, b"\x01new")
            await store.remove_prekey(pks[0].key_id)
            await store.save_identity(alice, k1)
            await store.store_sender_key(skn, b"\x01sk2")
            assert await store.load_session(alice) == b"\x01after"
            raise _Boom
    assert await store.load_session(alice) == b"\x01before"
    assert await store.load_session(bob) is None
    assert await store.load_prekey(pks[0].key_id) is not None
    assert await store.get_identity(alice) is None
    assert await store.load_sender_key(skn) is None

    async with store.transaction():
        await store.store_session(alice, b"\x01after")
        await store.remove_prekey(pks[0].key_id)
        assert await store.save_identity(alice, k1) is False
    assert await store.load_session(alice) == b"\x01after"
    assert await store.load_prekey(pks[0].key_id) is None
    assert await store.get_identity(alice) == k1
