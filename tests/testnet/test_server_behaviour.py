"""Behaviour of the test network server itself, checked with real parts: the command line with a
persistent data directory, a replaced login, a dropped connection, paused delivery, the
low-prekey notification and the history a newly linked companion gets from the phone."""

from __future__ import annotations

import asyncio
import base64
import json
import shutil
import sys
from pathlib import Path
from typing import Any

import aiohttp

from mautrix_whatsapp_py.testnet.server import TestNetServer
from tests.interop.baileys_client import BaileysClient

from .conftest import Admin, LinkFn, PairFn, baileys_env, requires_node, wait_not_buffering

ALICE, BOB = "15550101", "15550102"
ALICE_JID, BOB_JID = f"{ALICE}@s.whatsapp.net", f"{BOB}@s.whatsapp.net"


async def _texts(client: BaileysClient, text: str, after: int = 0) -> list[dict[str, Any]]:
    """Every message event with exactly ``text`` after ``after``."""
    return [e for e in await client.events(after) if e["type"] == "message" and e["text"] == text]


async def _assert_absent(client: BaileysClient, text: str, after: int, polls: int = 20) -> None:
    """Poll a while (``polls`` times 0.1 s) that no message ``text`` shows up."""
    for _ in range(polls):
        assert not await _texts(client, text, after), f"{text!r} arrived"
        await asyncio.sleep(0.1)


async def _device(admin: Admin, phone: str, device_id: int) -> dict[str, Any]:
    return {d["device_id"]: d for d in await admin.devices(phone)}[device_id]


async def _device_id(client: BaileysClient) -> int:
    me = await client.me()
    assert me is not None
    return int(me["id"].split("@")[0].split(":")[1])


# -- the command line ----------------------------------------------------------------------------


async def _start_cli(data: Path) -> tuple[asyncio.subprocess.Process, dict[str, Any]]:
    info_path = data / "server.json"
    info_path.unlink(missing_ok=True)
    proc = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "mautrix_whatsapp_py.testnet",
        "--host",
        "127.0.0.1",
        "--port",
        "0",
        "--data",
        str(data),
        stdout=asyncio.subprocess.DEVNULL,
        stderr=asyncio.subprocess.PIPE,
    )
    for _ in range(300):
        if proc.returncode is not None:
            assert proc.stderr is not None
            err = await proc.stderr.read()
            raise AssertionError(f"server exited with {proc.returncode}: {err.decode()}")
        if info_path.exists():
            try:
                return proc, json.loads(info_path.read_text())
            except ValueError:
                pass  # being written
        await asyncio.sleep(0.1)
    proc.kill()
    raise AssertionError("server.json never appeared")


async def _stop_cli(proc: asyncio.subprocess.Process) -> None:
    proc.terminate()
    try:
        async with asyncio.timeout(20):
            await proc.wait()
    except TimeoutError:
        proc.kill()
        await proc.wait()
        raise AssertionError("server did not stop on SIGTERM") from None


async def test_cli_writes_server_json_and_keeps_state(tmp_path: Path) -> None:
    data = tmp_path / "cli-data"
    proc, info = await _start_cli(data)
    try:
        assert info["websocket_url"].startswith("ws://127.0.0.1:")
        assert info["websocket_url"].endswith("/ws/chat")
        assert info["admin_url"].startswith("http://127.0.0.1:")
        assert info["media_url"].startswith("https://127.0.0.1:")
        assert len(base64.b64decode(info["noise_root_public_key"])) == 32
        assert await asyncio.to_thread(Path(info["tls_cert"]).is_file)
        assert info["media_proxy_url"].startswith("http://127.0.0.1:")
        async with aiohttp.ClientSession() as session:
            admin = Admin(session, info["admin_url"])
            created = await admin.create_account(ALICE, "Alice")
            assert created["jid"] == ALICE_JID
    finally:
        await _stop_cli(proc)

    proc, again = await _start_cli(data)
    try:
        assert again["noise_root_public_key"] == info["noise_root_public_key"]
        async with aiohttp.ClientSession() as session:
            admin = Admin(session, again["admin_url"])
            accounts = await admin.call("GET", "/accounts")
            assert [a["phone"] for a in accounts] == [ALICE]
            await admin.call(
                "POST", "/accounts", {"phone": ALICE, "push_name": "Alice"}, expect=409
            )
    finally:
        await _stop_cli(proc)


# -- connections ---------------------------------------------------------------------------------


@requires_node
async def test_second_login_replaces_first(
    pair_baileys: PairFn, testnet: TestNetServer, admin: Admin, tmp_path: Path
) -> None:
    alice = await pair_baileys(ALICE, "Alice")
    bob = await pair_baileys(BOB, "Bob")
    device_id = await _device_id(alice)
    # The first client must stay down once replaced, or it would replace the second in turn.
    await alice.stop()
    after_first = await alice.last_seq()

    copy = tmp_path / "alice-copy"
    shutil.copytree(tmp_path / f"baileys-{ALICE}-0", copy)
    second = await BaileysClient.start(
        testnet.info["websocket_url"], copy, env=baileys_env(testnet.info)
    )
    try:
        closed = await alice.wait_event("connection", {"connection": "close"}, after=after_first)
        assert closed["statusCode"] == 440, closed  # DisconnectReason.connectionReplaced
        await second.wait_event("connection", {"connection": "open"})
        await wait_not_buffering(second)
        assert (await second.me() or {})["id"] == (await alice.me() or {})["id"]
        assert (await _device(admin, ALICE, device_id))["online"]

        after = await bob.last_seq()
        msg_id = await second.send_text(BOB_JID, "from the second login")
        got = await bob.wait_event("message", {"text": "from the second login"}, after=after)
        assert got["key"]["id"] == msg_id and got["key"]["remoteJid"] == ALICE_JID
        # The second stays connected: nothing closed it.
        assert not [
            e
            for e in await second.events()
            if e["type"] == "connection" and e["connection"] == "close"
        ]
    finally:
        await second.end()
        await second.close()


@requires_node
async def test_dropped_connection_reconnects_and_gets_what_it_missed(
    pair_baileys: PairFn, admin: Admin
) -> None:
    alice = await pair_baileys(ALICE, "Alice")
    await pair_baileys(BOB, "Bob")
    device_id = await _device_id(alice)
    after = await alice.last_seq()
    assert (await admin.call("POST", f"/accounts/{ALICE}/devices/{device_id}/drop"))["dropped"]
    closed = await alice.wait_event("connection", {"connection": "close"}, after=after)
    # Bob's phone writes while Alice's companion is away.
    msg_id = await admin.send(BOB, ALICE_JID, "while you were away")
    # Baileys reconnects by itself and is handed the message from its offline queue.
    await alice.wait_event("connection", {"connection": "open"}, after=closed["seq"])
    got = await alice.wait_event("message", {"text": "while you were away"}, after=after)
    assert got["key"]["id"] == msg_id and got["key"]["remoteJid"] == BOB_JID
    assert got["upsertType"] == "append"  # it came as an offline message
    for _ in range(50):
        if (await _device(admin, ALICE, device_id))["queued"] == 0:
            break
        await asyncio.sleep(0.1)
    assert (await _device(admin, ALICE, device_id))["queued"] == 0
    # Exactly once, also after a while.
    for _ in range(10):
        assert len(await _texts(alice, "while you were away", after)) == 1
        await asyncio.sleep(0.1)


@requires_node
async def test_paused_delivery_is_held_until_resume(pair_baileys: PairFn, admin: Admin) -> None:
    alice = await pair_baileys(ALICE, "Alice")
    bob = await pair_baileys(BOB, "Bob")
    await admin.call("POST", f"/accounts/{BOB}/pause")
    after = await bob.last_seq()
    msg_id = await alice.send_text(BOB_JID, "held back")
    await _assert_absent(bob, "held back", after)
    device_id = await _device_id(bob)
    assert (await _device(admin, BOB, device_id))["queued"] >= 1

    await admin.call("POST", f"/accounts/{BOB}/resume")
    got = await bob.wait_event("message", {"text": "held back"}, after=after)
    assert got["key"]["id"] == msg_id
    for _ in range(10):
        assert len(await _texts(bob, "held back", after)) == 1
        await asyncio.sleep(0.1)


# -- prekeys -------------------------------------------------------------------------------------


@requires_node
async def test_low_prekeys_make_the_client_upload_more(pair_baileys: PairFn, admin: Admin) -> None:
    alice = await pair_baileys(ALICE, "Alice")
    device_id = await _device_id(alice)
    start = (await _device(admin, ALICE, device_id))["prekeys"]
    assert start > 5
    # Baileys uploads more when told fewer than 5 are left.
    taken = await admin.call(
        "POST", f"/accounts/{ALICE}/devices/{device_id}/take-prekeys", {"count": start - 3}
    )
    assert len(taken["taken"]) == start - 3 and taken["left"] == 3
    for _ in range(100):
        count = (await _device(admin, ALICE, device_id))["prekeys"]
        if count > 5:
            break
        await asyncio.sleep(0.1)
    assert count > 5, count
    # The refilled keys are new ones, not those handed out.
    fetched = await admin.call(
        "POST", f"/accounts/{ALICE}/devices/{device_id}/take-prekeys", {"count": 1}
    )
    assert not set(fetched["taken"]) & set(taken["taken"])

    await admin.call("POST", f"/accounts/{ALICE}/devices/99/take-prekeys", {"count": 1}, expect=404)


# -- history sync --------------------------------------------------------------------------------


@requires_node
async def test_new_companion_receives_history(
    pair_baileys: PairFn,
    testnet: TestNetServer,
    admin: Admin,
    link_companion: LinkFn,
) -> None:
    alice = await pair_baileys(ALICE, "Alice")
    bob = await pair_baileys(BOB, "Bob")
    # Bob's phone and Alice's companion talk.
    after = await bob.last_seq()
    first = await admin.send(BOB, ALICE_JID, "history one")
    await alice.wait_event("message", {"text": "history one"})
    second = await alice.send_text(BOB_JID, "history two")
    await bob.wait_event("message", {"text": "history two"}, after=after)
    third = await admin.send(BOB, ALICE_JID, "history three")
    await alice.wait_event("message", {"text": "history three"})
    # Alice's phone has them all (so it can hand them to a new companion).
    for _ in range(100):
        texts = {m["text"] for m in await admin.messages(ALICE)}
        if {"history one", "history two", "history three"} <= texts:
            break
        await asyncio.sleep(0.1)

    laptop = await link_companion(ALICE)
    history = await laptop.wait_event("history", timeout=30)
    assert history["chats"] >= 1
    by_text = {m["text"]: m["key"] for m in history["messages"] if m["text"]}
    assert {"history one", "history two", "history three"} <= set(by_text), history
    assert by_text["history one"]["id"] == first and not by_text["history one"]["fromMe"]
    assert by_text["history two"]["id"] == second and by_text["history two"]["fromMe"]
    assert by_text["history three"]["id"] == third
    assert all(by_text[t]["remoteJid"] == BOB_JID for t in by_text if t.startswith("history"))
    assert history["syncType"] == 0  # INITIAL_BOOTSTRAP
    assert history["isLatest"] is True


async def test_media_proxy_tunnels_only_the_media_host(testnet: TestNetServer) -> None:
    proxy = testnet.info["media_proxy_url"].removeprefix("http://")
    host, port = proxy.rsplit(":", 1)

    async def connect(target: str) -> bytes:
        reader, writer = await asyncio.open_connection(host, int(port))
        try:
            writer.write(f"CONNECT {target} HTTP/1.1\r\nHost: {target}\r\n\r\n".encode())
            await writer.drain()
            return await reader.readuntil(b"\r\n\r\n")
        finally:
            writer.close()

    assert (await connect("example.com:443")).startswith(b"HTTP/1.1 403")
    assert (await connect("mmg.whatsapp.net:80")).startswith(b"HTTP/1.1 403")
    assert (await connect("mmg.whatsapp.net:443")).startswith(b"HTTP/1.1 200")
