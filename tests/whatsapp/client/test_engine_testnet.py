"""Our engine against the test network and real Baileys clients: pairing, login, 1:1 and group
messages both ways with receipts, our phone's messages, the offline queue, dropped connections,
a server restart and retry receipts, on both SQLite and PostgreSQL stores."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from mautrix_whatsapp_py.testnet.server import TestNetServer
from mautrix_whatsapp_py.whatsapp import events as ev
from mautrix_whatsapp_py.whatsapp.binary import JID
from mautrix_whatsapp_py.whatsapp.store.sqldb import Database
from tests.testnet.conftest import Admin, PairFn, link_baileys, phone_has, requires_node

from .engine_helpers import Engine, pair_engine, text_of

pytestmark = requires_node

ALICE, BOB = "15550001", "15550002"
ALICE_JID, BOB_JID = f"{ALICE}@s.whatsapp.net", f"{BOB}@s.whatsapp.net"


async def test_engine_and_baileys_chat(
    admin: Admin, pair_baileys: PairFn, alice_engine: Engine
) -> None:
    bob = await pair_baileys(BOB, "Bob")
    alice, log = alice_engine
    assert alice.jid is not None and alice.jid.user == ALICE and alice.jid.device == 1

    # Engine -> Baileys, with delivery and read receipts coming back.
    after = await bob.last_seq()
    mark = log.mark()
    sent = await alice.send_text(JID.parse(BOB_JID), "hello from the engine")
    got = await bob.wait_event("message", {"text": "hello from the engine"}, after=after)
    assert got["key"]["id"] == sent.id and got["key"]["remoteJid"] == ALICE_JID
    await log.wait(ev.Receipt, lambda r: sent.id in r.message_ids and r.type == "", after=mark)
    await bob.read_messages([got["key"]])
    await log.wait(ev.Receipt, lambda r: sent.id in r.message_ids and r.type == "read", after=mark)

    # Baileys -> engine, and our read receipt reaches Baileys.
    mark = log.mark()
    reply_id = await bob.send_text(ALICE_JID, "hello engine")
    msg = await log.wait(ev.Message, lambda m: text_of(m) == "hello engine", after=mark)
    assert msg.id == reply_id and str(msg.source.chat) == BOB_JID and not msg.source.is_from_me
    after = await bob.last_seq()
    await alice.mark_read(msg.source.chat, msg.source.sender, [msg.id])
    await bob.wait_event("update", {"key": {"id": reply_id}, "update": {"status": 4}}, after=after)

    # Our phone's own messages reach the engine as sent by us.
    mark = log.mark()
    phone_id = await admin.send(ALICE, BOB_JID, "typed on alice's phone")
    own = await log.wait(ev.Message, lambda m: text_of(m) == "typed on alice's phone", after=mark)
    assert own.id == phone_id and own.source.is_from_me and str(own.source.chat) == BOB_JID

    # And the phone received what the engine sent (it decrypts its own copy).
    for _ in range(50):
        if any(m["text"] == "hello from the engine" for m in await admin.messages(ALICE)):
            break
        await asyncio.sleep(0.1)
    else:
        raise AssertionError("alice's phone never got the engine's sent copy")


async def test_engine_group_chat(pair_baileys: PairFn, alice_engine: Engine) -> None:
    bob = await pair_baileys(BOB, "Bob")
    alice, log = alice_engine
    after = await bob.last_seq()
    group = await bob.group_create("engine group", [ALICE_JID])
    gid = JID.parse(group["id"])
    mark = log.mark()
    await bob.send_text(group["id"], "hi group")
    msg = await log.wait(ev.Message, lambda m: text_of(m) == "hi group", after=mark)
    assert msg.source.is_group and msg.source.chat == gid and msg.source.sender.user == BOB

    sent = await alice.send_text(gid, "engine in the group")
    got = await bob.wait_event("message", {"text": "engine in the group"}, after=after)
    assert got["key"]["remoteJid"] == group["id"] and got["key"]["id"] == sent.id
    assert got["key"]["participant"] == ALICE_JID
    # A second message reuses the sender key already distributed.
    await alice.send_text(gid, "and again")
    await bob.wait_event("message", {"text": "and again"}, after=after)
    await log.wait(ev.Receipt, lambda r: sent.id in r.message_ids, after=mark)


async def test_engine_offline_queue_drop_and_restart(
    db: Database, testnet: TestNetServer, admin: Admin, pair_baileys: PairFn
) -> None:
    bob = await pair_baileys(BOB, "Bob")
    await admin.create_account(ALICE, "Alice")
    alice, log = await pair_engine(db, testnet, admin, ALICE)
    device = alice.device
    await alice.disconnect()
    try:
        for i in range(3):
            await bob.send_text(ALICE_JID, f"while away {i}")
        after = await bob.last_seq()
        await testnet.restart()
        await bob.wait_event("connection", {"connection": "open"}, after=after)
        from .engine_helpers import new_client

        alice, log = await new_client(db, testnet, device)
        await alice.connect()
        texts: list[str] = []
        for i in range(3):
            msg = await log.wait(ev.Message, lambda m, i=i: text_of(m) == f"while away {i}")
            assert msg.is_offline
        texts = [
            t for m in log.of_type(ev.Message) if (t := text_of(m)) and t.startswith("while away")
        ]
        assert texts == ["while away 0", "while away 1", "while away 2"]

        # The server drops the connection: the engine reconnects and loses nothing.
        await log.wait(ev.Connected)
        mark = log.mark()
        await admin.call("POST", f"/accounts/{ALICE}/devices/1/drop")
        await bob.send_text(ALICE_JID, "after the drop")
        await log.wait(ev.Message, lambda m: text_of(m) == "after the drop", after=mark, within=60)
        assert [text_of(m) for m in log.of_type(ev.Message)].count("after the drop") == 1
    finally:
        await alice.disconnect()


async def test_corrupted_message_is_retried(
    admin: Admin, pair_baileys: PairFn, alice_engine: Engine
) -> None:
    bob = await pair_baileys(BOB, "Bob")
    alice, log = alice_engine
    # A first exchange, so that the damaged message is a plain (non-prekey) message.
    mark = log.mark()
    await bob.send_text(ALICE_JID, "warm up")
    await log.wait(ev.Message, lambda m: text_of(m) == "warm up", after=mark)
    await alice.send_text(JID.parse(BOB_JID), "ok")

    await admin.call("POST", f"/accounts/{ALICE}/devices/1/corrupt-next")
    mark = log.mark()
    msg_id = await bob.send_text(ALICE_JID, "damaged in transit")
    bad = await log.wait(ev.UndecryptableMessage, lambda u: u.id == msg_id, after=mark)
    assert str(bad.source.chat) == BOB_JID
    # Our retry receipt makes Baileys re-send it with a fresh session; that copy decrypts.
    good = await log.wait(ev.Message, lambda m: m.id == msg_id, after=mark)
    assert text_of(good) == "damaged in transit"
    assert [e.id for e in log.of_type(ev.Message)].count(msg_id) == 1


async def test_engine_pairs_with_code_and_logs_out(
    db: Database, testnet: TestNetServer, admin: Admin
) -> None:
    from .engine_helpers import new_client

    await admin.create_account(ALICE, "Alice")
    alice, log = await new_client(db, testnet)
    await alice.connect()
    try:
        code = await alice.pair_phone(ALICE)
        assert len(code) == 8
        await admin.call("POST", f"/accounts/{ALICE}/link-code", {"code": code})
        paired = await log.wait(ev.PairSuccess)
        assert paired.jid.user == ALICE
        await log.wait(ev.Connected)
        assert [d["device_id"] for d in await admin.devices(ALICE)] == [0, 1]

        await alice.logout()
        assert [d["device_id"] for d in await admin.devices(ALICE)] == [0]
        assert log.of_type(ev.LoggedOut)
        assert not await db.fetchval("SELECT COUNT(*) FROM whatsapp_device WHERE paired")
    finally:
        await alice.disconnect()


async def test_second_login_replaces_first(
    db: Database, testnet: TestNetServer, admin: Admin
) -> None:
    from mautrix_whatsapp_py.whatsapp.store.device_store import DeviceStore

    from .engine_helpers import new_client

    await admin.create_account(ALICE, "Alice")
    first, first_log = await pair_engine(db, testnet, admin, ALICE)
    device = await DeviceStore.load(db, first.device.row_jid)
    assert device is not None
    second, second_log = await new_client(db, testnet, device)
    try:
        mark = first_log.mark()
        await second.connect()
        await second_log.wait(ev.Connected)
        await first_log.wait(ev.StreamReplaced, after=mark)
        gone = await first_log.wait(ev.Disconnected, after=mark)
        assert not gone.will_reconnect
        # The replacement still works.
        mark = second_log.mark()
        await admin.send(ALICE, ALICE_JID, "note to self")
        await second_log.wait(ev.Message, lambda m: text_of(m) == "note to self", after=mark)
    finally:
        await first.disconnect()
        await second.disconnect()


async def test_new_device_of_a_contact_gets_messages(
    testnet: TestNetServer,
    admin: Admin,
    pair_baileys: PairFn,
    tmp_path: Path,
    alice_engine: Engine,
) -> None:
    bob = await pair_baileys(BOB, "Bob")
    alice, log = alice_engine
    await alice.send_text(JID.parse(BOB_JID), "before")  # caches Bob's device list
    await bob.wait_event("message", {"text": "before"})
    # Bob links a second companion; the device notification invalidates Alice's cache.
    mark = log.mark()
    laptop = await link_baileys(testnet.info, admin, BOB, tmp_path / "bob-laptop")
    try:
        await log.wait(ev.DevicesChanged, lambda d: d.user.user == BOB, after=mark)
        await alice.send_text(JID.parse(BOB_JID), "after")
        got = await laptop.wait_event("message", {"text": "after"})
        assert got["key"]["remoteJid"] == ALICE_JID
    finally:
        await laptop.close()


async def test_engine_refills_prekeys(admin: Admin, alice_engine: Engine) -> None:
    uploaded = {d["device_id"]: d["prekeys"] for d in await admin.devices(ALICE)}[1]
    assert uploaded >= 40  # 50 uploaded, less what the phone used to welcome us
    # Others fetch our bundles until fewer than 5 are left: the server says so, we upload.
    await admin.call("POST", f"/accounts/{ALICE}/devices/1/take-prekeys", {"count": uploaded - 4})
    for _ in range(100):
        left = {d["device_id"]: d["prekeys"] for d in await admin.devices(ALICE)}[1]
        if left > 5:
            break
        await asyncio.sleep(0.1)
    assert left > 5


async def test_engine_answers_retry_receipts(
    admin: Admin, pair_baileys: PairFn, alice_engine: Engine
) -> None:
    bob = await pair_baileys(BOB, "Bob")
    alice, _ = alice_engine
    await alice.send_text(JID.parse(BOB_JID), "first")
    await bob.wait_event("message", {"text": "first"})
    # Bob's copy of the next message is damaged; Baileys asks us to re-send, and we do,
    # with a fresh session.
    await admin.call("POST", f"/accounts/{BOB}/devices/1/corrupt-next")
    after = await bob.last_seq()
    sent = await alice.send_text(JID.parse(BOB_JID), "second, damaged once")
    got = await bob.wait_event("message", {"text": "second, damaged once"}, after=after)
    assert got["key"]["id"] == sent.id


async def test_engine_presence_and_typing(pair_baileys: PairFn, alice_engine: Engine) -> None:
    bob = await pair_baileys(BOB, "Bob")
    alice, log = alice_engine
    mark = log.mark()
    await alice.subscribe_presence(JID.parse(BOB_JID))
    await bob.send_presence("available")
    seen = await log.wait(ev.Presence, lambda p: p.available, after=mark)
    assert seen.sender.user == BOB
    await bob.send_presence("composing", ALICE_JID)
    typing = await log.wait(ev.ChatState, lambda c: c.state == "composing", after=mark)
    assert typing.source.chat.user == BOB
    # And the other way: Baileys sees us typing.
    await bob.presence_subscribe(ALICE_JID)
    after = await bob.last_seq()
    await alice.send_chat_state(JID.parse(BOB_JID), "composing")
    await bob.wait_event(
        "presence",
        {"id": ALICE_JID, "presences": {ALICE_JID: {"lastKnownPresence": "composing"}}},
        after=after,
    )


async def test_qr_codes_rotate_then_expire(db: Database, testnet: TestNetServer) -> None:
    from .engine_helpers import new_client

    alice, log = await new_client(db, testnet)
    alice.pairing.first_qr_timeout = alice.pairing.next_qr_timeout = 0.2
    await alice.connect()
    try:
        error = await log.wait(ev.PairError)
        codes = [q.code for q in log.of_type(ev.QRCode)]
        assert len(codes) == 6 and len(set(codes)) == 6  # one per ref the server gave
        assert "expired" in error.reason
        assert all(c.split(",")[1:] == codes[0].split(",")[1:] for c in codes)
    finally:
        await alice.disconnect()


async def test_unlinked_from_the_phone(db: Database, admin: Admin, alice_engine: Engine) -> None:
    _, log = alice_engine
    mark = log.mark()
    await admin.call("DELETE", f"/accounts/{ALICE}/devices/1")
    await log.wait(ev.LoggedOut, after=mark)
    gone = await log.wait(ev.Disconnected, after=mark)
    assert not gone.will_reconnect
    assert not await db.fetchval("SELECT COUNT(*) FROM whatsapp_device WHERE paired")


async def test_forged_device_identity_is_rejected(
    admin: Admin, pair_baileys: PairFn, alice_engine: Engine
) -> None:
    bob = await pair_baileys(BOB, "Bob")
    _, log = alice_engine
    # Bob's first message to us is a prekey message carrying his device identity; the
    # server damages that identity in transit.
    await admin.call("POST", f"/accounts/{ALICE}/devices/1/tamper-identity-next")
    mark = log.mark()
    msg_id = await bob.send_text(ALICE_JID, "who am I")
    bad = await log.wait(ev.UndecryptableMessage, lambda u: u.id == msg_id, after=mark)
    assert "device identity" in bad.error
    assert not [m for m in log.of_type(ev.Message) if m.id == msg_id]


async def test_keepalive_notices_a_dead_link(
    db: Database, testnet: TestNetServer, admin: Admin
) -> None:
    await admin.create_account(ALICE, "Alice")
    alice, log = await pair_engine(
        db, testnet, admin, ALICE, keepalive_interval=0.2, keepalive_timeout=0.3
    )
    try:
        # The link goes silent without closing; pings go unanswered, and the engine reconnects.
        mark = log.mark()
        await admin.call("POST", f"/accounts/{ALICE}/devices/1/stall")
        await admin.send(ALICE, ALICE_JID, "sent while the link was dead")
        dropped = await log.wait(ev.Disconnected, after=mark)
        assert dropped.will_reconnect
        await log.wait(ev.Connected, after=mark)
        await log.wait(
            ev.Message, lambda m: text_of(m) == "sent while the link was dead", after=mark
        )
    finally:
        await alice.disconnect()


async def test_contact_reinstall_is_an_identity_change(admin: Admin, alice_engine: Engine) -> None:
    await admin.create_account(BOB, "Bob")
    alice, log = alice_engine
    mark = log.mark()
    await admin.send(BOB, ALICE_JID, "before")
    await log.wait(ev.Message, lambda m: text_of(m) == "before", after=mark)
    # Bob wipes his phone and the server announces his new identity.
    await admin.call("POST", f"/accounts/{BOB}/reinstall")
    announced = await log.wait(ev.IdentityChange, lambda c: c.jid.user == BOB, after=mark)
    assert not announced.implicit
    # Our old session is gone: what we send now starts a session with the new identity
    # (seen, and reported, in Bob's new bundle) and the new install can read it.
    mark = log.mark()
    await alice.send_text(JID.parse(BOB_JID), "welcome back")
    changed = await log.wait(ev.IdentityChange, after=mark)
    assert changed.jid.user == BOB and changed.implicit
    await phone_has(admin, BOB, "welcome back")
    await admin.send(BOB, ALICE_JID, "after")
    await log.wait(ev.Message, lambda m: text_of(m) == "after", after=mark)


async def test_announcement_group_refuses_members(
    pair_baileys: PairFn, alice_engine: Engine
) -> None:
    from mautrix_whatsapp_py.whatsapp.send import SendError

    bob = await pair_baileys(BOB, "Bob")
    alice, _ = alice_engine
    group = await bob.group_create("announcements", [ALICE_JID])
    gid = JID.parse(group["id"])
    await alice.send_text(gid, "allowed while open")
    await bob.group_setting_update(group["id"], "announcement")
    with pytest.raises(SendError, match="403"):
        await alice.send_text(gid, "refused: only admins post")


async def test_malformed_stanza_is_skipped(
    testnet: TestNetServer, admin: Admin, alice_engine: Engine
) -> None:
    _, log = alice_engine
    mark = log.mark()
    await admin.call("POST", f"/accounts/{ALICE}/devices/1/garbage")
    await admin.send(ALICE, ALICE_JID, "still here")
    await log.wait(ev.Message, lambda m: text_of(m) == "still here", after=mark)
    assert not [e for e in log.events[mark:] if isinstance(e, ev.Disconnected)]


async def _queued(admin: Admin, phone: str, device_id: int = 1) -> int:
    return int({d["device_id"]: d["queued"] for d in await admin.devices(phone)}[device_id])


async def _wait_queue_empty(admin: Admin, testnet: TestNetServer, phone: str) -> None:
    for _ in range(100):
        if await _queued(admin, phone) == 0:
            return
        await asyncio.sleep(0.1)
    assert testnet.storage is not None
    left = [(q.cls, q.stanza_id) for q in await testnet.storage.queued(phone, 1)]
    raise AssertionError(f"{phone}'s companion never acked everything queued for it: {left}")


async def test_redelivered_message_is_delivered_once(
    testnet: TestNetServer, admin: Admin, alice_engine: Engine
) -> None:
    _, log = alice_engine
    # Our ack of the next message is lost, so the server sends it again after a reconnect;
    # its keys are used up by then, and it was handled: no second event, but an ack.
    await _wait_queue_empty(admin, testnet, ALICE)
    await admin.call("POST", f"/accounts/{ALICE}/devices/1/lose-next-ack")
    mark = log.mark()
    await admin.send(ALICE, ALICE_JID, "exactly once")
    await log.wait(ev.Message, lambda m: text_of(m) == "exactly once", after=mark)
    assert testnet.network is not None
    for _ in range(100):  # the ack goes out after the handlers; wait until it was lost
        if not testnet.network.faults.lose_next_ack:
            break
        await asyncio.sleep(0.05)
    assert await _queued(admin, ALICE) == 1
    await admin.call("POST", f"/accounts/{ALICE}/devices/1/drop")
    await log.wait(ev.Connected, after=mark)
    await _wait_queue_empty(admin, testnet, ALICE)
    assert [text_of(m) for m in log.of_type(ev.Message)].count("exactly once") == 1
    assert not log.of_type(ev.UndecryptableMessage)
