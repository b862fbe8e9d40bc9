"""The heart of the test network: who is connected, and how stanzas reach every device.

Everything a device must acknowledge (messages, receipts, notifications) is written to that
device's queue before it is pushed, and leaves the queue only when the device acks it, so a
device that is offline, drops its connection, or talks to a restarted server still gets each
stanza, in order. Presence and chat states are relayed live only, as on the real network.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
from collections.abc import Coroutine, Iterable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from ..whatsapp.binary import JID, Node, marshal, unmarshal
from ..whatsapp.binary.jid import DEFAULT_USER_SERVER as USER_SERVER
from ..whatsapp.binary.jid import HIDDEN_USER_SERVER as LID_SERVER
from ..whatsapp.signal.keys import KeyPair
from ..whatsapp.socket import errors as socket_errors
from ..whatsapp.socket.handshake import CertificateAuthority
from .connection import Connection
from .media import MediaStore
from .pairing import Pairing
from .storage import Device, Storage, now

if TYPE_CHECKING:
    from .phone import Phone

log = logging.getLogger(__name__)

#: Stanzas a device must ack, by tag; the ack's ``class`` is the tag.
ACKED_TAGS = frozenset({"message", "receipt", "notification"})
#: Below this many one-time prekeys left, the device is told to upload more.
LOW_PREKEY_THRESHOLD = 5


@dataclass(slots=True)
class Faults:
    """Fault injection switches, set through the admin API."""

    paused: set[str] = field(default_factory=set)  # phones whose delivery is held
    #: Devices whose next message arrives with its ciphertext damaged, as by a bad relay.
    corrupt_next: set[tuple[str, int]] = field(default_factory=set)
    #: Devices whose next ack is lost on the way (what it acked stays queued).
    lose_next_ack: set[tuple[str, int]] = field(default_factory=set)
    #: Devices whose next message carrying a device identity gets that identity damaged.
    tamper_identity_next: set[tuple[str, int]] = field(default_factory=set)


class Network:
    """Shared state of one running test network."""

    def __init__(self, storage: Storage, static_key: KeyPair, ca: CertificateAuthority) -> None:
        self.storage = storage
        self.static_key = static_key
        self.ca = ca
        self.cert_chain = ca.cert_chain(static_key.public[1:])
        self.media_url = ""
        self.media_host = ""
        self.connections: dict[tuple[str, int], Connection] = {}
        self.unregistered: set[Connection] = set()
        self.phones: dict[str, Phone] = {}
        self.faults = Faults()
        self.presence: dict[str, str] = {}
        self.subscribers: dict[str, set[tuple[str, int]]] = {}
        self._flush_locks: dict[tuple[str, int], asyncio.Lock] = {}
        self.media: MediaStore = MediaStore(storage.data_dir / "media", "")
        self.media_auth = ""
        self.pairing = Pairing(self)
        self._tasks: set[asyncio.Task[Any]] = set()
        self.closing = False

    # -- keys ------------------------------------------------------------------------------

    @classmethod
    async def load_keys(cls, storage: Storage) -> tuple[KeyPair, CertificateAuthority]:
        """The server's Noise key and certificate authority, made once and kept in storage."""
        static = await storage.get_server_key("noise")
        root = await storage.get_server_key("ca_root")
        inter = await storage.get_server_key("ca_intermediate")
        if static is None or root is None or inter is None:
            static, root, inter = os.urandom(32), os.urandom(32), os.urandom(32)
            await storage.put_server_key("noise", static)
            await storage.put_server_key("ca_root", root)
            await storage.put_server_key("ca_intermediate", inter)
        ca = CertificateAuthority(KeyPair.from_private(root), KeyPair.from_private(inter))
        return KeyPair.from_private(static), ca

    def spawn(self, coro: Coroutine[Any, Any, Any]) -> None:
        """Run ``coro`` in the background, keeping a reference until it ends. While shutting
        down nothing new starts: what it would do is in the queues for the next start."""
        if self.closing:
            coro.close()
            return
        task = asyncio.ensure_future(coro)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def close_connections(self) -> None:
        """Refuse new background work and hang up on every client."""
        self.closing = True
        for conn in list(self.connections.values()) + list(self.unregistered):
            await conn.close()

    async def close(self) -> None:
        await self.close_connections()
        for task in list(self._tasks):
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)

    # -- identities ------------------------------------------------------------------------

    async def resolve_user(self, jid: JID) -> str | None:
        """The phone number an address points at, for phone-number and LID addresses."""
        if jid.server == USER_SERVER:
            return jid.user
        if jid.server == LID_SERVER:
            account = await self.storage.get_account_by_lid(jid.user)
            return account.phone if account else None
        return None

    # -- sessions --------------------------------------------------------------------------

    async def logged_in(self, conn: Connection) -> None:
        """A device has logged in: replace its older connection and flush its queue."""
        key = conn.key
        assert key is not None
        old = self.connections.get(key)
        self.connections[key] = conn
        if old is not None and old is not conn:
            log.info("%r replaces an older connection", conn)
            # In the background: the old client gets a moment to hang up by itself.
            self.spawn(old.stream_error(Node("conflict", {"type": "replaced"})))
        await self.flush(key[0], key[1], initial=True)

    def logged_out(self, conn: Connection) -> None:
        key = conn.key
        if key is not None and self.connections.get(key) is conn:
            del self.connections[key]
        self.unregistered.discard(conn)

    async def unlink(self, phone: str, device_id: int) -> bool:
        """Remove a companion: it is logged out and everyone learns its device is gone."""
        device = await self.storage.get_device(phone, device_id)
        if device is None or device_id == 0:
            return False
        await self.storage.remove_device(phone, device_id)
        conn = self.connections.pop((phone, device_id), None)
        if conn is not None:
            await conn.stream_error(Node("conflict", {"type": "device_removed"}), code="401")
        await self.notify_devices_changed(phone, device, removed=True)
        return True

    async def disconnect(self, phone: str, device_id: int) -> bool:
        conn = self.connections.get((phone, device_id))
        if conn is None:
            return False
        await conn.close()
        return True

    # -- delivery --------------------------------------------------------------------------

    async def deliver(self, phone: str, device_id: int, node: Node) -> None:
        """Queue ``node`` for one device (if it must be acked) and push it if it is online.

        The simulated phone (device 0) has a queue too, which it works through and acks itself,
        so what reaches a phone survives a restart like everything else.
        """
        if node.tag == "message" and (phone, device_id) in self.faults.corrupt_next:
            self.faults.corrupt_next.discard((phone, device_id))
            node = _corrupted(node)
        if (
            node.tag == "message"
            and (phone, device_id) in self.faults.tamper_identity_next
            and node.child("device-identity") is not None
        ):
            self.faults.tamper_identity_next.discard((phone, device_id))
            node = _corrupted(node, "device-identity")
        if node.tag in ACKED_TAGS:
            await self.storage.enqueue(
                phone,
                device_id,
                node.tag,
                node.attr_str("id"),
                node.attr_str("from"),
                node.attr_str("participant"),
                node.attr_str("type"),
                marshal(node),
            )
            if device_id == 0:
                phone_sim = self.phones.get(phone)
                if phone_sim is not None:
                    self.spawn(phone_sim.drain())
            else:
                await self.flush(phone, device_id)
        elif device_id != 0:
            conn = self.connections.get((phone, device_id))
            if conn is not None and phone not in self.faults.paused:
                with contextlib.suppress(socket_errors.SocketError):
                    await conn.send(node)

    async def deliver_to_user(
        self, phone: str, node: Node, exclude: tuple[str, int] | None = None
    ) -> None:
        for device in await self.storage.devices_of(phone):
            if (device.phone, device.device_id) != exclude:
                await self.deliver(device.phone, device.device_id, node)

    async def flush(self, phone: str, device_id: int, initial: bool = False) -> None:
        """Push a device's queue to its connection.

        On login (``initial``) the whole queue is sent in order and followed by the
        ``<ib><offline/>`` marker; afterwards only what has not been pushed on this connection.
        """
        conn = self.connections.get((phone, device_id))
        if conn is None or (phone in self.faults.paused and not initial):
            return
        lock = self._flush_locks.setdefault((phone, device_id), asyncio.Lock())
        async with lock:
            count = 0
            if phone not in self.faults.paused:
                for item in await self.storage.queued(phone, device_id, conn.pushed_seq):
                    node = unmarshal(item.stanza)
                    if initial:
                        node.attrs["offline"] = "1"
                    try:
                        await conn.send(node)
                    except socket_errors.SocketError:
                        return
                    conn.pushed_seq = item.seq
                    count += 1
            if initial:
                try:
                    await conn.send(Node("ib", {}, [Node("offline", {"count": str(count)})]))
                except socket_errors.SocketError:
                    return

    async def resume(self, phone: str) -> None:
        self.faults.paused.discard(phone)
        for device in await self.storage.devices_of(phone):
            await self.flush(phone, device.device_id)

    async def acked(self, conn: Connection, node: Node) -> None:
        key = conn.key
        if key is None:
            return
        if key in self.faults.lose_next_ack:
            self.faults.lose_next_ack.discard(key)
            return
        await self.storage.dequeue(
            key[0],
            key[1],
            node.attr_str("class"),
            node.attr_str("id"),
            node.attr_str("to"),
            node.attr_str("participant"),
            node.attr_str("type"),
        )

    # -- prekeys ---------------------------------------------------------------------------

    async def take_prekey(self, phone: str, device_id: int) -> tuple[int, bytes] | None:
        """Hand out one of a device's one-time prekeys (for a bundle fetch or the simulated
        phone's own session); when few are left, tell a companion to upload more."""
        prekey = await self.storage.take_prekey(phone, device_id)
        if prekey is not None and device_id:
            left = await self.storage.count_prekeys(phone, device_id)
            # Once, as the count falls below the threshold, not on every later fetch.
            if left == LOW_PREKEY_THRESHOLD - 1:
                note = self.notification(
                    "encrypt", USER_SERVER, [Node("count", {"value": str(left)})]
                )
                self.spawn(self.deliver(phone, device_id, note))
        return prekey

    # -- notifications ---------------------------------------------------------------------

    def notification(self, kind: str, sender: str, children: Iterable[Node], **attrs: str) -> Node:
        # The sender goes on the wire as a JID, as the real server sends it: the bare server
        # then reads as "@s.whatsapp.net" in clients (Baileys only takes a prekey count from
        # a notification sent by that address), not as the dictionary word "s.whatsapp.net".
        return Node(
            "notification",
            {
                "from": JID.parse(sender),
                "type": kind,
                "id": os.urandom(8).hex().upper(),
                "t": str(now()),
                **attrs,
            },
            list(children),
        )

    async def notify_devices_changed(self, phone: str, device: Device, removed: bool) -> None:
        """Tell everyone who may hold a session with ``phone`` that its device list changed."""
        account = await self.storage.get_account(phone)
        if account is None:
            return
        jid = device.jid
        child = Node(
            "remove" if removed else "add",
            {"device_hash": "2:" + os.urandom(6).hex()},
            [
                Node("device", {"jid": jid, "key-index": str(device.key_index)}),
                Node("key-index-list", {"ts": str(now())}),
            ],
        )
        note = self.notification("devices", f"{phone}@{USER_SERVER}", [child])
        for other in await self.contacts_of(phone):
            await self.deliver_to_user(other, note)

    async def contacts_of(self, phone: str) -> set[str]:
        """Who hears about ``phone``'s device changes: every account, ``phone`` included (the
        real server tells contacts only; on a small test network everyone is one)."""
        return {a.phone for a in await self.storage.list_accounts()}


def _corrupted(node: Node, tag: str = "enc") -> Node:
    """A copy of a message whose every ``tag`` child (by default each ciphertext, so its MAC
    fails) has one byte flipped."""
    children = []
    for child in node.children:
        if child.tag == tag and isinstance(child.content, bytes) and child.content:
            damaged = bytearray(child.content)
            damaged[len(damaged) - 1] ^= 0x01
            child = Node(tag, dict(child.attrs), bytes(damaged))
        children.append(child)
    return Node(node.tag, dict(node.attrs), children)
