"""Fixtures for the test network: a running server in a temporary directory, its admin API,
and Baileys clients paired with simulated phones through that API."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path
from typing import Any

import aiohttp
import pytest

from mautrix_whatsapp_py.testnet.server import TestNetServer
from tests.interop.baileys_client import BaileysClient
from tests.interop.node_peer import node_available

requires_node = pytest.mark.skipif(not node_available(), reason="run scripts/setup.sh first")


class Admin:
    """A thin JSON client for the admin API."""

    def __init__(self, session: aiohttp.ClientSession, url: str) -> None:
        self.session = session
        self.url = url

    async def call(
        self, method: str, path: str, body: Any = None, expect: int | None = None
    ) -> Any:
        async with self.session.request(method, self.url + path, json=body) as resp:
            data = await resp.json()
            if expect is not None:
                assert resp.status == expect, (resp.status, data)
            elif resp.status >= 400:
                raise AssertionError(f"{method} {path} -> {resp.status}: {data}")
            return data

    async def create_account(self, phone: str, push_name: str) -> dict[str, Any]:
        return await self.call("POST", "/accounts", {"phone": phone, "push_name": push_name})  # type: ignore[no-any-return]

    async def link(self, phone: str, qr: str) -> dict[str, Any]:
        return await self.call("POST", f"/accounts/{phone}/link", {"qr": qr})  # type: ignore[no-any-return]

    async def send(self, phone: str, to: str, text: str) -> str:
        return (await self.call("POST", f"/accounts/{phone}/send", {"to": to, "text": text}))["id"]  # type: ignore[no-any-return]

    async def devices(self, phone: str) -> list[dict[str, Any]]:
        return await self.call("GET", f"/accounts/{phone}/devices")  # type: ignore[no-any-return]

    async def messages(self, phone: str) -> list[dict[str, Any]]:
        return await self.call("GET", f"/accounts/{phone}/messages")  # type: ignore[no-any-return]


async def wait_not_buffering(client: BaileysClient) -> None:
    """A new companion holds its events back until the phone's app state key and history have
    arrived and it has synced; wait for that so that tests see live traffic."""
    for _ in range(200):
        if not await client.is_buffering():
            return
        await asyncio.sleep(0.1)
    raise AssertionError("Baileys kept buffering events")


async def phone_has(admin: Admin, phone: str, text: str, chat: str | None = None) -> None:
    """Wait until the simulated phone of ``phone`` has decrypted ``text`` (in ``chat``)."""
    inbox: list[dict[str, Any]] = []
    for _ in range(100):
        inbox = await admin.messages(phone)
        if any(m["text"] == text and chat in (None, m["chat"]) for m in inbox):
            return
        await asyncio.sleep(0.1)
    raise AssertionError(f"phone {phone} never got {text!r} in {chat}: {inbox}")


@pytest.fixture
async def testnet(tmp_path: Path) -> AsyncIterator[TestNetServer]:
    server = TestNetServer(tmp_path / "testnet")
    await server.start()
    try:
        yield server
    finally:
        await server.stop()


@pytest.fixture
async def admin(testnet: TestNetServer) -> AsyncIterator[Admin]:
    async with aiohttp.ClientSession() as session:
        yield Admin(session, testnet.info["admin_url"])


def baileys_env(info: dict[str, Any]) -> dict[str, str]:
    """The environment a Baileys process needs on the test network: trust for its media
    certificate, and its media proxy for the fetches Baileys insists on making from
    ``mmg.whatsapp.net`` (history blobs); chat and our own media host stay direct."""
    return {
        "NODE_EXTRA_CA_CERTS": info["tls_cert"],
        "HTTPS_PROXY": info["media_proxy_url"],
        "NO_PROXY": "127.0.0.1,localhost",
    }


async def link_baileys(
    info: dict[str, Any], admin: Admin, phone: str, auth_dir: str | Path
) -> BaileysClient:
    """Start a Baileys client and link it to ``phone``'s account by scanning its QR code."""
    client = await BaileysClient.start(info["websocket_url"], auth_dir, env=baileys_env(info))
    try:
        qr = await client.wait_event("qr", timeout=30)
        await admin.link(phone, qr["qr"])
        await client.wait_event("connection", {"connection": "open"}, timeout=30)
    except BaseException:
        await client.close()
        raise
    return client


LinkFn = Callable[[str], Awaitable[BaileysClient]]
PairFn = Callable[[str, str], Awaitable[BaileysClient]]


@pytest.fixture
async def link_companion(
    testnet: TestNetServer, admin: Admin, tmp_path: Path
) -> AsyncIterator[LinkFn]:
    """Link one more Baileys companion to an existing account; all are closed afterwards."""
    clients: list[BaileysClient] = []

    async def link(phone: str) -> BaileysClient:
        auth_dir = tmp_path / f"baileys-{phone}-{len(clients)}"
        client = await link_baileys(testnet.info, admin, phone, auth_dir)
        clients.append(client)
        return client

    yield link
    for client in clients:
        await client.close()


@pytest.fixture
async def pair_baileys(admin: Admin, link_companion: LinkFn) -> PairFn:
    """Create an account and link a fresh Baileys client to it, ready for live traffic."""

    async def pair(phone: str, push_name: str) -> BaileysClient:
        await admin.create_account(phone, push_name)
        client = await link_companion(phone)
        await wait_not_buffering(client)
        return client

    return pair
