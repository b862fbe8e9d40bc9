"""The Baileys client harness boots a real Baileys socket and reports its connection events."""

from __future__ import annotations

from pathlib import Path

import pytest
from aiohttp import web

from tests.helpers.web import serve_route
from tests.interop.baileys_client import BaileysClient, baileys_client
from tests.interop.node_peer import PeerError

pytestmark = pytest.mark.interop


async def accept_and_close(request: web.Request) -> web.WebSocketResponse:
    ws = web.WebSocketResponse()
    await ws.prepare(request)
    await ws.close()
    return ws


async def test_harness_reports_connection_close(tmp_path: Path) -> None:
    async with (
        serve_route("/ws/chat", accept_and_close) as url,
        baileys_client(url, tmp_path / "auth") as client,
    ):
        closed = await client.wait_event("connection", {"connection": "close"}, timeout=20)
        await client.stop()
        connecting = await client.events()
        assert any(
            e["type"] == "connection" and e["connection"] == "connecting" for e in connecting
        )
        # Not logged out, so the harness reconnects the way an app would until told to stop.
        assert closed["statusCode"] != 401
        assert await client.me() is None
        assert not await client.is_buffering()


async def test_wait_event_timeout_lists_recent_events(tmp_path: Path) -> None:
    async with (
        serve_route("/ws/chat", accept_and_close) as url,
        baileys_client(url, tmp_path / "auth") as client,
    ):
        await client.wait_event("connection", {"connection": "close"}, timeout=20)
        await client.stop()
        with pytest.raises(PeerError, match="recent events"):
            await client.wait_event("message", {"text": "never"}, timeout=0.2)


async def test_harness_reconnects_until_stopped(tmp_path: Path) -> None:
    async with serve_route("/ws/chat", accept_and_close) as url:
        client = await BaileysClient.start(url, tmp_path / "auth")
        try:
            first = await client.wait_event("connection", {"connection": "close"}, timeout=20)
            second = await client.wait_event(
                "connection", {"connection": "close"}, after=first["seq"], timeout=20
            )
            assert second["seq"] > first["seq"]
            await client.end()
        finally:
            await client.close()
