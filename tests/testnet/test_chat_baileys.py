"""Two real Baileys clients on two accounts chat through the test network: 1:1 and group text,
an image, receipts, typing, the offline queue and a server restart."""

from __future__ import annotations

import asyncio
import base64
import ssl

import aiohttp

from mautrix_whatsapp_py.testnet.server import TestNetServer
from mautrix_whatsapp_py.whatsapp.media_crypto import MediaType, decrypt_media
from tests.interop.baileys_client import BaileysClient

from .conftest import Admin, PairFn, phone_has, requires_node

pytestmark = requires_node

ALICE, BOB = "15550001", "15550002"
ALICE_JID, BOB_JID = f"{ALICE}@s.whatsapp.net", f"{BOB}@s.whatsapp.net"


async def _pair_two(pair_baileys: PairFn) -> tuple[BaileysClient, BaileysClient]:
    alice = await pair_baileys(ALICE, "Alice")
    bob = await pair_baileys(BOB, "Bob")
    return alice, bob


async def test_one_to_one_text_receipts_and_typing(pair_baileys: PairFn, admin: Admin) -> None:
    alice, bob = await _pair_two(pair_baileys)

    after = await bob.last_seq()
    msg_id = await alice.send_text(BOB_JID, "hello bob")
    got = await bob.wait_event("message", {"text": "hello bob"}, after=after)
    assert got["key"]["remoteJid"] == ALICE_JID and not got["key"]["fromMe"]
    assert got["key"]["id"] == msg_id
    assert got["pushName"] == "Alice"

    # Bob's delivery receipt (sent automatically) and his read receipt reach Alice.
    await alice.wait_event("update", {"key": {"id": msg_id}, "update": {"status": 3}})
    await bob.read_messages([got["key"]])
    await alice.wait_event("update", {"key": {"id": msg_id}, "update": {"status": 4}})

    # And back the other way.
    after = await alice.last_seq()
    reply_id = await bob.send_text(ALICE_JID, "hi alice")
    got = await alice.wait_event("message", {"text": "hi alice"}, after=after)
    assert got["key"]["id"] == reply_id and got["key"]["remoteJid"] == BOB_JID

    # The phones are real participants: each got its own copy (and the sender's phone a copy
    # of what its companion sent).
    bob_phone = await admin.messages(BOB)
    assert any(m["text"] == "hello bob" and m["chat"] == ALICE_JID for m in bob_phone)
    alice_phone = await admin.messages(ALICE)
    assert any(m["text"] == "hello bob" and m["chat"] == BOB_JID for m in alice_phone)

    # Typing: Alice subscribes to Bob's presence and sees him compose.
    await alice.presence_subscribe(BOB_JID)
    after = await alice.last_seq()
    await bob.send_presence("composing", ALICE_JID)
    await alice.wait_event(
        "presence",
        {"id": BOB_JID, "presences": {BOB_JID: {"lastKnownPresence": "composing"}}},
        after=after,
    )
    # Baileys reports a paused chat state as plain "available".
    await bob.send_presence("paused", ALICE_JID)
    await alice.wait_event(
        "presence",
        {"id": BOB_JID, "presences": {BOB_JID: {"lastKnownPresence": "available"}}},
        after=after,
    )


async def test_phone_messages_reach_companions(pair_baileys: PairFn, admin: Admin) -> None:
    alice, bob = await _pair_two(pair_baileys)
    after_a, after_b = await alice.last_seq(), await bob.last_seq()
    msg_id = await admin.send(ALICE, BOB_JID, "from alice's phone")
    got = await bob.wait_event("message", {"text": "from alice's phone"}, after=after_b)
    assert got["key"]["id"] == msg_id and got["key"]["remoteJid"] == ALICE_JID
    # Alice's companion sees it as sent by her, in the chat with Bob.
    mine = await alice.wait_event("message", {"text": "from alice's phone"}, after=after_a)
    assert mine["key"]["fromMe"] and mine["key"]["remoteJid"] == BOB_JID


async def test_group_chat(pair_baileys: PairFn, admin: Admin) -> None:
    alice, bob = await _pair_two(pair_baileys)
    after_b = await bob.last_seq()
    group = await alice.group_create("Test group", [BOB_JID])
    gid = group["id"]
    assert {p["id"] for p in group["participants"]} == {ALICE_JID, BOB_JID}
    await bob.wait_event("group", {"id": gid}, after=after_b)

    after_b = await bob.last_seq()
    msg_id = await alice.send_text(gid, "hello group")
    got = await bob.wait_event("message", {"text": "hello group"}, after=after_b)
    assert got["key"]["remoteJid"] == gid and got["key"]["participant"] == ALICE_JID
    assert got["key"]["id"] == msg_id

    after_a = await alice.last_seq()
    await bob.send_text(gid, "hi from bob")
    got = await alice.wait_event("message", {"text": "hi from bob"}, after=after_a)
    assert got["key"]["participant"] == BOB_JID

    # Alice's phone is a member too and decrypts the sender-key message.
    await phone_has(admin, ALICE, "hi from bob", gid)

    # Metadata changes reach members as notifications.
    after_b = await bob.last_seq()
    await alice.group_update_subject(gid, "Renamed")
    await bob.wait_event("group", {"id": gid, "group": {"subject": "Renamed"}}, after=after_b)
    meta = await bob.group_metadata(gid)
    assert meta["subject"] == "Renamed"


async def test_image(pair_baileys: PairFn, testnet: TestNetServer) -> None:
    alice, bob = await _pair_two(pair_baileys)
    data = bytes(range(256)) * 300
    after = await bob.last_seq()
    await alice.send_image(BOB_JID, data, "image/jpeg", "a picture")
    got = await bob.wait_event("message", {"image": {"caption": "a picture"}}, after=after)
    downloaded = await bob.download_image(got["raw"]["message"])
    assert downloaded == data

    # Our own media crypto reads what Baileys uploaded, checking MAC and both hashes.
    image = got["image"]
    context = ssl.create_default_context(cafile=testnet.info["tls_cert"])
    async with (
        aiohttp.ClientSession() as session,
        session.get(testnet.info["media_url"] + image["directPath"], ssl=context) as resp,
    ):
        blob = await resp.read()
    plain = decrypt_media(
        blob,
        base64.b64decode(image["mediaKeyB64"]),
        MediaType.IMAGE,
        file_sha256=base64.b64decode(image["fileSha256B64"]),
        file_enc_sha256=base64.b64decode(image["fileEncSha256B64"]),
    )
    assert plain == data


async def test_offline_queue_and_restart(
    pair_baileys: PairFn, testnet: TestNetServer, admin: Admin
) -> None:
    alice, bob = await _pair_two(pair_baileys)
    # Bob goes away; Alice sends three messages that wait in the queue.
    await bob.end()
    ids = [await alice.send_text(BOB_JID, f"queued {i}") for i in range(3)]
    # Baileys returns before the server has the message; wait until all three are queued.
    for _ in range(100):
        devices = {d["device_id"]: d for d in await admin.devices(BOB)}
        if devices[1]["queued"] >= 3:
            break
        await asyncio.sleep(0.1)
    assert devices[1]["queued"] >= 3 and not devices[1]["online"]
    # The server restarts in between: nothing is lost.
    await testnet.restart()
    await alice.wait_event("connection", {"connection": "open"}, after=await alice.last_seq() - 50)
    await bob.start_again()
    for i, msg_id in enumerate(ids):
        got = await bob.wait_event("message", {"text": f"queued {i}"})
        assert got["key"]["id"] == msg_id
    texts = [e["text"] for e in await bob.events() if e["type"] == "message" and e["text"]]
    queued = [t for t in texts if t.startswith("queued")]
    assert queued == ["queued 0", "queued 1", "queued 2"]
    # Once acked, the queue is empty.
    for _ in range(50):
        devices = {d["device_id"]: d for d in await admin.devices(BOB)}
        if devices[1]["queued"] == 0:
            break
        await asyncio.sleep(0.1)
    assert devices[1]["queued"] == 0
