"""Real Baileys clients use two features of the test network that go through the server alone:
app state (chat settings one companion changes reach the account's other companions, now and
when linked later) and profile pictures (set by one account, fetched and downloaded by another).
"""

from __future__ import annotations

import ssl
import time
from pathlib import Path
from typing import Any

import aiohttp
import pytest

from mautrix_whatsapp_py.testnet.server import TestNetServer
from tests.interop.baileys_client import BaileysClient
from tests.interop.node_peer import PeerError

from .conftest import Admin, LinkFn, PairFn, phone_has, requires_node, wait_not_buffering

pytestmark = requires_node

ALICE, BOB = "15550201", "15550202"
ALICE_JID, BOB_JID = f"{ALICE}@s.whatsapp.net", f"{BOB}@s.whatsapp.net"


async def _chat_update(
    client: BaileysClient, after: int, fields: dict[str, Any], event: str = "update"
) -> dict[str, Any]:
    """The first ``chats`` event after ``after`` whose chat with Bob has ``fields``."""
    got = await client.wait_event(
        "chats", {"event": event, "chats": [{"id": BOB_JID, **fields}]}, after=after
    )
    chat: dict[str, Any] = got["chats"][0]
    return chat


# -- app state -----------------------------------------------------------------------------------


async def test_app_state_reaches_other_and_later_companions(
    pair_baileys: PairFn,
    testnet: TestNetServer,
    admin: Admin,
    tmp_path: Path,
    link_companion: LinkFn,
) -> None:
    a1 = await pair_baileys(ALICE, "Alice")
    bob = await pair_baileys(BOB, "Bob")
    # A chat with Bob, which the phone hands to companions linked later as history.
    after = await bob.last_seq()
    await a1.send_text(BOB_JID, "hi bob")
    await bob.wait_event("message", {"text": "hi bob"}, after=after)
    await phone_has(admin, ALICE, "hi bob")

    a2 = await link_companion(ALICE)
    await wait_not_buffering(a2)

    # A1 mutes the chat (collection regular_high): A2 is told to resync and applies the patch.
    mute_end = int(time.time() * 1000) + 8 * 3600 * 1000
    after1, after2 = await a1.last_seq(), await a2.last_seq()
    await a1.chat_modify({"mute": mute_end}, BOB_JID)
    await _chat_update(a1, after1, {"muteEndTime": mute_end})  # Baileys' own event
    await _chat_update(a2, after2, {"muteEndTime": mute_end})

    # The other way round, in another collection (regular_low): A2 pins, A1 sees it.
    after1, after2 = await a1.last_seq(), await a2.last_seq()
    await a2.chat_modify({"pin": True}, BOB_JID)
    pinned = (await _chat_update(a2, after2, {}))["pinned"]
    assert pinned
    await _chat_update(a1, after1, {"pinned": pinned})

    # A second patch to a collection builds on the first: A1 changes the mute again.
    later_end = mute_end + 3600 * 1000
    after2 = await a2.last_seq()
    await a1.chat_modify({"mute": later_end}, BOB_JID)
    await _chat_update(a2, after2, {"muteEndTime": later_end})

    # A third companion linked now gets all of it on its initial sync (patches from version 0),
    # folded into the chat its history brought.
    a3 = await link_companion(ALICE)
    history = await a3.wait_event("history", timeout=30)
    await wait_not_buffering(a3)
    chats = {c["id"]: c for c in history["chatList"]}
    assert BOB_JID in chats, history["chatList"]
    assert chats[BOB_JID]["muteEndTime"] == later_end, chats[BOB_JID]
    assert chats[BOB_JID]["pinned"] == pinned, chats[BOB_JID]


# -- profile pictures ----------------------------------------------------------------------------


def _segment(marker: int, body: bytes) -> bytes:
    return bytes([0xFF, marker]) + (len(body) + 2).to_bytes(2, "big") + body


def _tiny_jpeg() -> bytes:
    """A valid 8x8 mid-grey baseline JPEG: every coefficient is zero, so each Huffman table
    needs a single one-bit code and the scan is one byte."""
    segment = _segment
    return b"".join(
        [
            b"\xff\xd8",  # SOI
            segment(0xE0, b"JFIF\x00\x01\x01\x00\x00\x01\x00\x01\x00\x00"),
            segment(0xDB, b"\x00" + b"\x01" * 64),  # quantisation table 0
            segment(0xC0, b"\x08\x00\x08\x00\x08\x01\x01\x11\x00"),  # 8x8, one component
            segment(0xC4, b"\x00" + b"\x01" + b"\x00" * 15 + b"\x00"),  # DC: category 0 = "0"
            segment(0xC4, b"\x10" + b"\x01" + b"\x00" * 15 + b"\x00"),  # AC: EOB = "0"
            segment(0xDA, b"\x01\x01\x00\x00\x3f\x00"),
            b"\x3f",  # DC "0", EOB "0", padded with ones
            b"\xff\xd9",  # EOI
        ]
    )


async def test_profile_picture_set_fetched_and_downloaded(
    pair_baileys: PairFn, testnet: TestNetServer
) -> None:
    alice = await pair_baileys(ALICE, "Alice")
    bob = await pair_baileys(BOB, "Bob")
    with pytest.raises(PeerError, match="item-not-found"):
        await bob.profile_picture_url(ALICE_JID, "image")

    jpeg = _tiny_jpeg()
    after = await bob.last_seq()
    await alice.set_profile_picture(ALICE_JID, jpeg)
    # The server tells others the picture changed; Baileys reports it as a contact update.
    await bob.wait_event(
        "contacts", {"contacts": [{"id": ALICE_JID, "imgUrl": "changed"}]}, after=after
    )

    url = await bob.profile_picture_url(ALICE_JID, "image")
    assert url is not None and url.startswith("https://"), url
    tls = ssl.create_default_context(cafile=testnet.info["tls_cert"])
    async with aiohttp.ClientSession() as session, session.get(url, ssl=tls) as resp:
        assert resp.status == 200
        assert await resp.read() == jpeg
