"""Signal throughput: our engine against libsignal-node (and Baileys' sender keys), one run.

Usage: ``python bench/bench_signal.py [--setups N] [--messages N] [--size BYTES]``

Both sides run the same workloads, timed in their own process (Node with ``process.hrtime``),
with in-memory stores that keep records serialized:

* session setup: build a session from a prekey bundle, encrypt the first (prekey) message, and
  have the responder decrypt it — both halves of X3DH, per setup;
* 1:1 encrypt / decrypt on an established session (normal ``msg`` messages, in order);
* sender-key encrypt / decrypt in one group.

Each timed loop runs for its count or ``--budget`` seconds, whichever ends first (Baileys' sender
keys sign in pure JavaScript and manage only dozens per second), and decrypts what was encrypted.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from mautrix_whatsapp_py.whatsapp.signal.address import ProtocolAddress, SenderKeyName
from mautrix_whatsapp_py.whatsapp.signal.cipher import SessionCipher
from mautrix_whatsapp_py.whatsapp.signal.group import GroupCipher, GroupSessionBuilder
from mautrix_whatsapp_py.whatsapp.signal.keys import (
    PreKeyBundle,
    generate_prekeys,
    generate_signed_prekey,
)
from mautrix_whatsapp_py.whatsapp.signal.memory_store import MemorySignalStore
from tests.interop.node_peer import NodePeer, node_available

ROWS = [
    ("setup", "session setups/s"),
    ("encrypt", "1:1 encrypt/s"),
    ("decrypt", "1:1 decrypt/s"),
    ("group_encrypt", "sender-key encrypt/s"),
    ("group_decrypt", "sender-key decrypt/s"),
]


def bundle(store: MemorySignalStore, prekey_id: int) -> PreKeyBundle:
    spk = store.signed_prekeys[1]
    return PreKeyBundle(
        registration_id=store.registration_id,
        device_id=0,
        identity_key=store.identity.public,
        signed_prekey_id=1,
        signed_prekey=spk.key_pair.public,
        signed_prekey_signature=spk.signature,
        prekey_id=prekey_id,
        prekey=store.prekeys[prekey_id].key_pair.public,
    )


async def run_python(setups: int, messages: int, size: int, budget: float) -> dict[str, float]:
    plaintext = b"a" * size
    result: dict[str, float] = {}
    bob = MemorySignalStore()
    for pk in generate_prekeys(1, setups):
        await bob.store_prekey(pk)
    await bob.store_signed_prekey(generate_signed_prekey(bob.identity, 1))
    alices = [MemorySignalStore() for _ in range(setups)]
    bundles = [bundle(bob, i + 1) for i in range(setups)]
    bob_addr = ProtocolAddress("bob", 0)

    t = time.perf_counter()
    done = 0
    for i, alice in enumerate(alices):
        if time.perf_counter() - t > budget:
            break
        done += 1
        to_bob = SessionCipher(alice, bob_addr)
        await to_bob.process_bundle(bundles[i])
        first = await to_bob.encrypt(plaintext)
        await SessionCipher(bob, ProtocolAddress(f"alice{i}", 0)).decrypt_prekey_message(
            first.ciphertext
        )
    result["setup"] = done / (time.perf_counter() - t)

    to_bob = SessionCipher(alices[0], bob_addr)
    to_alice = SessionCipher(bob, ProtocolAddress("alice0", 0))
    await to_bob.decrypt_message((await to_alice.encrypt(plaintext)).ciphertext)
    t = time.perf_counter()
    bodies: list[bytes] = []
    while len(bodies) < messages and time.perf_counter() - t <= budget:
        bodies.append((await to_bob.encrypt(plaintext)).ciphertext)
    result["encrypt"] = len(bodies) / (time.perf_counter() - t)
    t = time.perf_counter()
    for body in bodies:
        await to_alice.decrypt_message(body)
    result["decrypt"] = len(bodies) / (time.perf_counter() - t)

    name = SenderKeyName("g@g.us", ProtocolAddress("alice0", 0))
    skdm = await GroupSessionBuilder(alices[0]).create(name)
    await GroupSessionBuilder(bob).process(name, skdm)
    sender, receiver = GroupCipher(alices[0], name), GroupCipher(bob, name)
    t = time.perf_counter()
    group_bodies: list[bytes] = []
    while len(group_bodies) < messages and time.perf_counter() - t <= budget:
        group_bodies.append(await sender.encrypt(plaintext))
    result["group_encrypt"] = len(group_bodies) / (time.perf_counter() - t)
    t = time.perf_counter()
    for body in group_bodies:
        await receiver.decrypt(body)
    result["group_decrypt"] = len(group_bodies) / (time.perf_counter() - t)
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--setups", type=int, default=300)
    parser.add_argument("--messages", type=int, default=10000)
    parser.add_argument("--size", type=int, default=128, help="plaintext bytes per message")
    parser.add_argument(
        "--budget", type=float, default=2.5, help="seconds at most per timed loop and side"
    )
    args = parser.parse_args()

    ours = asyncio.run(run_python(args.setups, args.messages, args.size, args.budget))
    theirs: dict[str, float] | None = None
    if node_available():
        with NodePeer("bench_signal.js") as peer:
            theirs = peer.call(
                "run",
                setups=args.setups,
                messages=args.messages,
                size=args.size,
                budget=args.budget,
            )
    else:
        print("node not available: printing our numbers only", file=sys.stderr)

    print(f"setups={args.setups} messages={args.messages} size={args.size}B")
    print(f"{'operation':<24}{'ours':>12}{'libsignal-node':>16}{'ratio':>9}")
    for key, label in ROWS:
        mine = ours[key]
        if theirs is None:
            print(f"{label:<24}{mine:>12,.0f}")
        else:
            print(f"{label:<24}{mine:>12,.0f}{theirs[key]:>16,.0f}{mine / theirs[key]:>8.2f}x")


if __name__ == "__main__":
    main()
