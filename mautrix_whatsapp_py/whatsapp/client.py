"""The WhatsApp Web multi-device client: one companion device's connection and its events.

A :class:`Client` owns the Noise socket of one :class:`~.store.device_store.DeviceStore`. It
pairs (QR or phone-number code), logs in, keeps the connection alive with pings, reconnects
with exponential backoff and jitter, and turns incoming stanzas into typed events
(:mod:`.events`) for its handlers. Sending and receiving of messages live in :mod:`.send` and
:mod:`.receive`; pairing in :mod:`.pairing`; prekeys in :mod:`.prekeys`; device lists in
:mod:`.usync`.

Stanzas are read by one task and, except IQ answers, handled one at a time in arrival order by
another, so handlers may themselves send queries without blocking the reader.
"""

from __future__ import annotations

import asyncio
import contextlib
import inspect
import logging
import os
import random
import time
from collections.abc import Awaitable, Callable
from typing import Any

import aiohttp

from . import events as ev
from .binary import JID, DecodeError, Node, marshal, unmarshal
from .binary.jid import DEFAULT_USER_SERVER, GROUP_SERVER
from .errors import IQError, NotConnectedError
from .prekeys import ensure_prekeys
from .proto import wa_client_payload_pb2 as payload_pb
from .proto import wa_e2e_pb2 as e2e
from .send import SendResult
from .socket import errors as socket_errors
from .socket.constants import DEFAULT_URL, WA_CERT_ROOT_PUBLIC_KEY
from .socket.noise_socket import NoiseSocket, connect_client
from .store.device_store import DeviceStore

log = logging.getLogger(__name__)

SERVER_JID = DEFAULT_USER_SERVER
KEEPALIVE_INTERVAL = 20.0
KEEPALIVE_TIMEOUT = 15.0
QUERY_TIMEOUT = 60.0
MAX_BACKOFF = 60.0

EventHandler = Callable[[ev.Event], Awaitable[None] | None]


class Client:
    """One WhatsApp companion device. See the module docstring."""

    def __init__(
        self,
        device: DeviceStore,
        *,
        websocket_url: str = DEFAULT_URL,
        noise_root_key: bytes = WA_CERT_ROOT_PUBLIC_KEY,
        dict_version: int = 3,
        auto_reconnect: bool = True,
    ) -> None:
        from .pairing import Pairing
        from .receive import Receiver
        from .send import Sender
        from .usync import DeviceLists

        self.device = device
        self.websocket_url = websocket_url
        self.noise_root_key = noise_root_key
        self.dict_version = dict_version
        self.auto_reconnect = auto_reconnect
        self.keepalive_interval = KEEPALIVE_INTERVAL
        self.keepalive_timeout = KEEPALIVE_TIMEOUT
        self.pairing = Pairing(self)
        self.receiver = Receiver(self)
        self.sender = Sender(self)
        self.device_lists = DeviceLists(self)
        self._handlers: list[EventHandler] = []
        self._sock: NoiseSocket | None = None
        self._session: aiohttp.ClientSession | None = None
        self._runner: asyncio.Task[None] | None = None
        self._pending: dict[str, asyncio.Future[Node]] = {}
        self._stanzas: asyncio.Queue[Node | None] = asyncio.Queue()
        self._send_lock = asyncio.Lock()
        self._tasks: set[asyncio.Task[Any]] = set()
        self._connection_tasks: tuple[asyncio.Task[None], ...] = ()
        self._stopping = False
        self._tag_prefix = os.urandom(2).hex()
        self._tag = 0
        self.logged_in = asyncio.Event()
        self.connected = asyncio.Event()

    # -- events --------------------------------------------------------------------------------

    def add_handler(self, handler: EventHandler) -> None:
        self._handlers.append(handler)

    async def dispatch(self, event: ev.Event) -> None:
        """Run every handler on ``event``; a failing handler is logged, not fatal."""
        for handler in self._handlers:
            try:
                result = handler(event)
                if inspect.isawaitable(result):
                    await result
            except Exception:
                log.exception("event handler failed on %s", type(event).__name__)

    def spawn(self, coro: Awaitable[Any]) -> None:
        task = asyncio.ensure_future(coro)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    # -- identity ------------------------------------------------------------------------------

    @property
    def jid(self) -> JID | None:
        return self.device.jid

    @property
    def own_user(self) -> JID:
        jid = self.device.jid
        if jid is None:
            raise NotConnectedError("this device is not paired")
        return jid.to_non_ad()

    def next_id(self) -> str:
        self._tag += 1
        return f"{self._tag_prefix}.{self._tag}"

    # -- lifecycle -----------------------------------------------------------------------------

    async def connect(self) -> None:
        """Start connecting in the background (and keep reconnecting) until :meth:`disconnect`."""
        if self._runner is not None and not self._runner.done():
            return
        self._stopping = False
        self._session = self._session or aiohttp.ClientSession()
        self._runner = asyncio.ensure_future(self._run())

    async def disconnect(self) -> None:
        self._stopping = True
        if self._sock is not None:
            await self._sock.close()
        if self._runner is not None:
            self._runner.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await self._runner
            self._runner = None
        # Awaiting a task does not cancel it along with the awaiter: stop the stanza worker
        # and the keepalive explicitly, so nothing touches the store after we return.
        pending = [*self._connection_tasks, *self._tasks]
        for task in pending:
            task.cancel()
        await asyncio.gather(*pending, return_exceptions=True)
        self._connection_tasks = ()
        if self._session is not None:
            await self._session.close()
            self._session = None

    async def wait_logged_in(self, timeout: float | None = None) -> None:  # noqa: ASYNC109
        async with asyncio.timeout(timeout):
            await self.logged_in.wait()

    async def wait_connected(self, timeout: float | None = None) -> None:  # noqa: ASYNC109
        """Wait until logged in and the offline queue has been received."""
        async with asyncio.timeout(timeout):
            await self.connected.wait()

    async def _run(self) -> None:
        backoff = 1.0
        while not self._stopping:
            reason = "connection closed"
            try:
                reason = await self._connect_once()
                if self.logged_in.is_set():
                    backoff = 1.0
            except (socket_errors.SocketError, OSError, TimeoutError) as e:
                reason = f"connection failed: {e}"
                log.info("%s", reason)
            except Exception as e:
                # A bug or a database failure must not silently end the client: log it and
                # reconnect as after any other failure.
                reason = f"internal error: {type(e).__name__}: {e}"
                log.exception("connection ended by an unexpected error")
            finally:
                self._sock = None
                self.logged_in.clear()
                self.connected.clear()
                for future in self._pending.values():
                    if not future.done():
                        future.set_exception(NotConnectedError(reason))
                self._pending.clear()
            if reason == "restart":
                continue
            if reason == "logged out":
                await self._forget_device("logged out by the server")
            retry = self.auto_reconnect and not self._stopping and reason not in _TERMINAL
            await self.dispatch(ev.Disconnected(reason, retry))
            if not retry:
                break
            # Jitter spreads out reconnects of many clients after a server restart.
            await asyncio.sleep(backoff * random.uniform(0.5, 1.5))
            backoff = min(backoff * 2, MAX_BACKOFF)

    def _client_payload(self) -> bytes:
        payload = payload_pb.ClientPayload(
            passive=False,
            connect_type=payload_pb.ClientPayload.WIFI_UNKNOWN,
            connect_reason=payload_pb.ClientPayload.USER_ACTIVATED,
        )
        agent = payload.user_agent
        agent.platform = payload_pb.ClientPayload.UserAgent.WEB
        agent.app_version.primary, agent.app_version.secondary = 2, 3000
        agent.app_version.tertiary = 1023000000
        agent.mcc, agent.mnc, agent.os_version, agent.device = "000", "000", "0.1", "Desktop"
        agent.release_channel = payload_pb.ClientPayload.UserAgent.RELEASE
        agent.locale_language_iso_639_1 = "en"
        agent.locale_country_iso_3166_1_alpha_2 = "US"
        payload.web_info.web_sub_platform = payload_pb.ClientPayload.WebInfo.WEB_BROWSER
        jid = self.device.jid
        if jid is not None:
            payload.username = int(jid.user)
            payload.device = jid.device
            payload.pull = True
            return payload.SerializeToString()
        return self.pairing.registration_payload(payload)

    async def _connect_once(self) -> str:
        assert self._session is not None
        sock = await connect_client(
            self.websocket_url,
            self.device.noise_key,
            self._client_payload(),
            session=self._session,
            root_public_key=self.noise_root_key,
            dict_version=self.dict_version,
        )
        self._sock = sock
        worker = asyncio.ensure_future(self._work())
        keepalive = asyncio.ensure_future(self._keepalive())
        self._connection_tasks = (worker, keepalive)
        self._end_reason = "connection closed"
        try:
            async for frame in sock:
                try:
                    node = unmarshal(frame, self.dict_version)
                except DecodeError as e:
                    log.warning("ignoring an undecodable stanza: %s", e)
                    continue
                if log.isEnabledFor(logging.DEBUG):
                    log.debug("<- %s", node)
                if node.tag == "iq" and node.attr_str("type") in ("result", "error"):
                    future = self._pending.pop(node.attr_str("id"), None)
                    if future is not None and not future.done():
                        future.set_result(node)
                        continue
                if node.tag in ("stream:error", "failure", "xmlstreamend"):
                    await self._on_stream_end(node)
                    break
                self._stanzas.put_nowait(node)
        finally:
            keepalive.cancel()
            self._stanzas.put_nowait(None)
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await worker
            await sock.close()
        return self._end_reason

    async def _work(self) -> None:
        """Handle stanzas one by one, in the order they arrived."""
        while True:
            node = await self._stanzas.get()
            if node is None:
                return
            try:
                await self._handle(node)
            except Exception:
                log.exception("failed to handle <%s>", node.tag)

    async def _keepalive(self) -> None:
        failures = 0
        while True:
            await asyncio.sleep(self.keepalive_interval)
            if not self.logged_in.is_set():
                continue
            try:
                await self.query(
                    Node("iq", {"to": SERVER_JID, "type": "get", "xmlns": "w:p"}, [Node("ping")]),
                    timeout=self.keepalive_timeout,
                )
                failures = 0
            except (TimeoutError, NotConnectedError, IQError):
                failures += 1
                if failures >= 2 and self._sock is not None:
                    log.warning("keepalive failed twice; reconnecting")
                    await self._sock.close()
                    return

    async def _on_stream_end(self, node: Node) -> None:
        code = node.attr_str("code") or node.attr_str("reason")
        conflict = node.child("conflict")
        if node.tag == "stream:error" and code == "515":
            self._end_reason = "restart"
        elif conflict is not None and conflict.attr_str("type") == "replaced":
            self._end_reason = "replaced"
            await self.dispatch(ev.StreamReplaced())
        elif code == "401" or (
            conflict is not None and conflict.attr_str("type") == "device_removed"
        ):
            # The keys are deleted in _run once the stanza worker has stopped: deleting them
            # while it is still decrypting would race its database transactions.
            self._end_reason = "logged out"
        else:
            self._end_reason = f"{node.tag} {code}".strip()

    async def _forget_device(self, reason: str) -> None:
        self.logged_in.clear()
        await self.device.delete()
        await self.dispatch(ev.LoggedOut(reason))

    async def logout(self) -> None:
        """Unlink this device from the account and forget its keys."""
        jid = self.device.jid
        if jid is not None and self.logged_in.is_set():
            with contextlib.suppress(IQError, TimeoutError, NotConnectedError):
                await self.query(
                    Node(
                        "iq",
                        {"to": SERVER_JID, "type": "set", "xmlns": "md"},
                        [
                            Node(
                                "remove-companion-device",
                                {"jid": str(jid), "reason": "user_initiated"},
                            )
                        ],
                    )
                )
        self._stopping = True
        await self._forget_device("logged out by the user")
        await self.disconnect()

    # -- sending stanzas -------------------------------------------------------------------------

    async def send_node(self, node: Node) -> None:
        sock = self._sock
        if sock is None:
            raise NotConnectedError("not connected")
        if log.isEnabledFor(logging.DEBUG):
            log.debug("-> %s", node)
        data = marshal(node, self.dict_version)
        async with self._send_lock:
            try:
                await sock.send_frame(data)
            except socket_errors.SocketError as e:
                raise NotConnectedError(str(e)) from e

    async def query(self, node: Node, timeout: float = QUERY_TIMEOUT) -> Node:  # noqa: ASYNC109
        """Send an IQ and return the result; raises :class:`IQError` on an error answer."""
        stanza_id = node.attrs.get("id")
        if not stanza_id:
            stanza_id = node.attrs["id"] = self.next_id()
        future: asyncio.Future[Node] = asyncio.get_running_loop().create_future()
        self._pending[str(stanza_id)] = future
        try:
            await self.send_node(node)
            async with asyncio.timeout(timeout):
                answer = await future
        finally:
            self._pending.pop(str(stanza_id), None)
        if answer.attr_str("type") == "error":
            error = answer.child("error")
            raise IQError(
                error.attr_int("code") if error else 500,
                error.attr_str("text") if error else "error",
                answer,
            )
        return answer

    async def send_ack(self, node: Node) -> None:
        attrs: dict[str, str | JID] = {
            "id": node.attr_str("id"),
            "class": node.tag,
            "to": node.attrs.get("from", SERVER_JID),
        }
        for key in ("participant", "recipient"):
            if node.attrs.get(key):
                attrs[key] = node.attrs[key]
        if node.tag != "message" and node.attr_str("type"):
            attrs["type"] = node.attr_str("type")
        with contextlib.suppress(NotConnectedError):
            await self.send_node(Node("ack", attrs))

    # -- messaging API -------------------------------------------------------------------------

    async def send_message(
        self, to: JID, message: e2e.Message, msg_id: str | None = None
    ) -> SendResult:
        """Encrypt and send ``message``; returns once the server has acked it."""
        return await self.sender.send(to, message, msg_id)

    async def send_text(self, to: JID, text: str) -> SendResult:
        return await self.send_message(to, e2e.Message(conversation=text))

    async def mark_read(self, chat: JID, sender: JID | None, ids: list[str]) -> None:
        """Send a read receipt for ``ids`` (``sender`` is the author, needed in groups)."""
        attrs: dict[str, str | JID] = {
            "id": ids[0],
            "to": str(chat),
            "type": "read",
            "t": str(now()),
        }
        if chat.server == GROUP_SERVER and sender is not None:
            attrs["participant"] = str(sender)
        rest = [Node("list", {}, [Node("item", {"id": i}) for i in ids[1:]])] if ids[1:] else None
        await self.send_node(Node("receipt", attrs, rest))

    async def send_presence(self, available: bool) -> None:
        attrs: dict[str, str | JID] = {"type": "available" if available else "unavailable"}
        if self.device.push_name:
            attrs["name"] = self.device.push_name
        await self.send_node(Node("presence", attrs))

    async def subscribe_presence(self, jid: JID) -> None:
        await self.send_node(Node("presence", {"type": "subscribe", "to": str(jid)}))

    async def send_chat_state(self, chat: JID, state: str) -> None:
        """``state`` is ``"composing"`` (typing) or ``"paused"``."""
        await self.send_node(Node("chatstate", {"to": str(chat)}, [Node(state)]))

    async def pair_phone(self, phone: str) -> str:
        return await self.pairing.pair_phone(phone)

    # -- incoming stanzas ----------------------------------------------------------------------

    async def _handle(self, node: Node) -> None:
        tag = node.tag
        if tag == "success":
            await self._on_success(node)
        elif tag == "iq":
            await self._on_iq(node)
        elif tag == "message":
            await self.receiver.handle_message(node)
        elif tag == "receipt":
            await self.receiver.handle_receipt(node)
        elif tag == "notification":
            await self._on_notification(node)
        elif tag == "ack":
            self.sender.on_ack(node)
        elif tag == "ib":
            offline = node.child("offline")
            if offline is not None:
                self.connected.set()
                await self.dispatch(ev.Connected(offline.attr_int("count")))
        elif tag in ("presence", "chatstate"):
            await self.receiver.handle_presence(node)

    async def _on_success(self, node: Node) -> None:
        lid = node.attr_str("lid")
        if lid and lid != self.device.lid:
            self.device.lid = lid
        self.logged_in.set()
        await ensure_prekeys(self)
        with contextlib.suppress(IQError, TimeoutError, NotConnectedError):
            await self.query(
                Node("iq", {"to": SERVER_JID, "type": "set", "xmlns": "passive"}, [Node("active")])
            )
        self.spawn(self.device.prune_buffer())

    async def _on_iq(self, node: Node) -> None:
        if node.child("pair-device") is not None:
            await self.pairing.on_pair_device(node)
        elif node.child("pair-success") is not None:
            await self.pairing.on_pair_success(node)
        elif node.child("ping") is not None:
            await self.send_node(
                Node("iq", {"to": SERVER_JID, "id": node.attr_str("id"), "type": "result"})
            )

    async def _on_notification(self, node: Node) -> None:
        kind = node.attr_str("type")
        try:
            if kind == "encrypt" and node.child("count") is not None:
                self.spawn(ensure_prekeys(self))
            elif kind == "encrypt" and node.child("identity") is not None:
                sender = node.attr_jid("from")
                if sender is not None:
                    # Sessions with the old identity are useless now: the next message to this
                    # user starts fresh ones from new bundles instead of waiting for a retry.
                    await self.device.signal.delete_all_sessions(sender.signal_address_user())
                    self.device_lists.invalidate(sender)
                    await self.dispatch(ev.IdentityChange(sender.to_non_ad(), implicit=False))
            elif kind == "devices":
                user = node.attr_jid("from")
                if user is not None:
                    self.device_lists.invalidate(user)
                    await self.dispatch(ev.DevicesChanged(user))
            elif kind == "w:gp2":
                group = node.attr_jid("from")
                if group is not None:
                    self.sender.forget_group(group)
            elif kind == "link_code_companion_reg":
                await self.pairing.on_link_code_notification(node)
        finally:
            await self.send_ack(node)


# Disconnect reasons after which reconnecting cannot help.
_TERMINAL = frozenset({"replaced", "logged out"})


def now() -> int:
    return int(time.time())
