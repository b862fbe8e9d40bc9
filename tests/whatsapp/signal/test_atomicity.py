"""A decrypt whose store writes fail leaves nothing behind, and the record cache never outranks
the store."""

from __future__ import annotations

import pytest

from mautrix_whatsapp_py.whatsapp.signal.cipher import SessionCipher
from mautrix_whatsapp_py.whatsapp.signal.keys import generate_prekeys, generate_signed_prekey
from mautrix_whatsapp_py.whatsapp.signal.memory_store import MemorySignalStore

from .helpers import ALICE, BOB, bundle_of, make_device


class StoreDown(Exception):
    pass


class FlakyStore(MemorySignalStore):
    """Fails the prekey removal, i.e. halfway through the decrypt's write transaction."""

    fail = True

    async def remove_prekey(self, prekey_id: int) -> None:
        await super().remove_prekey(prekey_id)
        if self.fail:
            raise StoreDown


async def test_failed_write_transaction_rolls_back_everything() -> None:
    alice = await make_device()
    bob = FlakyStore()
    for pk in generate_prekeys(1, 3):
        await bob.store_prekey(pk)
    await bob.store_signed_prekey(generate_signed_prekey(bob.identity, 1))
    await bob.save_identity(ALICE, b"\x05" + bytes(32))  # an old identity, to be replaced
    to_bob = SessionCipher(alice, BOB)
    await to_bob.process_bundle(bundle_of(bob))
    pkmsg = (await to_bob.encrypt(b"hi")).ciphertext
    to_alice = SessionCipher(bob, ALICE)

    before = bob.snapshot()
    with pytest.raises(StoreDown):
        await to_alice.decrypt("pkmsg", pkmsg)
    assert bob.snapshot() == before

    bob.fail = False
    result = await to_alice.decrypt("pkmsg", pkmsg)
    assert result.plaintext == b"hi" and result.identity_changed and result.used_prekey_id == 1
    assert 1 not in bob.prekeys and bob.identities[str(ALICE)] == alice.identity.public


async def test_cache_follows_the_store() -> None:
    alice, bob = await make_device(), await make_device()
    to_bob, to_alice = SessionCipher(alice, BOB), SessionCipher(bob, ALICE)
    await to_bob.process_bundle(bundle_of(bob))
    await to_alice.decrypt("pkmsg", (await to_bob.encrypt(b"0")).ciphertext)
    await to_bob.decrypt("msg", (await to_alice.encrypt(b"ack")).ciphertext)
    saved = bob.sessions[str(ALICE)]
    first = await to_bob.encrypt(b"1")
    assert (await to_alice.decrypt("msg", first.ciphertext)).plaintext == b"1"
    # Someone restores Bob's store to the earlier record (e.g. a DB rollback elsewhere): the
    # cached, advanced record must not be used; the message decrypts again from stored state.
    bob.sessions[str(ALICE)] = bytes(bytearray(saved))
    assert (await to_alice.decrypt("msg", first.ciphertext)).plaintext == b"1"
