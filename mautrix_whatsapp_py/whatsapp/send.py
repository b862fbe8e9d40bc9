"""Sending messages: one Signal copy per recipient device, or one sender-key copy per group.

A 1:1 message goes to every device of the recipient and to our own other devices (those get it
wrapped as "sent by me to X"). A group message is encrypted once with our sender key; members'
devices that do not have that key yet get it first, pairwise. Prekey messages carry our signed
device identity so that recipients can check we belong to our account. The send completes when
the server acks it. Recently sent messages are kept so that a retry receipt can be answered
with a fresh copy.
"""

from __future__ import annotations

import asyncio
import logging
import os
import time
from collections import OrderedDict
from dataclasses import dataclass
from typing import TYPE_CHECKING

from .binary import JID, Node
from .binary.jid import GROUP_SERVER
from .events import IdentityChange
from .prekeys import fetch_bundles
from .proto import wa_e2e_pb2 as e2e
from .signal.address import ProtocolAddress, SenderKeyName
from .signal.cipher import SessionCipher
from .signal.group import GroupCipher, GroupSessionBuilder
from .signal.padding import pad

if TYPE_CHECKING:
    from .client import Client

log = logging.getLogger(__name__)

ACK_TIMEOUT = 30.0
RECENT_LIMIT = 1000


class SendError(Exception):
    """The server refused a message."""


@dataclass(frozen=True, slots=True)
class SendResult:
    id: str
    timestamp: int


def new_message_id() -> str:
    return "3EB0" + os.urandom(9).hex().upper()


def address_of(jid: JID) -> ProtocolAddress:
    return ProtocolAddress(jid.signal_address_user(), jid.device)


def message_type(message: e2e.Message) -> str:
    if message.HasField("image_message"):
        return "media"
    if message.HasField("reaction_message"):
        return "reaction"
    return "text"


class Sender:
    def __init__(self, client: Client) -> None:
        self.client = client
        self._acks: dict[str, asyncio.Future[Node]] = {}
        self._recent: OrderedDict[str, tuple[JID, e2e.Message]] = OrderedDict()
        self._sender_key_holders: dict[JID, set[JID]] = {}
        self._members: dict[JID, list[JID]] = {}

    def on_ack(self, node: Node) -> None:
        if node.attr_str("class") != "message":
            return
        future = self._acks.pop(node.attr_str("id"), None)
        if future is not None and not future.done():
            future.set_result(node)

    def forget_group(self, group: JID) -> None:
        """Membership changed: re-read members, and re-share our sender key with new ones."""
        self._members.pop(group, None)

    def remember(self, msg_id: str, chat: JID, message: e2e.Message) -> None:
        self._recent[msg_id] = (chat, message)
        while len(self._recent) > RECENT_LIMIT:
            self._recent.popitem(last=False)

    # -- public API --------------------------------------------------------------------------

    async def send(self, to: JID, message: e2e.Message, msg_id: str | None = None) -> SendResult:
        msg_id = msg_id or new_message_id()
        self.remember(msg_id, to, message)
        if to.server == GROUP_SERVER:
            node = await self._group_stanza(to, message, msg_id)
        else:
            node = await self._direct_stanza(to, message, msg_id)
        future: asyncio.Future[Node] = asyncio.get_running_loop().create_future()
        self._acks[msg_id] = future
        try:
            await self.client.send_node(node)
            async with asyncio.timeout(ACK_TIMEOUT):
                ack = await future
        finally:
            self._acks.pop(msg_id, None)
        if ack.attr_str("error"):
            raise SendError(f"server refused message {msg_id}: error {ack.attr_str('error')}")
        return SendResult(msg_id, ack.attr_int("t", int(time.time())))

    # -- encryption ----------------------------------------------------------------------------

    async def _ensure_sessions(self, devices: list[JID], force: bool = False) -> set[JID]:
        """Start sessions (from fetched bundles) with the devices that lack one; returns the
        devices that have a session afterwards."""
        store = self.client.device.signal
        ready: set[JID] = set()
        missing: list[JID] = []
        for device in devices:
            if not force and await SessionCipher(store, address_of(device)).has_session():
                ready.add(device)
            else:
                missing.append(device)
        if not missing:
            return ready
        bundles = await fetch_bundles(self.client, missing)
        for jid, bundle in bundles.items():
            changed = await SessionCipher(store, address_of(jid)).process_bundle(bundle)
            ready.add(jid)
            if changed:
                await self.client.dispatch(IdentityChange(jid.to_non_ad()))
        return ready

    async def _encrypt(self, device: JID, plaintext: bytes) -> Node:
        result = await SessionCipher(self.client.device.signal, address_of(device)).encrypt(
            pad(plaintext)
        )
        return Node("enc", {"v": "2", "type": result.type}, result.ciphertext)

    async def _participants(
        self, devices: list[JID], plaintext_for: dict[bool, bytes]
    ) -> tuple[list[Node], bool]:
        """``to`` nodes for ``devices``; ``plaintext_for[is_own_device]`` is what each gets."""
        ready = await self._ensure_sessions(devices)
        own_user = self.client.own_user.user
        nodes: list[Node] = []
        any_prekey = False
        for device in devices:
            if device not in ready:
                log.warning("no session with %s (no prekey bundle); skipping it", device)
                continue
            enc = await self._encrypt(device, plaintext_for[device.user == own_user])
            any_prekey = any_prekey or enc.attr_str("type") == "pkmsg"
            nodes.append(Node("to", {"jid": str(device)}, [enc]))
        return nodes, any_prekey

    def _device_identity(self) -> Node:
        account = self.client.device.account
        return Node("device-identity", {}, account.SerializeToString() if account else b"")

    def _recipients(self, devices: list[JID]) -> list[JID]:
        me = self.client.jid
        return [
            d
            for d in devices
            if not (me is not None and d.user == me.user and d.device == me.device)
        ]

    async def _direct_stanza(self, to: JID, message: e2e.Message, msg_id: str) -> Node:
        to = to.to_non_ad()
        devices = self._recipients(
            await self.client.device_lists.devices([to, self.client.own_user])
        )
        sent = e2e.Message(
            device_sent_message=e2e.Message.DeviceSentMessage(
                destination_jid=str(to), message=message
            )
        )
        participants, any_prekey = await self._participants(
            devices, {False: message.SerializeToString(), True: sent.SerializeToString()}
        )
        children = [Node("participants", {}, participants)]
        if any_prekey:
            children.append(self._device_identity())
        return Node(
            "message", {"to": str(to), "id": msg_id, "type": message_type(message)}, children
        )

    async def group_members(self, group: JID) -> list[JID]:
        members = self._members.get(group)
        if members is None:
            answer = await self.client.query(
                Node(
                    "iq",
                    {"to": str(group), "type": "get", "xmlns": "w:g2"},
                    [Node("query", {"request": "interactive"})],
                )
            )
            info = answer.child("group")
            members = [
                jid
                for p in (info.children_by_tag("participant") if info is not None else ())
                if (jid := p.attr_jid("jid")) is not None
            ]
            self._members[group] = members
        return members

    async def _group_stanza(self, group: JID, message: e2e.Message, msg_id: str) -> Node:
        client = self.client
        store = client.device.signal
        me = client.jid
        assert me is not None
        name = SenderKeyName(str(group), address_of(me))
        distribution = await GroupSessionBuilder(store).create(name)
        members = await self.group_members(group)
        devices = self._recipients(await client.device_lists.devices([*members, client.own_user]))
        holders = self._sender_key_holders.setdefault(group, set())
        needing = [d for d in devices if d not in holders]
        children: list[Node] = []
        any_prekey = False
        if needing:
            skdm = e2e.Message(
                sender_key_distribution_message=e2e.Message.SenderKeyDistributionMessage(
                    group_id=str(group),
                    axolotl_sender_key_distribution_message=distribution.serialize(),
                )
            ).SerializeToString()
            participants, any_prekey = await self._participants(needing, {False: skdm, True: skdm})
            children.append(Node("participants", {}, participants))
            holders.update(JID.parse(p.attr_str("jid")) for p in participants)
        ciphertext = await GroupCipher(store, name).encrypt(pad(message.SerializeToString()))
        children.append(Node("enc", {"v": "2", "type": "skmsg"}, ciphertext))
        if any_prekey:
            children.append(self._device_identity())
        return Node(
            "message", {"to": str(group), "id": msg_id, "type": message_type(message)}, children
        )

    # -- retries -------------------------------------------------------------------------------

    async def resend(self, receipt: Node) -> None:
        """Answer a retry receipt: a fresh session and a pairwise copy for that one device."""
        msg_id = receipt.attr_str("id")
        found = self._recent.get(msg_id)
        chat = receipt.attr_jid("from")
        requester = (
            receipt.attr_jid("participant") if chat and chat.server == GROUP_SERVER else chat
        )
        if found is None or requester is None or chat is None:
            log.info("cannot answer retry for %s: message not in the recent cache", msg_id)
            return
        original_chat, message = found
        await self._ensure_sessions([requester], force=True)
        content = message
        if requester.user == self.client.own_user.user and original_chat.server != GROUP_SERVER:
            content = e2e.Message(
                device_sent_message=e2e.Message.DeviceSentMessage(
                    destination_jid=str(original_chat), message=message
                )
            )
        if original_chat.server == GROUP_SERVER:
            me = self.client.jid
            assert me is not None
            distribution = await GroupSessionBuilder(self.client.device.signal).create(
                SenderKeyName(str(original_chat), address_of(me))
            )
            content = e2e.Message()
            content.CopyFrom(message)
            content.sender_key_distribution_message.group_id = str(original_chat)
            content.sender_key_distribution_message.axolotl_sender_key_distribution_message = (
                distribution.serialize()
            )
        enc = await self._encrypt(requester, content.SerializeToString())
        attrs: dict[str, str | JID] = {"id": msg_id, "type": message_type(message)}
        if original_chat.server == GROUP_SERVER:
            attrs |= {"to": str(original_chat), "participant": str(requester)}
        else:
            attrs["to"] = str(requester)
            if requester.user == self.client.own_user.user:
                attrs["recipient"] = str(original_chat)
        children = [Node("participants", {}, [Node("to", {"jid": str(requester)}, [enc])])]
        if enc.attr_str("type") == "pkmsg":
            children.append(self._device_identity())
        await self.client.send_node(Node("message", attrs, children))
