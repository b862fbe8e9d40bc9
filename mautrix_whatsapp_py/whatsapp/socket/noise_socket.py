"""The Noise transport over an aiohttp websocket, for the client and the server role.

:func:`connect_client` dials, runs the initiator handshake and returns a :class:`NoiseSocket`;
:func:`accept_server` does the responder's part on an accepted websocket. A NoiseSocket moves
whole decrypted frames; it knows nothing of what they contain.
"""

from __future__ import annotations

import asyncio
import logging
from collections import deque
from typing import Any

import aiohttp
from aiohttp import WSMsgType, web

from ..binary.tokens import DEFAULT_DICT_VERSION
from ..signal.keys import KeyPair
from .constants import DEFAULT_ORIGIN, WA_CERT_ROOT_PUBLIC_KEY, intro_header
from .errors import FrameError, NoiseHandshakeError, SocketClosedError, SocketError
from .framing import FrameReader, encode_frame
from .handshake import ClientHandshake, ServerHandshake
from .noise import TransportCipher

log = logging.getLogger(__name__)

#: How long either side waits for the other's handshake message.
HANDSHAKE_TIMEOUT = 20.0

WebSocket = aiohttp.ClientWebSocketResponse | web.WebSocketResponse


class _FrameChannel:
    """Frames read from a websocket, before any decryption."""

    def __init__(self, ws: WebSocket, reader: FrameReader) -> None:
        self.ws = ws
        self.reader = reader
        self._pending: deque[bytes] = deque()

    async def next(self) -> bytes:
        while not self._pending:
            msg = await self.ws.receive()
            if msg.type == WSMsgType.BINARY:
                self._pending.extend(self.reader.feed(msg.data))
            elif msg.type in (WSMsgType.CLOSE, WSMsgType.CLOSING, WSMsgType.CLOSED):
                raise SocketClosedError(f"websocket closed (code {self.ws.close_code})")
            elif msg.type == WSMsgType.ERROR:
                raise SocketError(f"websocket error: {self.ws.exception()}")
            else:
                raise FrameError(f"unexpected websocket message of type {msg.type.name}")
        return self._pending.popleft()


class NoiseSocket:
    """A finished Noise session: send and receive whole plaintext frames."""

    def __init__(
        self, channel: _FrameChannel, transport: TransportCipher, first_prefix: bytes = b""
    ) -> None:
        self._channel = channel
        self._transport = transport
        self._prefix = first_prefix
        self._send_lock = asyncio.Lock()
        self._closed = False

    @property
    def closed(self) -> bool:
        return self._closed or self._channel.ws.closed

    async def send_frame(self, payload: bytes) -> None:
        if self.closed:
            raise SocketClosedError("socket is closed")
        # Encrypting and sending under one lock keeps the counter order equal to wire order.
        async with self._send_lock:
            frame = encode_frame(self._transport.encrypt(payload), self._prefix)
            self._prefix = b""
            try:
                await self._channel.ws.send_bytes(frame)
            except (ConnectionError, RuntimeError) as err:
                self._closed = True
                raise SocketClosedError(f"send failed: {err}") from err

    async def receive_frame(self) -> bytes:
        """The next decrypted frame. Raises :class:`SocketClosedError` once the peer is gone;
        a frame that does not decrypt closes the socket and raises ``DecryptionError``."""
        if self._closed:
            raise SocketClosedError("socket is closed")
        try:
            return self._transport.decrypt(await self._channel.next())
        except SocketError:
            await self.close()
            raise

    def __aiter__(self) -> NoiseSocket:
        return self

    async def __anext__(self) -> bytes:
        try:
            return await self.receive_frame()
        except SocketClosedError:
            raise StopAsyncIteration from None

    async def close(self, code: int = aiohttp.WSCloseCode.OK) -> None:
        self._closed = True
        if not self._channel.ws.closed:
            await self._channel.ws.close(code=code)


async def _handshake_step(channel: _FrameChannel, what: str) -> bytes:
    try:
        return await asyncio.wait_for(channel.next(), HANDSHAKE_TIMEOUT)
    except TimeoutError:
        raise NoiseHandshakeError(f"timed out waiting for {what}") from None


async def connect_client(
    url: str,
    static_key: KeyPair,
    payload: bytes,
    *,
    session: aiohttp.ClientSession,
    root_public_key: bytes = WA_CERT_ROOT_PUBLIC_KEY,
    dict_version: int = DEFAULT_DICT_VERSION,
    origin: str = DEFAULT_ORIGIN,
    **ws_kwargs: Any,
) -> NoiseSocket:
    """Dial ``url``, run the client handshake with ``payload`` and return the session."""
    try:
        ws = await session.ws_connect(url, origin=origin, max_msg_size=0, **ws_kwargs)
    except (aiohttp.ClientError, OSError) as err:
        raise SocketError(f"could not connect to {url}: {err}") from err
    header = intro_header(dict_version)
    channel = _FrameChannel(ws, FrameReader())
    try:
        handshake = ClientHandshake(
            static_key, payload, root_public_key=root_public_key, prologue=header
        )
        await ws.send_bytes(encode_frame(handshake.client_hello(), header))
        finish = handshake.process_server_hello(await _handshake_step(channel, "server hello"))
        await ws.send_bytes(encode_frame(finish))
        return NoiseSocket(channel, handshake.transport())
    except BaseException:
        await ws.close()
        raise


async def accept_server(
    ws: web.WebSocketResponse, static_key: KeyPair, cert_chain: bytes
) -> tuple[NoiseSocket, bytes, bytes, int]:
    """Run the server handshake on a prepared websocket.

    Returns the session, the client's raw static public key, its decrypted client payload and
    the token dictionary version its intro header announced.
    """
    reader = FrameReader(expect_intro=True)
    channel = _FrameChannel(ws, reader)
    hello = await _handshake_step(channel, "client hello")
    assert reader.intro is not None  # a frame only comes out after the intro
    handshake = ServerHandshake(static_key, cert_chain, prologue=reader.intro)
    await ws.send_bytes(encode_frame(handshake.process_client_hello(hello)))
    client_static, payload = handshake.process_client_finish(
        await _handshake_step(channel, "client finish")
    )
    return NoiseSocket(channel, handshake.transport()), client_static, payload, reader.intro[3]
