"""Shared set-up for Signal unit tests: two in-memory devices and their bundles."""

from __future__ import annotations

from mautrix_whatsapp_py.whatsapp.signal.address import ProtocolAddress
from mautrix_whatsapp_py.whatsapp.signal.cipher import SessionCipher
from mautrix_whatsapp_py.whatsapp.signal.keys import (
    PreKeyBundle,
    generate_prekeys,
    generate_signed_prekey,
)
from mautrix_whatsapp_py.whatsapp.signal.memory_store import MemorySignalStore

ALICE = ProtocolAddress("alice", 1)
BOB = ProtocolAddress("bob", 2)


async def make_device(prekeys: int = 5) -> MemorySignalStore:
    store = MemorySignalStore()
    for pk in generate_prekeys(1, prekeys):
        await store.store_prekey(pk)
    await store.store_signed_prekey(generate_signed_prekey(store.identity, 1))
    return store


def bundle_of(store: MemorySignalStore, prekey_id: int | None = 1) -> PreKeyBundle:
    spk = store.signed_prekeys[1]
    pk = store.prekeys[prekey_id] if prekey_id is not None else None
    return PreKeyBundle(
        registration_id=store.registration_id,
        device_id=0,
        identity_key=store.identity.public,
        signed_prekey_id=spk.key_id,
        signed_prekey=spk.key_pair.public,
        signed_prekey_signature=spk.signature,
        prekey_id=prekey_id,
        prekey=pk.key_pair.public if pk else None,
    )


async def pair() -> tuple[MemorySignalStore, MemorySignalStore, SessionCipher, SessionCipher]:
    """Alice's and Bob's stores and ciphers (Alice's cipher talks to Bob and vice versa)."""
    a, b = await make_device(), await make_device()
    return a, b, SessionCipher(a, BOB), SessionCipher(b, ALICE)
