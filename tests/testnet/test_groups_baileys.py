"""Group management end to end with three real Baileys clients on the test network.

Alice creates a group with Bob, adds Carol, promotes and demotes Bob, edits the description and
the settings, removes Carol and lets her back in with an invite code; Bob finally leaves.
Every change is checked from the *other* members' clients, both through the ``w:gp2``
notifications Baileys turns into events and through a fresh ``groupMetadata`` query, and after
each membership change a group message has to reach exactly the current members (their Baileys
clients and their simulated phones) and nobody else.

The harness gives Baileys no ``cachedGroupMetadata``, so Baileys asks the server for the group's
participants before every group send, as a real client without a cache does; which devices get a
message is decided by the server, so a stale cache could not make a removed member receive one.
"""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from tests.interop.baileys_client import BaileysClient
from tests.interop.node_peer import PeerError

from .conftest import Admin, PairFn, requires_node

pytestmark = requires_node

ALICE, BOB, CAROL = "15550001", "15550002", "15550003"


def jid(phone: str) -> str:
    return f"{phone}@s.whatsapp.net"


# The server rejects what a member may not do with 403 forbidden (or 401 for an admin-only query).
DENIED = "forbidden|not-authorized"


class Members:
    """The three accounts: their Baileys clients, by phone number."""

    def __init__(self, admin: Admin, clients: dict[str, BaileysClient]) -> None:
        self.admin = admin
        self.clients = clients
        self.barriers = 0

    async def seqs(self) -> dict[str, int]:
        return {phone: await c.last_seq() for phone, c in self.clients.items()}

    async def phone_inbox_until(self, phone: str, text: str, chat: str) -> list[dict[str, Any]]:
        """Poll the simulated phone of ``phone`` until it has decrypted ``text`` in ``chat``."""
        inbox: list[dict[str, Any]] = []
        for _ in range(150):
            inbox = await self.admin.messages(phone)
            if any(m["text"] == text and m["chat"] == chat for m in inbox):
                return inbox
            await asyncio.sleep(0.1)
        raise AssertionError(f"phone {phone} never got {text!r} in {chat}: {inbox}")

    async def reaches_exactly(self, sender: str, gid: str, text: str, members: set[str]) -> None:
        """``sender`` sends ``text`` to the group; it must reach ``members`` and no one else.

        For the others a 1:1 message from the sender's phone, sent once every member has the
        group message, serves as a barrier: once it has arrived, so would have the group message
        had the server routed it to them. (It comes from the phone rather than from the sender's
        Baileys because a 1:1 send leaves Baileys' device cache without the recipient's phone,
        device 0, so a later group send would not give that phone the sender key.)
        """
        assert sender in members
        after = await self.seqs()
        msg_id = await self.clients[sender].send_text(gid, text)
        for phone in sorted(members - {sender}):
            got = await self.clients[phone].wait_event(
                "message", {"text": text, "key": {"remoteJid": gid}}, after=after[phone]
            )
            assert got["key"]["id"] == msg_id and got["key"]["participant"] == jid(sender)
        for phone in sorted(members):
            await self.phone_inbox_until(phone, text, gid)
        for phone in sorted(set(self.clients) - members):
            self.barriers += 1
            barrier = f"barrier {self.barriers}"
            await self.admin.send(sender, jid(phone), barrier)
            await self.clients[phone].wait_event("message", {"text": barrier}, after=after[phone])
            texts = [
                e["text"]
                for e in await self.clients[phone].events(after[phone])
                if e["type"] == "message"
            ]
            assert text not in texts, f"{phone} is no member but got {text!r}"
            inbox = await self.phone_inbox_until(phone, barrier, jid(sender))
            assert not any(m["text"] == text for m in inbox), f"phone {phone} got {text!r}"


def roles(meta: dict[str, Any]) -> dict[str, str | None]:
    return {p["id"]: p["admin"] for p in meta["participants"]}


async def test_group_management(pair_baileys: PairFn, admin: Admin) -> None:
    alice = await pair_baileys(ALICE, "Alice")
    bob = await pair_baileys(BOB, "Bob")
    carol = await pair_baileys(CAROL, "Carol")
    net = Members(admin, {ALICE: alice, BOB: bob, CAROL: carol})

    # Alice creates the group with Bob; Bob's client learns of it from the notification.
    after = await net.seqs()
    created = await alice.group_create("Team", [jid(BOB)])
    gid = created["id"]
    assert gid.endswith("@g.us") and created["subject"] == "Team"
    assert roles(created) == {jid(ALICE): "superadmin", jid(BOB): None}
    upsert = await bob.wait_event("group", {"event": "upsert", "id": gid}, after=after[BOB])
    assert upsert["group"]["subject"] == "Team" and upsert["group"]["owner"] == jid(ALICE)
    assert roles(upsert["group"]) == {jid(ALICE): "superadmin", jid(BOB): None}
    assert roles(await bob.group_metadata(gid)) == {jid(ALICE): "superadmin", jid(BOB): None}
    with pytest.raises(PeerError, match=DENIED):
        await carol.group_metadata(gid)
    await net.reaches_exactly(ALICE, gid, "hello team", {ALICE, BOB})

    # Alice adds Carol: Bob and Carol both see it; Carol can read the metadata now.
    after = await net.seqs()
    result = await alice.group_participants_update(gid, [jid(CAROL)], "add")
    assert [(r["jid"], r["status"]) for r in result] == [(jid(CAROL), "200")]
    for phone in (BOB, CAROL):
        event = await net.clients[phone].wait_event(
            "group", {"event": "participants", "id": gid, "action": "add"}, after=after[phone]
        )
        assert event["participants"] == [jid(CAROL)] and event["author"] == jid(ALICE)
        assert set(roles(await net.clients[phone].group_metadata(gid))) == {
            jid(ALICE),
            jid(BOB),
            jid(CAROL),
        }
    # Adding her twice is refused per participant.
    again = await alice.group_participants_update(gid, [jid(CAROL)], "add")
    assert [(r["jid"], r["status"]) for r in again] == [(jid(CAROL), "409")]
    await net.reaches_exactly(ALICE, gid, "welcome carol", {ALICE, BOB, CAROL})
    await net.reaches_exactly(BOB, gid, "hi carol, bob here", {ALICE, BOB, CAROL})
    await net.reaches_exactly(CAROL, gid, "thanks from carol", {ALICE, BOB, CAROL})

    # Bob is not an admin: he may not add or remove anyone.
    with pytest.raises(PeerError, match=DENIED):
        await bob.group_participants_update(gid, [jid(CAROL)], "remove")

    # Promote Bob to admin and demote him again, as Carol and Bob see it.
    for action, role in (("promote", "admin"), ("demote", None)):
        after = await net.seqs()
        result = await alice.group_participants_update(gid, [jid(BOB)], action)
        assert [(r["jid"], r["status"]) for r in result] == [(jid(BOB), "200")]
        for phone in (BOB, CAROL):
            event = await net.clients[phone].wait_event(
                "group", {"event": "participants", "id": gid, "action": action}, after=after[phone]
            )
            assert event["participants"] == [jid(BOB)] and event["author"] == jid(ALICE)
        assert roles(await carol.group_metadata(gid))[jid(BOB)] == role
        assert roles(await bob.group_metadata(gid))[jid(BOB)] == role

    # The description is set and cleared.
    after = await net.seqs()
    await alice.group_update_description(gid, "Our team chat")
    for phone in (BOB, CAROL):
        event = await net.clients[phone].wait_event(
            "group",
            {"event": "update", "id": gid, "group": {"desc": "Our team chat"}},
            after=after[phone],
        )
        assert event["group"]["author"] == jid(ALICE)
        meta = await net.clients[phone].group_metadata(gid)
        assert meta["desc"] == "Our team chat" and meta["descId"]
    after = await net.seqs()
    await alice.group_update_description(gid, None)
    for phone in (BOB, CAROL):
        event = await net.clients[phone].wait_event(
            "group", {"event": "update", "id": gid}, after=after[phone]
        )
        assert event["group"].get("desc") is None and event["group"]["author"] == jid(ALICE)
        assert (await net.clients[phone].group_metadata(gid)).get("desc") is None

    # Settings: announcement mode on and off, locked (only admins edit the group info) and
    # unlocked; Bob, no admin, may change neither, and while locked not the subject either.
    for setting, field, value in (
        ("announcement", "announce", True),
        ("not_announcement", "announce", False),
        ("locked", "restrict", True),
    ):
        after = await net.seqs()
        await alice.group_setting_update(gid, setting)
        for phone in (BOB, CAROL):
            await net.clients[phone].wait_event(
                "group",
                {"event": "update", "id": gid, "group": {field: value}},
                after=after[phone],
            )
            assert (await net.clients[phone].group_metadata(gid))[field] is value
    with pytest.raises(PeerError, match=DENIED):
        await bob.group_setting_update(gid, "unlocked")
    with pytest.raises(PeerError, match=DENIED):
        await bob.group_update_subject(gid, "Bob's group")
    with pytest.raises(PeerError, match=DENIED):
        await bob.group_update_description(gid, "Bob was here")
    meta = await carol.group_metadata(gid)
    assert meta["restrict"] is True and meta["subject"] == "Team" and meta.get("desc") is None
    after = await net.seqs()
    await alice.group_setting_update(gid, "unlocked")
    for phone in (BOB, CAROL):
        await net.clients[phone].wait_event(
            "group",
            {"event": "update", "id": gid, "group": {"restrict": False}},
            after=after[phone],
        )
    assert (await carol.group_metadata(gid))["restrict"] is False
    with pytest.raises(PeerError, match=DENIED):
        await bob.group_setting_update(gid, "announcement")
    # Unlocked, any member may rename the group.
    after = await net.seqs()
    await bob.group_update_subject(gid, "Bob's team")
    for phone in (ALICE, CAROL):
        event = await net.clients[phone].wait_event(
            "group",
            {"event": "update", "id": gid, "group": {"subject": "Bob's team"}},
            after=after[phone],
        )
        assert event["group"]["author"] == jid(BOB)
    meta = await alice.group_metadata(gid)
    assert meta["subject"] == "Bob's team" and meta["subjectOwner"] == jid(BOB)

    # Alice removes Carol: Bob sees it, Carol is told too and is shut out afterwards.
    after = await net.seqs()
    result = await alice.group_participants_update(gid, [jid(CAROL)], "remove")
    assert [(r["jid"], r["status"]) for r in result] == [(jid(CAROL), "200")]
    for phone in (BOB, CAROL):
        event = await net.clients[phone].wait_event(
            "group", {"event": "participants", "id": gid, "action": "remove"}, after=after[phone]
        )
        assert event["participants"] == [jid(CAROL)] and event["author"] == jid(ALICE)
    assert set(roles(await bob.group_metadata(gid))) == {jid(ALICE), jid(BOB)}
    with pytest.raises(PeerError, match=DENIED):
        await carol.group_metadata(gid)
    with pytest.raises(PeerError, match=DENIED):
        await carol.send_text(gid, "am I still here?")
    await net.reaches_exactly(ALICE, gid, "carol has gone", {ALICE, BOB})
    await net.reaches_exactly(BOB, gid, "bob agrees", {ALICE, BOB})

    # The invite code: only admins get it (401 for other members, 403 for outsiders), an
    # unknown code is refused, and Carol joins with Alice's.
    code = await alice.group_invite_code(gid)
    assert code
    with pytest.raises(PeerError, match="not-authorized"):
        await bob.group_invite_code(gid)
    with pytest.raises(PeerError, match="forbidden"):
        await carol.group_invite_code(gid)
    with pytest.raises(PeerError, match="not-acceptable"):
        await carol.group_accept_invite("not-a-code")
    after = await net.seqs()
    assert await carol.group_accept_invite(code) == gid
    for phone in (ALICE, BOB):
        event = await net.clients[phone].wait_event(
            "group", {"event": "participants", "id": gid, "action": "add"}, after=after[phone]
        )
        assert event["participants"] == [jid(CAROL)]
    carol_meta = await carol.group_metadata(gid)
    assert roles(carol_meta) == {jid(ALICE): "superadmin", jid(BOB): None, jid(CAROL): None}
    await net.reaches_exactly(ALICE, gid, "welcome back carol", {ALICE, BOB, CAROL})

    # Bob leaves; Baileys reports that as a 'remove' of Bob by Bob himself.
    after = await net.seqs()
    await bob.group_leave(gid)
    for phone in (ALICE, CAROL):
        event = await net.clients[phone].wait_event(
            "group", {"event": "participants", "id": gid}, after=after[phone]
        )
        assert event["action"] in ("remove", "leave")
        assert event["participants"] == [jid(BOB)] and event["author"] == jid(BOB)
    await bob.wait_event(
        "group",
        {"event": "participants", "id": gid, "participants": [jid(BOB)]},
        after=after[BOB],
    )
    assert set(roles(await alice.group_metadata(gid))) == {jid(ALICE), jid(CAROL)}
    with pytest.raises(PeerError, match=DENIED):
        await bob.group_metadata(gid)
    await net.reaches_exactly(ALICE, gid, "just us two", {ALICE, CAROL})
    await net.reaches_exactly(CAROL, gid, "indeed", {ALICE, CAROL})
