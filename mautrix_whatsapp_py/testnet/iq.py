"""Answers to the info/query (``iq``) stanzas clients send, by namespace.

Each handler returns the children of the ``result`` IQ or raises :class:`IQError`, which the
dispatcher turns into an ``error`` IQ, as the real server does for requests it refuses.
"""

from __future__ import annotations

import hashlib
import logging
import os
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING

from ..whatsapp.binary import JID, Node
from ..whatsapp.binary.jid import DEFAULT_USER_SERVER as USER_SERVER
from ..whatsapp.signal.wire import field_bytes, field_int
from .groups import IQError, handle_group_iq
from .storage import Device, now

if TYPE_CHECKING:
    from .connection import Connection
    from .network import Network

log = logging.getLogger(__name__)

APP_STATE_COLLECTIONS = (
    "critical_block",
    "critical_unblock_low",
    "regular_high",
    "regular_low",
    "regular",
)

Handler = Callable[["Network", "Connection", Node], Awaitable[list[Node]]]


def _bytes(node: Node | None) -> bytes:
    if node is None or not isinstance(node.content, (bytes, bytearray)):
        return b""
    return bytes(node.content)


def _me(conn: Connection) -> tuple[str, int]:
    if conn.key is None:
        raise IQError(401, "not-authorized")
    return conn.key


# -- keepalive, passive mode, props, privacy ---------------------------------------------------


async def _empty(network: Network, conn: Connection, iq: Node) -> list[Node]:
    return []


async def _props(network: Network, conn: Connection, iq: Node) -> list[Node]:
    props = [Node("prop", {"name": "testnet", "value": "1"})]
    return [Node("props", {"protocol": "2", "hash": "testnet-1"}, props)]


async def _privacy(network: Network, conn: Connection, iq: Node) -> list[Node]:
    if iq.attr_str("type") == "set":
        return []
    categories = [
        ("last", "all"),
        ("online", "all"),
        ("profile", "all"),
        ("status", "all"),
        ("groupadd", "all"),
        ("readreceipts", "all"),
        ("calladd", "all"),
    ]
    return [Node("privacy", {}, [Node("category", {"name": n, "value": v}) for n, v in categories])]


async def _blocklist(network: Network, conn: Connection, iq: Node) -> list[Node]:
    return [Node("list", {})] if iq.attr_str("type") == "get" else []


# -- prekeys -------------------------------------------------------------------------------------


async def _encrypt(network: Network, conn: Connection, iq: Node) -> list[Node]:
    phone, device_id = _me(conn)
    storage = network.storage
    kind = iq.attr_str("type")
    if kind == "get" and iq.child("count") is not None:
        return [Node("count", {"value": str(await storage.count_prekeys(phone, device_id))})]
    if kind == "get" and iq.child("key") is not None:
        users = []
        key_node = iq.child("key")
        assert key_node is not None
        for user in key_node.children_by_tag("user"):
            jid = user.attr_jid("jid")
            users.append(await _bundle(network, jid) if jid else Node("user", {}))
        return [Node("list", {}, users)]
    if kind == "get" and iq.child("digest") is not None:
        return [await _digest(network, phone, device_id)]
    if kind == "set" and iq.child("list") is not None:
        keys = []
        list_node = iq.child("list")
        assert list_node is not None
        for key in list_node.children_by_tag("key"):
            keys.append(
                (
                    int.from_bytes(_bytes(key.child("id")), "big"),
                    b"\x05" + _bytes(key.child("value"))[-32:],
                )
            )
        skey = iq.child("skey")
        identity = _bytes(iq.child("identity"))
        if skey is not None and identity:
            await storage.update_signed_prekey(
                phone,
                device_id,
                int.from_bytes(_bytes(iq.child("registration")), "big"),
                b"\x05" + identity[-32:],
                int.from_bytes(_bytes(skey.child("id")), "big"),
                b"\x05" + _bytes(skey.child("value"))[-32:],
                _bytes(skey.child("signature")),
            )
        await storage.add_prekeys(phone, device_id, keys)
        return []
    if kind == "set" and iq.child("rotate") is not None:
        rotate = iq.child("rotate")
        assert rotate is not None
        skey = rotate.child("skey")
        device = await storage.get_device(phone, device_id)
        if skey is None or device is None:
            raise IQError(400, "bad-request")
        await storage.update_signed_prekey(
            phone,
            device_id,
            device.registration_id,
            device.identity_key,
            int.from_bytes(_bytes(skey.child("id")), "big"),
            b"\x05" + _bytes(skey.child("value"))[-32:],
            _bytes(skey.child("signature")),
        )
        return []
    raise IQError(400, "bad-request")


def _identity_nodes(device: Device) -> list[Node]:
    """Registration id, key type, identity and signed prekey, as bundles and digests carry them."""
    return [
        Node("registration", {}, device.registration_id.to_bytes(4, "big")),
        Node("type", {}, b"\x05"),
        Node("identity", {}, device.identity_key[1:]),
        Node(
            "skey",
            {},
            [
                Node("id", {}, device.skey_id.to_bytes(3, "big")),
                Node("value", {}, device.skey_pub[1:]),
                Node("signature", {}, device.skey_sig),
            ],
        ),
    ]


async def _bundle(network: Network, jid: JID) -> Node:
    phone = await network.resolve_user(jid)
    device = await network.storage.get_device(phone, jid.device) if phone else None
    if device is None:
        return Node(
            "user", {"jid": str(jid)}, [Node("error", {"code": "404", "text": "item-not-found"})]
        )
    children = _identity_nodes(device)
    prekey = await network.take_prekey(device.phone, device.device_id)
    if prekey is not None:
        children.append(
            Node(
                "key",
                {},
                [Node("id", {}, prekey[0].to_bytes(3, "big")), Node("value", {}, prekey[1][1:])],
            )
        )
    return Node("user", {"jid": str(jid)}, children)


async def _digest(network: Network, phone: str, device_id: int) -> Node:
    device = await network.storage.get_device(phone, device_id)
    if device is None:
        raise IQError(404, "item-not-found")
    rows = await network.storage.db.fetch(
        "SELECT key_id, pub FROM prekey WHERE phone = $1 AND device_id = $2 ORDER BY key_id",
        phone,
        device_id,
    )
    digest = hashlib.sha1(device.identity_key[1:] + device.skey_pub[1:] + device.skey_sig)
    for row in rows:
        digest.update(bytes(row["pub"])[1:])
    return Node(
        "digest",
        {},
        [
            *_identity_nodes(device),
            Node("list", {}, [Node("id", {}, int(r["key_id"]).to_bytes(3, "big")) for r in rows]),
            Node("hash", {}, digest.digest()),
        ],
    )


# -- usync: device lists, contacts, status, LIDs -------------------------------------------------


async def _usync(network: Network, conn: Connection, iq: Node) -> list[Node]:
    usync = iq.child("usync")
    if usync is None:
        raise IQError(400, "bad-request")
    query = usync.child("query")
    protocols = [c.tag for c in query.children] if query is not None else []
    users = []
    list_node = usync.child("list")
    for user in list_node.children_by_tag("user") if list_node is not None else ():
        jid = user.attr_jid("jid")
        phone: str | None = None
        if jid is not None:
            phone = await network.resolve_user(jid)
        contact = user.child("contact")
        if phone is None and contact is not None:
            raw = contact.content
            number = (raw.decode() if isinstance(raw, bytes) else str(raw or "")).lstrip("+")
            if await network.storage.get_account(number) is not None:
                phone = number
        account = await network.storage.get_account(phone) if phone else None
        out_jid = str(jid) if jid is not None else f"{phone or 'unknown'}@{USER_SERVER}"
        children = []
        for protocol in protocols:
            if protocol == "devices":
                children.append(
                    await _device_list(network, account.phone)
                    if account
                    else Node("devices", {}, [Node("error", {"code": "404", "text": "not found"})])
                )
            elif protocol == "contact":
                children.append(Node("contact", {"type": "in" if account else "out"}))
            elif protocol == "status" and account:
                children.append(
                    Node("status", {"t": str(account.created)}, account.status.encode() or None)
                )
            elif protocol == "lid" and account:
                children.append(Node("lid", {"val": f"{account.lid}@lid"}))
            elif protocol == "disappearing_mode":
                children.append(Node("disappearing_mode", {"duration": "0", "t": "0"}))
            elif protocol == "business":
                children.append(Node("business", {}))
        users.append(Node("user", {"jid": out_jid}, children))
    result = Node(
        "usync",
        {
            k: usync.attr_str(k)
            for k in ("sid", "mode", "last", "index", "context")
            if usync.attr_str(k)
        },
        [Node("result", {}), Node("list", {}, users)],
    )
    return [result]


async def _device_list(network: Network, phone: str) -> Node:
    devices = await network.storage.devices_of(phone)
    entries = []
    for device in devices:
        attrs = {"id": str(device.device_id)}
        if device.device_id:
            attrs["key-index"] = str(device.key_index)
        entries.append(Node("device", attrs))
    children = [Node("device-list", {}, entries)]
    phone_sim = network.phones.get(phone)
    if phone_sim is not None:
        children.append(
            Node(
                "key-index-list",
                {"ts": str(now())},
                phone_sim.signed_key_index_list([d.key_index for d in devices if d.device_id]),
            )
        )
    return Node("devices", {}, children)


# -- media, profile, app state ------------------------------------------------------------------


async def _media_conn(network: Network, conn: Connection, iq: Node) -> list[Node]:
    if iq.child("media_conn") is None:
        raise IQError(400, "bad-request")
    auth = network.media_auth
    return [
        Node(
            "media_conn",
            {"auth": auth, "ttl": "3600", "auth_ttl": "3600", "max_buckets": "12"},
            [Node("host", {"hostname": network.media_host})],
        )
    ]


async def _profile_picture(network: Network, conn: Connection, iq: Node) -> list[Node]:
    phone, _ = _me(conn)
    target = iq.attr_str("target") or f"{phone}@{USER_SERVER}"
    if iq.attr_str("type") == "set":
        picture = iq.child("picture")
        if picture is None or not isinstance(picture.content, bytes):
            await network.storage.remove_profile_picture(target)
            return []
        pic_id = str(now())
        path = await network.media.store_public(picture.content, "jpg")
        await network.storage.set_profile_picture(target, pic_id, path)
        note = network.notification("picture", target, [Node("set", {"jid": target, "id": pic_id})])
        for account in await network.storage.list_accounts():
            await network.deliver_to_user(account.phone, note)
        return [Node("picture", {"id": pic_id})]
    found = await network.storage.get_profile_picture(target)
    if found is None:
        raise IQError(404, "item-not-found")
    pic_id, path = found
    return [
        Node(
            "picture",
            {"id": pic_id, "type": "image", "url": network.media_url + path, "direct_path": path},
        )
    ]


async def _status(network: Network, conn: Connection, iq: Node) -> list[Node]:
    phone, _ = _me(conn)
    status = iq.child("status")
    if iq.attr_str("type") == "set" and status is not None:
        text = status.content
        await network.storage.set_status(phone, text.decode() if isinstance(text, bytes) else "")
    return []


async def _app_state(network: Network, conn: Connection, iq: Node) -> list[Node]:
    phone, device_id = _me(conn)
    sync = iq.child("sync")
    if sync is None:
        raise IQError(400, "bad-request")
    out = []
    for collection in sync.children_by_tag("collection"):
        name = collection.attr_str("name")
        if name not in APP_STATE_COLLECTIONS:
            out.append(
                Node(
                    "collection",
                    {"name": name, "type": "error"},
                    [Node("error", {"code": "400", "text": "bad-request"})],
                )
            )
            continue
        client_version = collection.attr_int("version")
        current = await network.storage.app_state_version(phone, name)
        patches = list(collection.children_by_tag("patch"))
        if patches:
            if client_version != current:
                out.append(
                    Node(
                        "collection",
                        {"name": name, "type": "error"},
                        [Node("error", {"code": "409", "text": "conflict"})],
                    )
                )
                continue
            for patch in patches:
                current += 1
                # Stamp the version into the opaque patch: a protobuf field appended to a
                # message overrides an earlier one, so no parsing is needed.
                stamped = _bytes(patch) + field_bytes(1, field_int(1, current))
                await network.storage.add_app_state_patch(phone, name, current, stamped)
            out.append(
                Node("collection", {"name": name, "version": str(current), "type": "result"})
            )
            note = network.notification(
                "server_sync",
                USER_SERVER,
                [Node("collection", {"name": name, "version": str(current)})],
            )
            await network.deliver_to_user(phone, note, exclude=(phone, device_id))
            continue
        served = await network.storage.app_state_patches(phone, name, client_version)
        children = (
            [Node("patches", {}, [Node("patch", {}, p) for _, p in served])] if served else []
        )
        out.append(Node("collection", {"name": name, "version": str(current)}, children))
    return [Node("sync", {}, out)]


# -- companion devices ---------------------------------------------------------------------------


async def _md(network: Network, conn: Connection, iq: Node) -> list[Node]:
    remove = iq.child("remove-companion-device")
    if remove is not None:
        phone, _ = _me(conn)
        jid = remove.attr_jid("jid")
        if jid is None or jid.user != phone:
            raise IQError(403, "forbidden")
        await network.unlink(phone, jid.device)
        return []
    if iq.child("link_code_companion_reg") is not None:
        return await network.pairing.companion_stage(conn, iq)
    raise IQError(501, "feature-not-implemented")


async def _groups(network: Network, conn: Connection, iq: Node) -> list[Node]:
    phone, _ = _me(conn)
    return await handle_group_iq(network, phone, iq)


HANDLERS: dict[str, Handler] = {
    "w:p": _empty,
    "passive": _empty,
    "w": _props,
    "abt": _props,
    "privacy": _privacy,
    "blocklist": _blocklist,
    "encrypt": _encrypt,
    "usync": _usync,
    "w:m": _media_conn,
    "w:profile:picture": _profile_picture,
    "status": _status,
    "w:sync:app:state": _app_state,
    "md": _md,
    "w:g2": _groups,
    "w:stats": _empty,
    "urn:xmpp:whatsapp:dirty": _empty,
    "disappearing_mode": _empty,
    "w:biz": _empty,
}


async def handle_iq(network: Network, conn: Connection, iq: Node) -> None:
    xmlns = iq.attr_str("xmlns")
    stanza_id = iq.attr_str("id")
    handler = HANDLERS.get(xmlns)
    reply_attrs = {"id": stanza_id, "from": iq.attr_str("to") or USER_SERVER}
    try:
        if handler is None:
            log.info("unhandled iq xmlns=%r from %r: %s", xmlns, conn, iq)
            raise IQError(501, "feature-not-implemented")
        if conn.key is None and xmlns not in ("md", "w:p"):
            raise IQError(401, "not-authorized")
        children = await handler(network, conn, iq)
        reply = Node("iq", {**reply_attrs, "type": "result"}, children or None)
    except IQError as e:
        reply = Node(
            "iq",
            {**reply_attrs, "type": "error"},
            [Node("error", {"code": str(e.code), "text": e.text})],
        )
    await conn.send(reply)


def random_id() -> str:
    return os.urandom(8).hex().upper()
