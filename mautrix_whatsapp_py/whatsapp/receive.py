"""Receiving: decrypting messages, receipts, presence and chat states into events.

Each ``enc`` copy is decrypted and its plaintext saved in the same database transaction as the
new Signal state, so a message the server redelivers (because our ack never arrived) is served
from that buffer instead of failing on keys already used. The message is acknowledged only after
its handlers ran. A copy that cannot be decrypted produces a retry receipt to its sender and an
:class:`~.events.UndecryptableMessage` event, never an exception.
"""

from __future__ import annotations

import contextlib
import hashlib
import logging
from typing import TYPE_CHECKING

from . import events as ev
from .adv import verify_device_identity
from .binary import JID, Node
from .binary.jid import GROUP_SERVER
from .errors import NotConnectedError
from .proto import wa_adv_pb2 as adv_pb
from .proto import wa_e2e_pb2 as e2e
from .send import address_of
from .signal.address import SenderKeyName
from .signal.cipher import SessionCipher
from .signal.group import GroupCipher, GroupSessionBuilder
from .signal.keys import raw_public
from .signal.padding import unpad
from .signal.wire import PreKeySignalMessage, SenderKeyDistributionMessage

if TYPE_CHECKING:
    from .client import Client

log = logging.getLogger(__name__)

MAX_RETRIES = 5


class Receiver:
    def __init__(self, client: Client) -> None:
        self.client = client
        self._retry_counts: dict[str, int] = {}

    def source_of(self, node: Node) -> ev.MessageSource | None:
        sender_attr = node.attr_jid("from")
        if sender_attr is None:
            return None
        me = self.client.own_user
        participant = node.attr_jid("participant")
        if sender_attr.server == GROUP_SERVER:
            if participant is None:
                return None
            return ev.MessageSource(
                sender_attr, participant, participant.user == me.user, is_group=True
            )
        from_me = sender_attr.user == me.user
        recipient = node.attr_jid("recipient")
        chat = (
            recipient.to_non_ad() if from_me and recipient is not None else sender_attr.to_non_ad()
        )
        return ev.MessageSource(chat, sender_attr, from_me, is_group=False)

    # -- messages ----------------------------------------------------------------------------

    async def _decrypt(
        self, source: ev.MessageSource, enc: Node, digest: bytes
    ) -> tuple[bytes | None, bool]:
        """Plaintext of one copy (``None`` if it was already handled), and whether the sender's
        identity key changed."""
        device = self.client.device
        data = enc.content if isinstance(enc.content, bytes) else b""
        kind = enc.attr_str("type")
        store = device.signal
        changed = False
        try:
            async with store.transaction():
                if kind == "skmsg":
                    name = SenderKeyName(str(source.chat), address_of(source.sender))
                    raw = await GroupCipher(store, name).decrypt(data)
                elif kind in ("pkmsg", "msg"):
                    cipher = SessionCipher(store, address_of(source.sender))
                    result = await cipher.decrypt(kind, data)  # type: ignore[arg-type]
                    raw, changed = result.plaintext, result.identity_changed
                else:
                    raise ValueError(f"unknown enc type {kind!r}")
                plaintext = unpad(raw)
                await device.buffer_plaintext(digest, plaintext)
        except Exception:
            # A redelivered copy (our ack was lost) fails on keys already used up: its
            # plaintext was kept. Looking only after a failure keeps the usual path short.
            seen, buffered = await device.buffered_plaintext(digest)
            if not seen:
                raise
            return buffered, False
        return plaintext, changed

    async def handle_message(self, node: Node) -> None:
        client = self.client
        source = self.source_of(node)
        if source is None:
            log.warning("message without a usable sender: %s", node)
            await client.send_ack(node)
            return
        msg_id = node.attr_str("id")
        errors: list[str] = []
        decrypted = 0
        adv_error = await self._check_device_identity(node, source)
        if adv_error:
            # A companion that cannot show it belongs to its account gets nothing decrypted.
            log.warning("rejecting %s from %s: %s", msg_id, source.sender, adv_error)
            await client.dispatch(
                ev.UndecryptableMessage(source, msg_id, node.attr_int("t"), adv_error)
            )
            await client.send_ack(node)
            return
        handled: list[bytes] = []
        for enc in node.children_by_tag("enc"):
            data = enc.content if isinstance(enc.content, bytes) else b""
            digest = hashlib.sha256(data).digest()
            try:
                plaintext, changed = await self._decrypt(source, enc, digest)
                message = e2e.Message.FromString(plaintext) if plaintext is not None else None
            except Exception as e:
                # Every failure, whatever its kind, becomes a retry request below.
                errors.append(f"{enc.attr_str('type')}: {type(e).__name__}: {e}")
                continue
            decrypted += 1
            if message is None:
                continue  # a redelivery of a copy whose events were already delivered
            if changed:
                await client.dispatch(ev.IdentityChange(source.sender.to_non_ad()))
            await self._deliver(node, source, msg_id, message)
            handled.append(digest)
        if handled:
            await client.device.mark_handled(handled)
        if errors and not decrypted:
            log.warning(
                "could not decrypt %s from %s: %s", msg_id, source.sender, "; ".join(errors)
            )
            await self.send_retry(node, source)
            await client.dispatch(
                ev.UndecryptableMessage(source, msg_id, node.attr_int("t"), "; ".join(errors))
            )
        elif decrypted:
            await self.send_delivery_receipt(node, source)
        await client.send_ack(node)

    async def _check_device_identity(self, node: Node, source: ev.MessageSource) -> str:
        """Check the signed device identity a companion's prekey message carries.

        The account must have signed the companion's identity key, the companion must have
        counter-signed, and the account key must be the identity of the account's phone if we
        know it. Returns an error, or ``""`` when there is nothing wrong (or nothing to check).
        """
        identity_node = node.child("device-identity")
        if source.sender.device == 0:
            return ""
        prekey_copies = [
            e for e in node.children_by_tag("enc")
            if e.attr_str("type") == "pkmsg" and isinstance(e.content, bytes)
        ]  # fmt: skip
        if not prekey_copies:
            return ""
        if identity_node is None or not isinstance(identity_node.content, bytes):
            return "prekey message from a companion without its device identity"
        try:
            signed = adv_pb.ADVSignedDeviceIdentity.FromString(identity_node.content)
            first = prekey_copies[0].content
            assert isinstance(first, bytes)
            identity = PreKeySignalMessage.parse(first).identity_key
            verify_device_identity(signed, identity)
        except Exception as e:
            return f"device identity does not verify: {e}"
        primary = await self.client.device.signal.get_identity(
            address_of(source.sender.with_device(0))
        )
        if primary is not None and raw_public(primary) != raw_public(signed.account_signature_key):
            return "device identity was signed by another account key"
        return ""

    async def _deliver(
        self, node: Node, source: ev.MessageSource, msg_id: str, message: e2e.Message
    ) -> None:
        if message.HasField("sender_key_distribution_message"):
            skdm = message.sender_key_distribution_message
            group = skdm.group_id or str(source.chat)
            await GroupSessionBuilder(self.client.device.signal).process(
                SenderKeyName(group, address_of(source.sender)),
                SenderKeyDistributionMessage.parse(skdm.axolotl_sender_key_distribution_message),
            )
            message.ClearField("sender_key_distribution_message")
        if message.HasField("message_context_info") and len(message.ListFields()) == 1:
            return
        raw = message
        if message.HasField("device_sent_message"):
            sent = message.device_sent_message
            if sent.destination_jid and not source.is_group:
                source = ev.MessageSource(
                    JID.parse(sent.destination_jid), source.sender, True, False
                )
            message = sent.message
        if not message.ListFields():
            return
        await self.client.dispatch(
            ev.Message(
                source=source,
                id=msg_id,
                timestamp=node.attr_int("t"),
                push_name=node.attr_str("notify"),
                message=message,
                is_offline=bool(node.attr_str("offline")),
                raw=raw,
            )
        )

    async def send_delivery_receipt(self, node: Node, source: ev.MessageSource) -> None:
        if node.attr_str("category") == "peer":
            attrs: dict[str, str | JID] = {
                "id": node.attr_str("id"),
                "to": str(source.sender),
                "type": "peer_msg",
            }
        else:
            attrs = {"id": node.attr_str("id"), "to": str(source.chat)}
            if source.is_group:
                attrs["participant"] = str(source.sender)
            elif source.is_from_me:
                attrs["type"] = "sender"
                attrs["to"] = str(source.sender)
                attrs["recipient"] = str(source.chat)
        with contextlib.suppress(NotConnectedError):
            await self.client.send_node(Node("receipt", attrs))

    async def send_retry(self, node: Node, source: ev.MessageSource) -> None:
        msg_id = node.attr_str("id")
        count = self._retry_counts.get(msg_id, 0) + 1
        self._retry_counts[msg_id] = count
        if count > MAX_RETRIES:
            return
        attrs: dict[str, str | JID] = {"id": msg_id, "type": "retry", "to": str(node.attrs["from"])}
        if source.is_group:
            attrs["participant"] = str(source.sender)
        if node.attr_str("recipient"):
            attrs["recipient"] = node.attr_str("recipient")
        device = self.client.device
        children = [
            Node("retry", {"count": str(count), "id": msg_id, "t": node.attr_str("t"), "v": "1"}),
            Node("registration", {}, device.registration_id.to_bytes(4, "big")),
        ]
        with contextlib.suppress(NotConnectedError):
            await self.client.send_node(Node("receipt", attrs, children))

    # -- receipts ----------------------------------------------------------------------------

    async def handle_receipt(self, node: Node) -> None:
        client = self.client
        try:
            source = self.source_of(node)
            kind = node.attr_str("type")
            if kind == "retry" and source is not None:
                await client.sender.resend(node)
            elif source is not None:
                ids = [node.attr_str("id")]
                items = node.get_path("list")
                if items is not None:
                    ids += [i.attr_str("id") for i in items.children_by_tag("item")]
                await client.dispatch(ev.Receipt(source, ids, kind, node.attr_int("t")))
        finally:
            await client.send_ack(node)

    async def handle_presence(self, node: Node) -> None:
        sender = node.attr_jid("from")
        if sender is None:
            return
        if node.tag == "presence":
            last = node.attr_str("last")
            await self.client.dispatch(
                ev.Presence(
                    sender,
                    node.attr_str("type", "available") != "unavailable",
                    int(last) if last.isdigit() else None,
                )
            )
            return
        source = self.source_of(node)
        if source is None or not node.children:
            return
        state = node.children[0]
        await self.client.dispatch(ev.ChatState(source, state.tag, state.attr_str("media")))
