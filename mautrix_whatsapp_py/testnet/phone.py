"""The simulated primary phone of an account: a real Signal participant inside the server.

It holds the account key (its identity key, which also signs companions), encrypts what it
sends to every device of the recipient and of its own account, decrypts what it receives and
answers with receipts, hands newly linked companions the app state key and their history, and
re-sends on retry receipts.
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
import os
import zlib
from typing import TYPE_CHECKING

from ..whatsapp.adv import sign_key_index_list
from ..whatsapp.binary import JID, Node, unmarshal
from ..whatsapp.binary.jid import GROUP_SERVER
from ..whatsapp.media_crypto import MediaType, encrypt_media_async
from ..whatsapp.proto import wa_e2e_pb2 as e2e
from ..whatsapp.send import new_message_id
from ..whatsapp.signal.address import ProtocolAddress, SenderKeyName
from ..whatsapp.signal.cipher import SessionCipher
from ..whatsapp.signal.group import GroupCipher, GroupSessionBuilder
from ..whatsapp.signal.keys import KeyPair, PreKeyBundle, generate_signed_prekey
from ..whatsapp.signal.padding import pad, unpad
from ..whatsapp.signal.wire import SenderKeyDistributionMessage
from ..whatsapp.store.signal_store import SQLSignalStore
from .routing import route_message, route_receipt
from .storage import Account, Device, now

if TYPE_CHECKING:
    from .network import Network

log = logging.getLogger(__name__)


class Phone:
    """Device 0 of one account."""

    def __init__(
        self, network: Network, account: Account, store: SQLSignalStore, key: KeyPair
    ) -> None:
        self.network = network
        self.account = account
        self.store = store
        self.key = key
        self.sent: dict[str, tuple[str, bytes]] = {}
        self._drain_lock = asyncio.Lock()

    @property
    def phone(self) -> str:
        return self.account.phone

    @property
    def jid(self) -> str:
        return self.account.jid

    @property
    def raw_id(self) -> int:
        return int.from_bytes(hashlib.sha256(self.phone.encode()).digest()[:4], "big")

    @classmethod
    async def load(cls, network: Network, account: Account) -> Phone:
        store = await SQLSignalStore.load(network.storage.db, account.jid)
        if store is None:
            store = await SQLSignalStore.create(network.storage.db, account.jid)
        phone = cls(network, account, store, await store.get_identity_key_pair())
        await phone._ensure_device_row()
        return phone

    async def _ensure_device_row(self) -> None:
        if await self.network.storage.get_device(self.phone, 0) is not None:
            return
        identity = await self.store.get_identity_key_pair()
        signed = generate_signed_prekey(identity, 1, now())
        await self.store.store_signed_prekey(signed)
        prekeys = await self.store.generate_prekeys(50)
        await self.network.storage.put_device(
            Device(
                phone=self.phone,
                device_id=0,
                noise_key=None,
                identity_key=identity.public,
                registration_id=await self.store.get_local_registration_id(),
                skey_id=signed.key_id,
                skey_pub=signed.key_pair.public,
                skey_sig=signed.signature,
                key_index=0,
                platform="android",
                push_name=self.account.push_name,
                device_identity=None,
                created=now(),
            )
        )
        await self.network.storage.add_prekeys(
            self.phone, 0, [(p.key_id, p.key_pair.public) for p in prekeys]
        )

    async def reinstall(self) -> None:
        """The phone is wiped and registered again: new identity (so new account key), new
        prekeys, every companion unlinked, and everyone told the identity changed."""
        network = self.network
        for device in await network.storage.devices_of(self.phone):
            if device.device_id:
                await network.unlink(self.phone, device.device_id)
        await self.store.delete_account()
        await network.storage.remove_device(self.phone, 0)
        self.store = await SQLSignalStore.create(network.storage.db, self.account.jid)
        self.key = await self.store.get_identity_key_pair()
        self.sent.clear()
        await self._ensure_device_row()
        note = network.notification("encrypt", self.jid, [Node("identity", {})])
        for account in await network.storage.list_accounts():
            if account.phone != self.phone:
                await network.deliver_to_user(account.phone, note)

    def signed_key_index_list(self, valid: list[int]) -> bytes:
        return sign_key_index_list(self.key, self.raw_id, now(), max(valid, default=0), valid)

    # -- sending -----------------------------------------------------------------------------

    async def _session_for(self, phone: str, device: Device, fresh: bool = False) -> SessionCipher:
        address = ProtocolAddress(phone, device.device_id)
        cipher = SessionCipher(self.store, address)
        if fresh or not await cipher.has_session():
            prekey = await self.network.take_prekey(phone, device.device_id)
            bundle = PreKeyBundle(
                registration_id=device.registration_id,
                device_id=device.device_id,
                identity_key=device.identity_key,
                signed_prekey_id=device.skey_id,
                signed_prekey=device.skey_pub,
                signed_prekey_signature=device.skey_sig,
                prekey_id=prekey[0] if prekey else None,
                prekey=prekey[1] if prekey else None,
            )
            await cipher.process_bundle(bundle)
        return cipher

    async def _enc(self, phone: str, device: Device, plaintext: bytes, fresh: bool = False) -> Node:
        cipher = await self._session_for(phone, device, fresh)
        result = await cipher.encrypt(pad(plaintext))
        return Node("enc", {"v": "2", "type": result.type}, result.ciphertext)

    async def send(self, to: str, message: e2e.Message, msg_id: str | None = None) -> str:
        """Encrypt ``message`` for every device that should get it and route it."""
        msg_id = msg_id or new_message_id()
        chat = JID.parse(to)
        plaintext = message.SerializeToString()
        participants: list[Node] = []
        children: list[Node] = []
        own = [d for d in await self.network.storage.devices_of(self.phone) if d.device_id]
        if chat.server == GROUP_SERVER:
            group = await self.network.storage.get_group(str(chat))
            if group is None:
                raise ValueError(f"no group {to}")
            name = SenderKeyName(str(chat), ProtocolAddress(self.phone, 0))
            skdm = await GroupSessionBuilder(self.store).create(name)
            dist = e2e.Message(
                sender_key_distribution_message=e2e.Message.SenderKeyDistributionMessage(
                    group_id=str(chat), axolotl_sender_key_distribution_message=skdm.serialize()
                )
            ).SerializeToString()
            for member in group.members:
                for device in await self.network.storage.devices_of(member):
                    if (member, device.device_id) == (self.phone, 0):
                        continue
                    enc = await self._enc(member, device, dist)
                    participants.append(Node("to", {"jid": device.jid}, [enc]))
            skmsg = await GroupCipher(self.store, name).encrypt(pad(plaintext))
            children.append(Node("enc", {"v": "2", "type": "skmsg"}, skmsg))
        else:
            recipient = await self.network.resolve_user(chat)
            if recipient is None:
                raise ValueError(f"no account for {to}")
            sent = e2e.Message(
                device_sent_message=e2e.Message.DeviceSentMessage(
                    destination_jid=str(chat), message=message
                )
            ).SerializeToString()
            for device in await self.network.storage.devices_of(recipient):
                enc = await self._enc(recipient, device, plaintext)
                participants.append(Node("to", {"jid": device.jid}, [enc]))
            for device in own:
                enc = await self._enc(self.phone, device, sent)
                participants.append(Node("to", {"jid": device.jid}, [enc]))
        node = Node(
            "message",
            {"to": str(chat), "id": msg_id, "type": "text"},
            [Node("participants", {}, participants), *children],
        )
        self.sent[msg_id] = (str(chat), plaintext)
        await self.network.storage.add_inbox(
            self.phone, str(chat), self.jid, msg_id, now(), plaintext
        )
        await route_message(self.network, (self.phone, 0), node)
        return msg_id

    async def send_text(self, to: str, text: str) -> str:
        return await self.send(to, e2e.Message(conversation=text))

    async def send_to_companion(self, device: Device, message: e2e.Message) -> None:
        """A peer message (protocol data) from the phone to one of its own companions."""
        enc = await self._enc(self.phone, device, message.SerializeToString())
        node = Node(
            "message",
            {
                "from": self.jid,
                "id": new_message_id(),
                "type": "text",
                "t": str(now()),
                "category": "peer",
                "notify": self.account.push_name,
            },
            [enc],
        )
        await self.network.deliver(self.phone, device.device_id, node)

    # -- companions --------------------------------------------------------------------------

    async def app_state_key(self) -> tuple[bytes, bytes]:
        name = f"appstate:{self.phone}"
        value = await self.network.storage.get_server_key(name)
        if value is None:
            value = os.urandom(6) + os.urandom(32)
            await self.network.storage.put_server_key(name, value)
        return value[:6], value[6:]

    async def welcome_companion(self, device: Device) -> None:
        """What a real phone sends a newly linked companion: the app state key, then history."""
        key_id, key_data = await self.app_state_key()
        devices = [d.key_index for d in await self.network.storage.devices_of(self.phone)]
        share = e2e.Message.ProtocolMessage(
            type=e2e.Message.ProtocolMessage.APP_STATE_SYNC_KEY_SHARE,
            app_state_sync_key_share=e2e.Message.AppStateSyncKeyShare(
                keys=[
                    e2e.Message.AppStateSyncKey(
                        key_id=e2e.Message.AppStateSyncKeyId(key_id=key_id),
                        key_data=e2e.Message.AppStateSyncKeyData(
                            key_data=key_data,
                            fingerprint=e2e.Message.AppStateSyncKeyFingerprint(
                                raw_id=self.raw_id, current_index=0, device_indexes=devices
                            ),
                            timestamp=now() * 1000,
                        ),
                    )
                ]
            ),
        )
        await self.send_to_companion(device, e2e.Message(protocol_message=share))
        history = await self._history()
        blob = await encrypt_media_async(
            zlib.compress(history.SerializeToString()), MediaType.HISTORY
        )
        direct_path = await self.network.media.store_blob(blob.blob, MediaType.HISTORY.upload_path)
        notification = e2e.Message.ProtocolMessage(
            type=e2e.Message.ProtocolMessage.HISTORY_SYNC_NOTIFICATION,
            history_sync_notification=e2e.Message.HistorySyncNotification(
                file_sha256=blob.file_sha256,
                file_length=blob.file_length,
                media_key=blob.media_key,
                file_enc_sha256=blob.file_enc_sha256,
                direct_path=direct_path,
                sync_type=e2e.HistorySync.INITIAL_BOOTSTRAP,
                chunk_order=0,
                progress=100,
            ),
        )
        await self.send_to_companion(device, e2e.Message(protocol_message=notification))

    async def _history(self) -> e2e.HistorySync:
        conversations: dict[str, e2e.Conversation] = {}
        for order, item in enumerate(await self.network.storage.inbox(self.phone)):
            try:
                message = e2e.Message.FromString(item["message"])
            except Exception:
                continue
            if message.HasField("device_sent_message"):
                message = message.device_sent_message.message
            chat = item["chat"]
            conv = conversations.setdefault(chat, e2e.Conversation(id=chat))
            from_me = item["sender"] == self.jid
            info = e2e.WebMessageInfo(
                key=e2e.MessageKey(remote_jid=chat, from_me=from_me, id=item["id"]),
                message=message,
                message_timestamp=item["t"],
            )
            if JID.parse(chat).server == GROUP_SERVER and not from_me:
                info.participant = item["sender"]
                info.key.participant = item["sender"]
            conv.messages.add(message=info, msg_order_id=order)
            conv.conversation_timestamp = item["t"]
        pushnames = [
            e2e.Pushname(id=a.jid, pushname=a.push_name)
            for a in await self.network.storage.list_accounts()
        ]
        return e2e.HistorySync(
            sync_type=e2e.HistorySync.INITIAL_BOOTSTRAP,
            conversations=list(conversations.values()),
            chunk_order=0,
            progress=100,
            pushnames=pushnames,
        )

    # -- receiving ---------------------------------------------------------------------------

    async def drain(self) -> None:
        """Handle everything queued for this phone, in order, acking each when done."""
        async with self._drain_lock:
            storage = self.network.storage
            for item in await storage.queued(self.phone, 0):
                await self.receive(unmarshal(item.stanza))
                await storage.dequeue(
                    self.phone,
                    0,
                    item.cls,
                    item.stanza_id,
                    item.sender,
                    item.participant,
                    item.kind,
                )

    async def receive(self, node: Node) -> None:
        try:
            if node.tag == "message":
                await self._receive_message(node)
            elif node.tag == "receipt" and node.attr_str("type") == "retry":
                await self._resend(node)
        except Exception:
            log.exception("phone %s failed to handle %s", self.phone, node.tag)

    async def _receive_message(self, node: Node) -> None:
        sender = node.attr_jid("participant") or node.attr_jid("from")
        chat = node.attr_jid("from")
        if sender is None or chat is None:
            return
        address = ProtocolAddress(sender.signal_address_user(), sender.device)
        msg_id = node.attr_str("id")
        decrypted = failed = False
        # In order: the pairwise copy may carry the sender key the group copy needs.
        for enc in node.children_by_tag("enc"):
            data = enc.content if isinstance(enc.content, bytes) else b""
            kind = enc.attr_str("type")
            try:
                if kind == "skmsg":
                    name = SenderKeyName(str(chat), address)
                    raw = await GroupCipher(self.store, name).decrypt(data)
                else:
                    result = await SessionCipher(self.store, address).decrypt(kind, data)  # type: ignore[arg-type]
                    raw = result.plaintext
                message = e2e.Message.FromString(unpad(raw))
            except Exception as e:
                log.info("phone %s could not decrypt %s from %s: %s", self.phone, kind, sender, e)
                failed = True
                continue
            decrypted = True
            if message.HasField("sender_key_distribution_message"):
                skdm = message.sender_key_distribution_message
                await GroupSessionBuilder(self.store).process(
                    SenderKeyName(skdm.group_id or str(chat), address),
                    SenderKeyDistributionMessage.parse(
                        skdm.axolotl_sender_key_distribution_message
                    ),
                )
                message.ClearField("sender_key_distribution_message")
            if message.ListFields():
                chat_jid = node.attr_str("recipient") or str(chat.to_non_ad())
                await self.network.storage.add_inbox(
                    self.phone,
                    chat_jid,
                    str(sender.to_non_ad()),
                    msg_id,
                    node.attr_int("t", now()),
                    message.SerializeToString(),
                )
        if failed and not decrypted:
            retry = Node(
                "receipt",
                {
                    "id": msg_id,
                    "to": str(chat),
                    "type": "retry",
                    **({"participant": str(sender)} if chat.server == GROUP_SERVER else {}),
                },
                [
                    Node("retry", {"count": "1", "id": msg_id, "t": node.attr_str("t"), "v": "1"}),
                    Node(
                        "registration",
                        {},
                        (await self.store.get_local_registration_id()).to_bytes(4, "big"),
                    ),
                ],
            )
            await route_receipt(self.network, (self.phone, 0), retry)
            return
        receipt_attrs = {
            "id": msg_id,
            "to": str(chat.to_non_ad()) if chat.server != GROUP_SERVER else str(chat),
        }
        if chat.server == GROUP_SERVER:
            receipt_attrs["participant"] = str(sender.to_non_ad())
        if sender.user != self.phone:
            await route_receipt(self.network, (self.phone, 0), Node("receipt", receipt_attrs))

    async def _sent_from_inbox(self, msg_id: str) -> tuple[str, bytes] | None:
        """What this phone sent as ``msg_id``, from storage (after a restart the cache is empty)."""
        for item in await self.network.storage.inbox(self.phone):
            if item["id"] == msg_id and item["sender"] == self.jid:
                return item["chat"], item["message"]
        return None

    async def _resend(self, node: Node) -> None:
        msg_id = node.attr_str("id")
        found = self.sent.get(msg_id) or await self._sent_from_inbox(msg_id)
        requester = node.attr_jid("participant") or node.attr_jid("from")
        if found is None or requester is None:
            return
        chat, plaintext = found
        phone = await self.network.resolve_user(requester)
        device = await self.network.storage.get_device(phone, requester.device) if phone else None
        if device is None or phone is None:
            return
        if phone == self.phone:
            plaintext = e2e.Message(
                device_sent_message=e2e.Message.DeviceSentMessage(
                    destination_jid=chat, message=e2e.Message.FromString(plaintext)
                )
            ).SerializeToString()
        enc = await self._enc(phone, device, plaintext, fresh=True)
        in_group = JID.parse(chat).server == GROUP_SERVER
        attrs = {"to": chat if in_group else device.jid, "id": msg_id, "type": "text"}
        if in_group:
            attrs["participant"] = device.jid
        elif phone == self.phone:
            attrs["recipient"] = chat
        node = Node(
            "message", attrs, [Node("participants", {}, [Node("to", {"jid": device.jid}, [enc])])]
        )
        await route_message(self.network, (self.phone, 0), node)
