"""Our client and our server over a real websocket on localhost."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import AsyncExitStack

import aiohttp
import pytest
from aiohttp import web

from mautrix_whatsapp_py.whatsapp.signal.keys import KeyPair, raw_public
from mautrix_whatsapp_py.whatsapp.socket import (
    CertificateAuthority,
    CertificateError,
    NoiseSocket,
    SocketClosedError,
)
from mautrix_whatsapp_py.whatsapp.socket.noise_socket import accept_server, connect_client
from tests.helpers.web import serve_route

Handler = Callable[[NoiseSocket, bytes, bytes, int], Awaitable[None]]


class Server:
    def __init__(self, handler: Handler) -> None:
        self.ca = CertificateAuthority.generate()
        self.key = KeyPair.generate()
        self.handler = handler
        self.errors: list[BaseException] = []
        self.url = ""

    async def ws(self, request: web.Request) -> web.WebSocketResponse:
        ws = web.WebSocketResponse(max_msg_size=0)
        await ws.prepare(request)
        try:
            chain = self.ca.cert_chain(raw_public(self.key.public))
            sock, static, payload, version = await accept_server(ws, self.key, chain)
            await self.handler(sock, static, payload, version)
        except Exception as err:
            self.errors.append(err)
        await ws.close()
        return ws


@pytest.fixture
async def serve() -> AsyncIterator[Callable[[Handler], Awaitable[Server]]]:
    async with AsyncExitStack() as stack:

        async def start(handler: Handler) -> Server:
            server = Server(handler)
            server.url = await stack.enter_async_context(serve_route("/ws/chat", server.ws))
            return server

        yield start


async def test_frames_both_ways(serve: Callable[[Handler], Awaitable[Server]]) -> None:
    seen: dict[str, object] = {}

    async def echo(sock: NoiseSocket, static: bytes, payload: bytes, version: int) -> None:
        seen.update(static=static, payload=payload, version=version)
        async for frame in sock:
            await sock.send_frame(b"echo:" + frame)

    server = await serve(echo)
    client_key = KeyPair.generate()
    async with aiohttp.ClientSession() as session:
        sock = await connect_client(
            server.url,
            client_key,
            b"the payload",
            session=session,
            root_public_key=server.ca.root_public_key,
            dict_version=3,
        )
        for i in range(20):
            await sock.send_frame(b"frame %d" % i + b"x" * (i * 1000))
        for i in range(20):
            assert await sock.receive_frame() == b"echo:frame %d" % i + b"x" * (i * 1000)
        await sock.close()
        with pytest.raises(SocketClosedError):
            await sock.send_frame(b"late")
    assert seen == {
        "static": raw_public(client_key.public),
        "payload": b"the payload",
        "version": 3,
    }


async def test_server_closing_ends_iteration(serve: Callable[[Handler], Awaitable[Server]]) -> None:
    async def close_at_once(sock: NoiseSocket, *_: object) -> None:
        await sock.send_frame(b"bye")
        await sock.close()

    server = await serve(close_at_once)
    async with aiohttp.ClientSession() as session:
        sock = await connect_client(
            server.url,
            KeyPair.generate(),
            b"",
            session=session,
            root_public_key=server.ca.root_public_key,
        )
        assert [frame async for frame in sock] == [b"bye"]
        with pytest.raises(SocketClosedError):
            await sock.receive_frame()


async def test_untrusted_server_is_refused(serve: Callable[[Handler], Awaitable[Server]]) -> None:
    async def never(*_: object) -> None:
        await asyncio.sleep(0)

    server = await serve(never)
    async with aiohttp.ClientSession() as session:
        with pytest.raises(CertificateError):
            await connect_client(server.url, KeyPair.generate(), b"", session=session)
