"""Our Signal implementation against npm libsignal (1:1) and Baileys' WASignalGroup (groups).

The peer (``js/signal_peer.js``) is one libsignal device with an in-memory store. Traffic is
batched (one JSON-RPC call encrypts or decrypts many messages) to keep the test fast.
"""

from __future__ import annotations

import random
from collections.abc import Iterator
from typing import Any

import pytest

from mautrix_whatsapp_py.whatsapp.signal import padding
from mautrix_whatsapp_py.whatsapp.signal.address import ProtocolAddress, SenderKeyName
from mautrix_whatsapp_py.whatsapp.signal.cipher import SessionCipher
from mautrix_whatsapp_py.whatsapp.signal.errors import (
    DuplicateMessageError,
    InvalidKeyIdError,
    InvalidMacError,
    InvalidPaddingError,
    NoSessionError,
)
from mautrix_whatsapp_py.whatsapp.signal.group import GroupCipher, GroupSessionBuilder
from mautrix_whatsapp_py.whatsapp.signal.keys import PreKeyBundle
from mautrix_whatsapp_py.whatsapp.signal.memory_store import MemorySignalStore
from mautrix_whatsapp_py.whatsapp.signal.wire import SenderKeyDistributionMessage
from tests.interop.node_peer import NodePeer, b64, node_available, unb64
from tests.whatsapp.signal.helpers import bundle_of, make_device

pytestmark = [
    pytest.mark.interop,
    pytest.mark.skipif(not node_available(), reason="node or node_modules missing"),
]

NODE = ProtocolAddress("node", 0)  # the peer, as we address it
US = {"name": "py", "device": 0}  # us, as the peer addresses us
GROUP = "120363000000000000@g.us"


@pytest.fixture
def peer() -> Iterator[NodePeer]:
    with NodePeer("signal_peer.js") as p:
        p.call("reset", prekeys=10)
        yield p


def node_bundle(peer: NodePeer, prekey_id: int | None = 1) -> PreKeyBundle:
    b = peer.call("bundle", prekey_id=prekey_id)
    return PreKeyBundle(
        registration_id=b["registration_id"],
        device_id=0,
        identity_key=unb64(b["identity_key"]),
        signed_prekey_id=b["signed_prekey_id"],
        signed_prekey=unb64(b["signed_prekey"]),
        signed_prekey_signature=unb64(b["signed_prekey_signature"]),
        prekey_id=b.get("prekey_id"),
        prekey=unb64(b["prekey"]) if "prekey" in b else None,
    )


def wire_bundle(store: MemorySignalStore, prekey_id: int | None = 1) -> dict[str, Any]:
    b = bundle_of(store, prekey_id)
    out: dict[str, Any] = {
        "registration_id": b.registration_id,
        "identity_key": b64(b.identity_key),
        "signed_prekey_id": b.signed_prekey_id,
        "signed_prekey": b64(b.signed_prekey),
        "signed_prekey_signature": b64(b.signed_prekey_signature),
    }
    if b.prekey is not None:
        out |= {"prekey_id": b.prekey_id, "prekey": b64(b.prekey)}
    return out


def node_encrypt(peer: NodePeer, plaintexts: list[bytes]) -> list[tuple[str, bytes]]:
    out = peer.call("encrypt", **US, plaintexts=[b64(p) for p in plaintexts])
    return [(m["type"], unb64(m["body"])) for m in out]


def node_decrypt(peer: NodePeer, messages: list[tuple[str, bytes]]) -> list[bytes]:
    out = peer.call("decrypt", **US, messages=[{"type": t, "body": b64(b)} for t, b in messages])
    errors = [r["error"] for r in out if "error" in r]
    assert not errors, errors
    return [unb64(r["ok"]) for r in out]


def shuffled_in_windows(items: list[Any], rng: random.Random, window: int = 8) -> list[Any]:
    out: list[Any] = []
    for start in range(0, len(items), window):
        chunk = items[start : start + window]
        rng.shuffle(chunk)
        out += chunk
    return out


async def we_initiate(peer: NodePeer) -> tuple[MemorySignalStore, SessionCipher]:
    store = await make_device()
    cipher = SessionCipher(store, NODE)
    await cipher.process_bundle(node_bundle(peer))
    first = await cipher.encrypt(b"hello libsignal")
    assert first.type == "pkmsg"
    assert node_decrypt(peer, [("pkmsg", first.ciphertext)]) == [b"hello libsignal"]
    return store, cipher


async def they_initiate(peer: NodePeer) -> tuple[MemorySignalStore, SessionCipher]:
    store = await make_device()
    cipher = SessionCipher(store, NODE)
    peer.call("process_bundle", **US, bundle=wire_bundle(store))
    [(kind, body)] = node_encrypt(peer, [b"hello python"])
    assert kind == "pkmsg"
    result = await cipher.decrypt("pkmsg", body)
    assert result.plaintext == b"hello python" and result.used_prekey_id == 1
    assert 1 not in store.prekeys
    return store, cipher


async def test_we_initiate(peer: NodePeer) -> None:
    _store, cipher = await we_initiate(peer)
    [(kind, body)] = node_encrypt(peer, [b"reply"])
    assert kind == "msg"
    assert await cipher.decrypt_message(body) == b"reply"
    after = await cipher.encrypt(b"now a normal message")
    assert after.type == "msg"
    assert node_decrypt(peer, [(after.type, after.ciphertext)]) == [b"now a normal message"]


async def test_they_initiate_without_one_time_prekey(peer: NodePeer) -> None:
    store = await make_device()
    cipher = SessionCipher(store, NODE)
    peer.call("process_bundle", **US, bundle=wire_bundle(store, prekey_id=None))
    [(kind, body)] = node_encrypt(peer, [b"no opk"])
    result = await cipher.decrypt(kind, body)  # type: ignore[arg-type]
    assert result.plaintext == b"no opk" and result.used_prekey_id is None
    reply = await cipher.encrypt(b"ok")
    assert node_decrypt(peer, [(reply.type, reply.ciphertext)]) == [b"ok"]


@pytest.mark.parametrize("initiator", ["us", "them"])
async def test_thousand_messages_each_way_out_of_order(peer: NodePeer, initiator: str) -> None:
    _store, cipher = await (we_initiate(peer) if initiator == "us" else they_initiate(peer))
    rng = random.Random(initiator)
    sent = received = 0
    while sent < 1000 or received < 1000:
        # our turn: a batch to the peer, delivered shuffled within small windows
        n = min(rng.randint(1, 60), 1000 - sent)
        if n:
            batch = [(i, f"py {sent + i}".encode()) for i in range(n)]
            encrypted = [(i, await cipher.encrypt(pt)) for i, pt in batch]
            order = shuffled_in_windows(encrypted, rng)
            got = node_decrypt(peer, [(e.type, e.ciphertext) for _, e in order])
            assert got == [batch[i][1] for i, _ in order]
            sent += n
        # their turn
        n = min(rng.randint(1, 60), 1000 - received)
        if n:
            plaintexts = [f"node {received + i}".encode() for i in range(n)]
            messages = list(enumerate(node_encrypt(peer, plaintexts)))
            for i, (kind, body) in shuffled_in_windows(messages, rng):
                result = await cipher.decrypt(kind, body)  # type: ignore[arg-type]
                assert result.plaintext == plaintexts[i]
            received += n


async def test_sender_keys_both_ways_out_of_order(peer: NodePeer) -> None:
    store = MemorySignalStore()
    rng = random.Random(5)
    # their sender key -> us
    skdm = unb64(peer.call("group_create", group=GROUP, name="node", device=0))
    theirs = SenderKeyName(GROUP, NODE)
    assert await GroupSessionBuilder(store).process(
        theirs, SenderKeyDistributionMessage.parse(skdm)
    )
    plaintexts = [f"group from node {i}".encode() for i in range(300)]
    wire = [b64(p) for p in plaintexts]
    reply = peer.call("group_encrypt", group=GROUP, name="node", device=0, plaintexts=wire)
    encrypted = [unb64(c) for c in reply]
    their_cipher = GroupCipher(store, theirs)
    for i, body in shuffled_in_windows(list(enumerate(encrypted)), rng, window=20):
        assert await their_cipher.decrypt(body) == plaintexts[i]
    with pytest.raises(DuplicateMessageError):
        await their_cipher.decrypt(encrypted[5])

    # our sender key -> them
    ours = SenderKeyName(GROUP, ProtocolAddress("py", 0))
    our_skdm = await GroupSessionBuilder(store).create(ours)
    peer.call("group_process", group=GROUP, **US, skdm=b64(our_skdm.serialize()))
    our_cipher = GroupCipher(store, ours)
    mine = [f"group from py {i}".encode() for i in range(300)]
    bodies = [await our_cipher.encrypt(p) for p in mine]
    order = shuffled_in_windows(list(enumerate(bodies)), rng, window=20)
    out = peer.call("group_decrypt", group=GROUP, **US, messages=[b64(b) for _, b in order])
    assert [unb64(r["ok"]) for r in out] == [mine[i] for i, _ in order]


async def test_rejections_leave_store_unchanged(peer: NodePeer) -> None:
    store, cipher = await they_initiate(peer)
    # the peer's next messages are still prekey messages (we have not answered yet)
    [(kind, pkmsg)] = node_encrypt(peer, [b"second"])
    assert kind == "pkmsg"
    assert (await cipher.decrypt("pkmsg", pkmsg)).plaintext == b"second"
    reply = await cipher.encrypt(b"ack")
    node_decrypt(peer, [(reply.type, reply.ciphertext)])
    [(kind, msg)] = node_encrypt(peer, [b"third"])
    assert kind == "msg"
    await cipher.decrypt("msg", msg)

    before = store.snapshot()
    with pytest.raises(DuplicateMessageError):
        await cipher.decrypt("pkmsg", pkmsg)  # replayed prekey message
    with pytest.raises(DuplicateMessageError):
        await cipher.decrypt("msg", msg)  # replayed message
    [(_, fresh)] = node_encrypt(peer, [b"fourth"])
    corrupted = bytearray(fresh)
    corrupted[-3] ^= 0x40
    with pytest.raises(InvalidMacError):
        await cipher.decrypt("msg", bytes(corrupted))
    with pytest.raises(NoSessionError):
        await SessionCipher(store, ProtocolAddress("stranger", 3)).decrypt("msg", fresh)
    assert store.snapshot() == before
    assert (await cipher.decrypt("msg", fresh)).plaintext == b"fourth"

    # a prekey message naming a one-time prekey we no longer have
    other = await make_device()
    peer.call("reset", prekeys=3)
    peer.call("process_bundle", **US, bundle=wire_bundle(other, prekey_id=4))
    [(_, stale)] = node_encrypt(peer, [b"stale"])
    await other.remove_prekey(4)
    before = other.snapshot()
    with pytest.raises(InvalidKeyIdError):
        await SessionCipher(other, NODE).decrypt("pkmsg", stale)
    assert other.snapshot() == before


async def test_archived_session_and_identity_change(peer: NodePeer) -> None:
    store, cipher = await they_initiate(peer)
    reply = await cipher.encrypt(b"ack")
    node_decrypt(peer, [(reply.type, reply.ciphertext)])
    [(kind, late)] = node_encrypt(peer, [b"late on the first session"])
    assert kind == "msg"
    # the peer starts a second session from a new bundle of ours
    peer.call("process_bundle", **US, bundle=wire_bundle(store, prekey_id=2))
    [(kind, body)] = node_encrypt(peer, [b"second session"])
    result = await cipher.decrypt(kind, body)  # type: ignore[arg-type]
    assert result.plaintext == b"second session" and not result.identity_changed
    assert (await cipher.decrypt("msg", late)).plaintext == b"late on the first session"

    # the peer reinstalls: new identity key at the same address
    peer.call("reset", prekeys=3)
    peer.call("process_bundle", **US, bundle=wire_bundle(store, prekey_id=3))
    [(kind, body)] = node_encrypt(peer, [b"new identity"])
    result = await cipher.decrypt(kind, body)  # type: ignore[arg-type]
    assert result.plaintext == b"new identity" and result.identity_changed
    assert store.identities[str(NODE)] == unb64(peer.call("identity"))
    answer = await cipher.encrypt(b"welcome back")
    assert node_decrypt(peer, [(answer.type, answer.ciphertext)]) == [b"welcome back"]


async def test_padding_matches_baileys(peer: NodePeer) -> None:
    for size in (0, 1, 15, 16, 100):
        data = bytes(range(size % 256)) * 1
        assert padding.unpad(unb64(peer.call("pad", data=b64(data)))) == data
        assert unb64(peer.call("unpad", data=b64(padding.pad(data)))) == data
    with pytest.raises(InvalidPaddingError):
        padding.unpad(b"abc\x02\x03")


async def test_late_messages_across_ratchet_steps(peer: NodePeer) -> None:
    """Messages held back while the other side ratchets still decrypt, both ways.

    libsignal-node closes a receiving chain once it ratchets past it, keeping only the keys up
    to the previous-counter our next chain announces; this checks we announce it correctly.
    """
    _store, cipher = await we_initiate(peer)
    [(kind, body)] = node_encrypt(peer, [b"ack"])
    await cipher.decrypt(kind, body)  # type: ignore[arg-type]
    for round_ in range(3):
        # ours: hold back two of five, let the peer ratchet, deliver them last
        first = [await cipher.encrypt(f"a{round_}-{i}".encode()) for i in range(5)]
        held = [first[1], first[4]]
        node_decrypt(peer, [(m.type, m.ciphertext) for m in (first[0], first[2], first[3])])
        for kind, body in node_encrypt(peer, [b"reply"]):
            await cipher.decrypt(kind, body)  # type: ignore[arg-type]
        second = [await cipher.encrypt(f"b{round_}-{i}".encode()) for i in range(3)]
        node_decrypt(peer, [(m.type, m.ciphertext) for m in second])
        got = node_decrypt(peer, [(m.type, m.ciphertext) for m in held])
        assert got == [f"a{round_}-1".encode(), f"a{round_}-4".encode()]
        # theirs: the same the other way round
        theirs = node_encrypt(peer, [f"n{round_}-{i}".encode() for i in range(5)])
        for kind, body in (theirs[0], theirs[3]):
            await cipher.decrypt(kind, body)  # type: ignore[arg-type]
        reply = await cipher.encrypt(b"reply")
        node_decrypt(peer, [(reply.type, reply.ciphertext)])
        for kind, body in node_encrypt(peer, [b"after"]):
            await cipher.decrypt(kind, body)  # type: ignore[arg-type]
        for i in (1, 2, 4):
            kind, body = theirs[i]
            result = await cipher.decrypt(kind, body)  # type: ignore[arg-type]
            assert result.plaintext == f"n{round_}-{i}".encode()
