"""Prekeys: keeping enough one-time prekeys on the server, and fetching other devices' bundles.

After login, and whenever the server says we are running low, the client asks how many of its
one-time prekeys the server still holds and uploads a new batch when that falls to the minimum.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

from .binary import JID, Node
from .errors import IQError, NotConnectedError
from .signal.keys import PreKeyBundle

if TYPE_CHECKING:
    from .client import Client

log = logging.getLogger(__name__)

MIN_PREKEYS = 5
UPLOAD_PREKEYS = 50


def _bytes(node: Node | None) -> bytes:
    return node.content if node is not None and isinstance(node.content, bytes) else b""


async def server_prekey_count(client: Client) -> int:
    answer = await client.query(
        Node("iq", {"to": "s.whatsapp.net", "type": "get", "xmlns": "encrypt"}, [Node("count")])
    )
    count = answer.child("count")
    return count.attr_int("value") if count is not None else 0


async def ensure_prekeys(client: Client) -> None:
    """Upload a batch of one-time prekeys if the server is (nearly) out of ours."""
    try:
        if await server_prekey_count(client) > MIN_PREKEYS:
            return
        await upload_prekeys(client, UPLOAD_PREKEYS)
    except (IQError, NotConnectedError, TimeoutError) as e:
        log.warning("could not refill prekeys: %s", e)


async def upload_prekeys(client: Client, count: int) -> None:
    device = client.device
    store = device.signal
    prekeys = await store.get_or_generate_prekeys(count)
    signed = device.signed_prekey
    node = Node(
        "iq",
        {"to": "s.whatsapp.net", "type": "set", "xmlns": "encrypt"},
        [
            Node("registration", {}, device.registration_id.to_bytes(4, "big")),
            Node("type", {}, b"\x05"),
            Node("identity", {}, device.identity.public[1:]),
            Node(
                "list",
                {},
                [
                    Node(
                        "key",
                        {},
                        [
                            Node("id", {}, p.key_id.to_bytes(3, "big")),
                            Node("value", {}, p.key_pair.public[1:]),
                        ],
                    )
                    for p in prekeys
                ],
            ),
            Node(
                "skey",
                {},
                [
                    Node("id", {}, signed.key_id.to_bytes(3, "big")),
                    Node("value", {}, signed.key_pair.public[1:]),
                    Node("signature", {}, signed.signature),
                ],
            ),
        ],
    )
    await client.query(node)
    await store.mark_prekeys_uploaded(p.key_id for p in prekeys)
    log.info("uploaded %d prekeys", len(prekeys))


async def fetch_bundles(client: Client, devices: list[JID]) -> dict[JID, PreKeyBundle]:
    """Prekey bundles of ``devices``; devices the server has none for are left out."""
    if not devices:
        return {}
    answer = await client.query(
        Node(
            "iq",
            {"to": "s.whatsapp.net", "type": "get", "xmlns": "encrypt"},
            [Node("key", {}, [Node("user", {"jid": str(d)}) for d in devices])],
        )
    )
    bundles: dict[JID, PreKeyBundle] = {}
    list_node = answer.child("list")
    for user in list_node.children_by_tag("user") if list_node is not None else ():
        jid = user.attr_jid("jid")
        skey = user.child("skey")
        if jid is None or skey is None or user.child("error") is not None:
            continue
        key = user.child("key")
        bundles[jid] = PreKeyBundle(
            registration_id=int.from_bytes(_bytes(user.child("registration")), "big"),
            device_id=jid.device,
            identity_key=b"\x05" + _bytes(user.child("identity"))[-32:],
            signed_prekey_id=int.from_bytes(_bytes(skey.child("id")), "big"),
            signed_prekey=b"\x05" + _bytes(skey.child("value"))[-32:],
            signed_prekey_signature=_bytes(skey.child("signature")),
            prekey_id=int.from_bytes(_bytes(key.child("id")), "big") if key is not None else None,
            prekey=b"\x05" + _bytes(key.child("value"))[-32:] if key is not None else None,
        )
    return bundles
