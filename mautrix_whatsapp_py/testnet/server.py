"""Running the test network: the chat websocket, the admin API and the HTTPS media server.

:class:`TestNetServer` owns the aiohttp sites, the storage and the :class:`Network`; it writes
``server.json`` into the data directory so that tests and the sandbox can find it.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import logging
import secrets
from pathlib import Path
from typing import Any

from aiohttp import web

from ..whatsapp.binary import Node
from ..whatsapp.socket import errors as socket_errors
from .admin import admin_routes
from .connection import Connection, handshake, success_node
from .iq import handle_iq
from .media import MediaProxy, MediaStore, ensure_tls_cert, server_ssl_context
from .network import Network
from .phone import Phone
from .routing import route_chatstate, route_message, route_presence, route_receipt
from .storage import Storage, dump_json

log = logging.getLogger(__name__)

WS_PATH = "/ws/chat"


class TestNetServer:
    __test__ = False  # not a pytest test class, despite the name

    """One test network instance, bound to a data directory."""

    def __init__(
        self, data_dir: Path, host: str = "127.0.0.1", port: int = 0, media_port: int = 0
    ) -> None:
        self.data_dir = data_dir
        self.host = host
        self.port = port
        self.media_port = media_port
        self.media_proxy_port = 0
        self._media_proxy: MediaProxy | None = None
        self.storage: Storage | None = None
        self.network: Network | None = None
        self._runners: list[web.AppRunner] = []
        self.info: dict[str, Any] = {}

    async def start(self) -> dict[str, Any]:
        self.storage = await Storage.open(self.data_dir)
        static_key, ca = await Network.load_keys(self.storage)
        network = Network(self.storage, static_key, ca)
        self.network = network
        media_auth = await self.storage.get_server_key("media_auth")
        if media_auth is None:
            media_auth = secrets.token_urlsafe(24).encode()
            await self.storage.put_server_key("media_auth", media_auth)
        network.media_auth = media_auth.decode()
        for account in await self.storage.list_accounts():
            network.phones[account.phone] = await Phone.load(network, account)
        for phone in network.phones.values():
            network.spawn(phone.drain())

        # The chat websocket and the admin API share one plain-HTTP site.
        app = web.Application(client_max_size=64 * 1024 * 1024)
        app.router.add_get(WS_PATH, self._websocket)
        app.add_routes(admin_routes(self))
        runner = web.AppRunner(app, access_log=None)
        await runner.setup()
        site = web.TCPSite(runner, self.host, self.port)
        await site.start()
        self._runners.append(runner)
        self.port = int(runner.addresses[0][1])

        cert, key = ensure_tls_cert(self.data_dir / "tls")
        network.media = MediaStore(self.data_dir / "media", network.media_auth)
        media_app = web.Application(client_max_size=256 * 1024 * 1024)
        media_app.add_routes(network.media.routes())
        media_runner = web.AppRunner(media_app, access_log=None)
        await media_runner.setup()
        media_site = web.TCPSite(
            media_runner, self.host, self.media_port, ssl_context=server_ssl_context(cert, key)
        )
        await media_site.start()
        self._runners.append(media_runner)
        self.media_port = int(media_runner.addresses[0][1])
        media_url = f"https://{self.host}:{self.media_port}"
        network.media.public_url = media_url
        network.media_url = media_url
        network.media_host = f"{self.host}:{self.media_port}"
        self._media_proxy = MediaProxy(self.host, self.media_port)
        self.media_proxy_port = await self._media_proxy.start(self.host, self.media_proxy_port)

        self.info = {
            "websocket_url": f"ws://{self.host}:{self.port}{WS_PATH}",
            "admin_url": f"http://{self.host}:{self.port}",
            "media_url": media_url,
            "media_host": network.media_host,
            # An HTTPS_PROXY for clients that fetch media from mmg.whatsapp.net.
            "media_proxy_url": f"http://{self.host}:{self.media_proxy_port}",
            "noise_root_public_key": base64.b64encode(ca.root_public_key).decode(),
            "tls_cert": str(cert),
        }
        dump_json(self.data_dir / "server.json", self.info)
        log.info("test network up: %s", self.info)
        return self.info

    async def restart(self) -> None:
        """Stop and start again on the same ports, keeping only what is on disk."""
        await self.stop()
        self.network = None
        await self.start()

    async def stop(self) -> None:
        # Hang up first, then let the handlers finish, then stop background work: a handler
        # still running could otherwise start work after the storage is closed.
        if self.network is not None:
            await self.network.close_connections()
        if self._media_proxy is not None:
            await self._media_proxy.stop()
            self._media_proxy = None
        for runner in reversed(self._runners):
            await runner.cleanup()
        self._runners.clear()
        if self.network is not None:
            await self.network.close()
        if self.storage is not None:
            await self.storage.close()
            self.storage = None

    # -- the chat websocket -------------------------------------------------------------------

    async def _websocket(self, request: web.Request) -> web.StreamResponse:
        ws = web.WebSocketResponse(max_msg_size=0, autoping=True)
        await ws.prepare(request)
        network = self.network
        assert network is not None
        conn = await handshake(network, ws)
        if conn is None:
            await ws.close()
            return ws
        try:
            if conn.registration is not None:
                network.unregistered.add(conn)
                network.spawn(network.pairing.offer_refs(conn))
            else:
                assert conn.device is not None
                account = await network.storage.get_account(conn.device.phone)
                assert account is not None
                await conn.send(success_node(account.lid, account.created))
                network.spawn(network.logged_in(conn))
            await conn.run(self._on_stanza)
        finally:
            network.logged_out(conn)
            await ws.close()
        return ws

    async def _on_stanza(self, conn: Connection, node: Node) -> None:
        network = self.network
        assert network is not None
        key = conn.key
        if conn.stalled:
            return  # a half-dead link: what the client sends goes nowhere
        if node.tag == "iq":
            await handle_iq(network, conn, node)
            return
        if key is None:
            return
        if node.tag == "ack":
            await network.acked(conn, node)
        elif node.tag == "message":
            ack = await route_message(network, key, node)
            if ack is not None:
                await _send_quietly(conn, ack)
        elif node.tag == "receipt":
            await _send_quietly(conn, await route_receipt(network, key, node))
        elif node.tag == "presence":
            await route_presence(network, key, node)
        elif node.tag == "chatstate":
            await route_chatstate(network, key, node)
        elif node.tag == "notification":
            await _send_quietly(
                conn, Node("ack", {"class": "notification", "id": node.attr_str("id")})
            )
        else:
            log.debug("ignoring %s from %r", node.tag, conn)


async def _send_quietly(conn: Connection, node: Node) -> None:
    with contextlib.suppress(socket_errors.SocketError):
        await conn.send(node)


async def run_forever(server: TestNetServer) -> None:
    await server.start()
    try:
        await asyncio.Event().wait()
    finally:
        await server.stop()
