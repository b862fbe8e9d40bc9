"""One client connection to the test network: handshake, registration or login, and the stanza
loop that hands each incoming stanza to the network.

A connection is either *unregistered* (a companion showing QR codes, waiting to be linked) or
*logged in* as one device of one account. Malformed frames are logged and skipped; only a broken
transport ends the connection.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import logging
import os
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

from aiohttp import WSCloseCode, web

from ..whatsapp.binary import DecodeError, Node, marshal, unmarshal
from ..whatsapp.proto import wa_client_payload_pb2 as payload_pb
from ..whatsapp.socket import errors as socket_errors
from ..whatsapp.socket.noise_socket import NoiseSocket, accept_server
from .storage import Device, now

if TYPE_CHECKING:
    from .network import Network
    from .pairing import LinkCode

log = logging.getLogger(__name__)

#: Seconds a client gets to hang up after a stream error before the server closes on it.
STREAM_ERROR_GRACE = 2.0


@dataclass(slots=True)
class Registration:
    """What an unregistered companion told us about itself in its registration payload."""

    noise_key: bytes
    identity_key: bytes
    registration_id: int
    skey_id: int
    skey_pub: bytes
    skey_sig: bytes
    platform: str
    refs: list[str]


class Connection:
    """A live, Noise-encrypted client connection."""

    def __init__(
        self, network: Network, ws: web.WebSocketResponse, sock: NoiseSocket, dict_version: int
    ) -> None:
        self.network = network
        self.ws = ws
        self.sock = sock
        self.dict_version = dict_version
        self.device: Device | None = None
        self.registration: Registration | None = None
        #: Phone-number pairing in progress on this (unregistered) connection.
        self.link_code: LinkCode | None = None
        self._send_lock = asyncio.Lock()
        self._pending: dict[str, asyncio.Future[Node]] = {}
        self._tag = 0
        #: The queue is pushed in order, so everything up to this sequence number has been sent
        #: on this connection; a new connection starts from the beginning.
        self.pushed_seq = 0
        #: Fault injection: the link stays open but nothing passes in either direction.
        self.stalled = False
        self.closed = asyncio.Event()

    def __repr__(self) -> str:
        who = self.device.jid if self.device else "unregistered"
        return f"<Connection {who}>"

    @property
    def key(self) -> tuple[str, int] | None:
        return (self.device.phone, self.device.device_id) if self.device else None

    def next_id(self) -> str:
        self._tag += 1
        return f"srv-{self._tag}-{os.urandom(3).hex()}"

    async def send(self, node: Node) -> None:
        if log.isEnabledFor(logging.DEBUG):
            log.debug("-> %r %s", self, node)
        if self.stalled:
            return
        data = marshal(node, self.dict_version)
        async with self._send_lock:
            if self.sock.closed:
                raise socket_errors.SocketClosedError("connection closed")
            await self.sock.send_frame(data)

    async def query(self, node: Node, wait: float = 30) -> Node:
        """Send a server-initiated IQ and wait for the client's answer."""
        stanza_id = node.attrs.setdefault("id", self.next_id())
        assert isinstance(stanza_id, str)
        future: asyncio.Future[Node] = asyncio.get_running_loop().create_future()
        self._pending[stanza_id] = future
        try:
            await self.send(node)
            async with asyncio.timeout(wait):
                return await future
        finally:
            self._pending.pop(stanza_id, None)

    async def stream_error(self, child: Node | None = None, code: str | None = None) -> None:
        """Send a stream error and end the connection.

        The client is given a moment to hang up by itself first, as it does on a stream
        error: closing the websocket right away can let a client see the close before it has
        decoded the error (Baileys does), and then report the wrong reason.
        """
        attrs = {"code": code} if code else {}
        with contextlib.suppress(socket_errors.SocketError):
            await self.send(Node("stream:error", attrs, [child] if child else None))
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(STREAM_ERROR_GRACE):
                await self.closed.wait()
        await self.close()

    async def close(self) -> None:
        await self.sock.close(WSCloseCode.OK)
        self.closed.set()

    async def run(self, on_stanza: Callable[[Connection, Node], Awaitable[None]]) -> None:
        """Read stanzas until the transport ends; each one is handled before the next is read,
        so a client's stanzas take effect in the order it sent them."""
        try:
            async for frame in self.sock:
                try:
                    node = unmarshal(frame, self.dict_version)
                except DecodeError as e:
                    log.warning("%r sent an undecodable stanza: %s", self, e)
                    continue
                if log.isEnabledFor(logging.DEBUG):
                    log.debug("<- %r %s", self, node)
                if node.tag == "iq" and node.attrs.get("type") in ("result", "error"):
                    future = self._pending.get(node.attr_str("id"))
                    if future is not None and not future.done():
                        future.set_result(node)
                        continue
                try:
                    await on_stanza(self, node)
                except Exception:
                    log.exception("%r: failed to handle %s", self, node.tag)
        except socket_errors.SocketError as e:
            log.debug("%r transport ended: %s", self, e)
        finally:
            self.closed.set()
            for future in self._pending.values():
                if not future.done():
                    future.cancel()


def parse_registration(noise_key: bytes, payload: payload_pb.ClientPayload) -> Registration:
    data = payload.device_pairing_data
    platform = ""
    try:
        props = payload_pb.DeviceProps.FromString(data.device_props)
        platform = props.os
    except Exception:
        pass
    identity = data.e_ident
    if len(identity) == 32:
        identity = b"\x05" + identity
    return Registration(
        noise_key=noise_key,
        identity_key=identity,
        registration_id=int.from_bytes(data.e_regid, "big"),
        skey_id=int.from_bytes(data.e_skey_id, "big"),
        skey_pub=b"\x05" + data.e_skey_val if len(data.e_skey_val) == 32 else data.e_skey_val,
        skey_sig=data.e_skey_sig,
        platform=platform,
        refs=[base64.b64encode(os.urandom(18)).decode() for _ in range(6)],
    )


async def handshake(network: Network, ws: web.WebSocketResponse) -> Connection | None:
    """Run the Noise handshake and decide who this is; ``None`` if the client is refused."""
    try:
        async with asyncio.timeout(20):
            sock, client_static, payload_bytes, dict_version = await accept_server(
                ws, network.static_key, network.cert_chain
            )
    except (socket_errors.SocketError, TimeoutError, ValueError) as e:
        log.info("handshake failed: %s", e)
        return None
    conn = Connection(network, ws, sock, dict_version)
    try:
        payload = payload_pb.ClientPayload.FromString(payload_bytes)
    except Exception:
        log.info("client payload did not parse")
        await conn.send(Node("failure", {"reason": "400"}))
        await conn.close()
        return None
    if payload.HasField("device_pairing_data"):
        conn.registration = parse_registration(client_static, payload)
        return conn
    phone = str(payload.username)
    device = await network.storage.get_device(phone, payload.device)
    if device is None or device.noise_key != client_static:
        log.info("login refused for %s.%d", phone, payload.device)
        await conn.send(Node("failure", {"reason": "401", "location": "tn"}))
        await conn.close()
        return None
    conn.device = device
    return conn


def success_node(lid: str, created: int) -> Node:
    return Node(
        "success",
        {
            "t": str(now()),
            "props": "1",
            "abprops": "1",
            "location": "tn",
            "lid": lid,
            "creation": str(created),
        },
    )
