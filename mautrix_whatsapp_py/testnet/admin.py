"""The admin HTTP API (JSON) that tests and the sandbox use to drive the test network:
accounts and their simulated phones, linking companions, sending from a phone, and faults."""

from __future__ import annotations

import asyncio
import logging
import secrets
from typing import TYPE_CHECKING, Any

from aiohttp import web

from ..whatsapp.proto import wa_e2e_pb2 as e2e
from .pairing import PairingError
from .phone import Phone

if TYPE_CHECKING:
    from .network import Network
    from .server import TestNetServer

log = logging.getLogger(__name__)


def _error(status: int, message: str) -> web.Response:
    return web.json_response({"error": message}, status=status)


async def _body(request: web.Request) -> dict[str, Any]:
    try:
        data = await request.json()
    except ValueError:
        raise web.HTTPBadRequest(
            text='{"error": "body is not JSON"}', content_type="application/json"
        ) from None
    if not isinstance(data, dict):
        raise web.HTTPBadRequest(
            text='{"error": "body must be an object"}', content_type="application/json"
        )
    return data


def _text_of(message: e2e.Message) -> str | None:
    if message.HasField("device_sent_message"):
        message = message.device_sent_message.message
    if message.conversation:
        return message.conversation
    if message.HasField("extended_text_message"):
        return message.extended_text_message.text
    if message.HasField("image_message"):
        return message.image_message.caption
    return None


def admin_routes(server: TestNetServer) -> list[web.RouteDef]:
    def net() -> Network:
        if server.network is None:
            raise web.HTTPServiceUnavailable(
                text='{"error": "restarting"}', content_type="application/json"
            )
        return server.network

    async def create_account(request: web.Request) -> web.Response:
        data = await _body(request)
        phone = str(data.get("phone", "")).lstrip("+")
        if not phone.isdigit() or not 5 <= len(phone) <= 15:
            return _error(400, "phone must be 5 to 15 digits")
        network = net()
        if await network.storage.get_account(phone) is not None:
            return _error(409, f"account {phone} exists")
        lid = str(10**14 + secrets.randbelow(9 * 10**14))
        account = await network.storage.create_account(
            phone, str(data.get("push_name") or phone), lid
        )
        network.phones[phone] = await Phone.load(network, account)
        return web.json_response(
            {
                "phone": phone,
                "jid": account.jid,
                "lid": f"{lid}@lid",
                "push_name": account.push_name,
            },
            status=201,
        )

    async def list_accounts(request: web.Request) -> web.Response:
        accounts = await net().storage.list_accounts()
        return web.json_response(
            [{"phone": a.phone, "jid": a.jid, "push_name": a.push_name} for a in accounts]
        )

    async def link(request: web.Request) -> web.Response:
        data = await _body(request)
        try:
            device = await net().pairing.link_qr(
                request.match_info["phone"], str(data.get("qr", ""))
            )
        except PairingError as e:
            return _error(400, str(e))
        return web.json_response({"jid": device.jid, "device_id": device.device_id})

    async def link_code(request: web.Request) -> web.Response:
        data = await _body(request)
        try:
            await net().pairing.link_code(request.match_info["phone"], str(data.get("code", "")))
        except PairingError as e:
            return _error(400, str(e))
        return web.json_response({"accepted": True})

    async def send(request: web.Request) -> web.Response:
        data = await _body(request)
        phone = net().phones.get(request.match_info["phone"])
        if phone is None:
            return _error(404, "no such account")
        try:
            msg_id = await phone.send_text(str(data.get("to", "")), str(data.get("text", "")))
        except ValueError as e:
            return _error(400, str(e))
        return web.json_response({"id": msg_id})

    async def devices(request: web.Request) -> web.Response:
        network = net()
        phone = request.match_info["phone"]
        out = []
        for device in await network.storage.devices_of(phone):
            out.append(
                {
                    "jid": device.jid,
                    "device_id": device.device_id,
                    "platform": device.platform,
                    "key_index": device.key_index,
                    "online": device.device_id == 0
                    or (phone, device.device_id) in network.connections,
                    "queued": await network.storage.count_queued(phone, device.device_id),
                    "prekeys": await network.storage.count_prekeys(phone, device.device_id),
                }
            )
        return web.json_response(out)

    async def unlink(request: web.Request) -> web.Response:
        ok = await net().unlink(request.match_info["phone"], int(request.match_info["device"]))
        return web.json_response({"removed": ok}, status=200 if ok else 404)

    async def drop(request: web.Request) -> web.Response:
        ok = await net().disconnect(request.match_info["phone"], int(request.match_info["device"]))
        return web.json_response({"dropped": ok}, status=200 if ok else 404)

    async def take_prekeys(request: web.Request) -> web.Response:
        """Consume one-time prekeys of a device as bundle fetches by other clients would."""
        data = await _body(request)
        network = net()
        phone, device_id = request.match_info["phone"], int(request.match_info["device"])
        if await network.storage.get_device(phone, device_id) is None:
            return _error(404, "no such device")
        try:
            count = int(data.get("count", 1))
        except (TypeError, ValueError):
            return _error(400, "count must be a number")
        taken = []
        for _ in range(max(count, 0)):
            prekey = await network.take_prekey(phone, device_id)
            if prekey is None:
                break
            taken.append(prekey[0])
        left = await network.storage.count_prekeys(phone, device_id)
        return web.json_response({"taken": taken, "left": left})

    async def corrupt_next(request: web.Request) -> web.Response:
        key = (request.match_info["phone"], int(request.match_info["device"]))
        net().faults.corrupt_next.add(key)
        return web.json_response({"corrupt_next": True})

    async def tamper_identity_next(request: web.Request) -> web.Response:
        key = (request.match_info["phone"], int(request.match_info["device"]))
        net().faults.tamper_identity_next.add(key)
        return web.json_response({"tamper_identity_next": True})

    async def stall(request: web.Request) -> web.Response:
        key = (request.match_info["phone"], int(request.match_info["device"]))
        conn = net().connections.get(key)
        if conn is None:
            return _error(404, "device is not connected")
        conn.stalled = True
        return web.json_response({"stalled": True})

    async def reinstall(request: web.Request) -> web.Response:
        phone = net().phones.get(request.match_info["phone"])
        if phone is None:
            return _error(404, "no such account")
        await phone.reinstall()
        return web.json_response({"reinstalled": True})

    async def garbage(request: web.Request) -> web.Response:
        """Send the device a frame that decrypts fine but is no valid stanza."""
        conn = net().connections.get(
            (request.match_info["phone"], int(request.match_info["device"]))
        )
        if conn is None:
            return _error(404, "device is not connected")
        await conn.sock.send_frame(b"\x00\xf8\xff" + secrets.token_bytes(32))
        return web.json_response({"sent": True})

    async def lose_next_ack(request: web.Request) -> web.Response:
        key = (request.match_info["phone"], int(request.match_info["device"]))
        net().faults.lose_next_ack.add(key)
        return web.json_response({"lose_next_ack": True})

    async def pause(request: web.Request) -> web.Response:
        net().faults.paused.add(request.match_info["phone"])
        return web.json_response({"paused": True})

    async def resume(request: web.Request) -> web.Response:
        await net().resume(request.match_info["phone"])
        return web.json_response({"paused": False})

    async def messages(request: web.Request) -> web.Response:
        out = []
        for item in await net().storage.inbox(request.match_info["phone"]):
            try:
                text = _text_of(e2e.Message.FromString(item.pop("message")))
            except Exception:
                text = None
            out.append({**item, "text": text})
        return web.json_response(out)

    async def restart(request: web.Request) -> web.Response:
        async def later() -> None:
            await asyncio.sleep(0.05)
            await server.restart()

        asyncio.get_running_loop().create_task(later())
        return web.json_response({"restarting": True})

    return [
        web.post("/accounts", create_account),
        web.get("/accounts", list_accounts),
        web.post("/accounts/{phone}/link", link),
        web.post("/accounts/{phone}/link-code", link_code),
        web.post("/accounts/{phone}/send", send),
        web.get("/accounts/{phone}/devices", devices),
        web.delete("/accounts/{phone}/devices/{device}", unlink),
        web.post("/accounts/{phone}/devices/{device}/drop", drop),
        web.post("/accounts/{phone}/devices/{device}/take-prekeys", take_prekeys),
        web.post("/accounts/{phone}/devices/{device}/corrupt-next", corrupt_next),
        web.post("/accounts/{phone}/devices/{device}/tamper-identity-next", tamper_identity_next),
        web.post("/accounts/{phone}/devices/{device}/stall", stall),
        web.post("/accounts/{phone}/reinstall", reinstall),
        web.post("/accounts/{phone}/devices/{device}/garbage", garbage),
        web.post("/accounts/{phone}/devices/{device}/lose-next-ack", lose_next_ack),
        web.post("/accounts/{phone}/pause", pause),
        web.post("/accounts/{phone}/resume", resume),
        web.get("/accounts/{phone}/messages", messages),
        web.post("/restart", restart),
    ]
