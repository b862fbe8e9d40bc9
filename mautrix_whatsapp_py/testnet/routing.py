"""Routing of messages, receipts, presence and chat states between devices.

A sender encrypts once per recipient device and lists those copies in ``<participants>``; the
server never reads the ciphertext, it only hands each device its own copy (plus the group-wide
sender-key copy in groups) with the sender's address stamped on it, and acks the sender.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

from ..whatsapp.binary import JID, Node
from ..whatsapp.binary.jid import DEFAULT_USER_SERVER as USER_SERVER
from ..whatsapp.binary.jid import GROUP_SERVER
from .storage import device_jid, now

if TYPE_CHECKING:
    from .network import Network

log = logging.getLogger(__name__)


def _device_key(jid: JID) -> tuple[str, int]:
    return jid.user, jid.device


def _individual_copies(node: Node) -> dict[tuple[str, int], list[Node]]:
    """The per-device ``enc`` children of a sent message, keyed by (user, device)."""
    copies: dict[tuple[str, int], list[Node]] = {}
    participants = node.child("participants")
    if participants is None:
        return copies
    for to in participants.children_by_tag("to"):
        jid = to.attr_jid("jid")
        if jid is not None:
            copies[_device_key(jid)] = [c for c in to.children if c.tag == "enc"]
    return copies


async def route_message(network: Network, sender: tuple[str, int], node: Node) -> Node | None:
    """Fan a sent message out to its recipients; returns the server ack for the sender."""
    to = node.attr_jid("to")
    msg_id = node.attr_str("id")
    if to is None or not msg_id:
        return Node("ack", {"class": "message", "id": msg_id, "error": "400"})
    phone, device_id = sender
    sender_jid = device_jid(phone, device_id)
    account = await network.storage.get_account(phone)
    push_name = account.push_name if account else ""
    copies = _individual_copies(node)
    shared = [c for c in node.children if c.tag == "enc"]
    identity = node.child("device-identity")
    extra = [identity] if identity is not None else []
    ts = str(now())
    base = {"id": msg_id, "type": node.attr_str("type", "text"), "t": ts, "notify": push_name}
    delivered = 0

    if to.server == GROUP_SERVER:
        group = await network.storage.get_group(str(to))
        if group is None or phone not in group.members:
            return Node("ack", {"class": "message", "id": msg_id, "from": str(to), "error": "403"})
        # In announcement mode only admins may post; a retry copy to one device still passes.
        only = node.attr_jid("participant")
        if group.announce and not group.members[phone] and only is None:
            return Node("ack", {"class": "message", "id": msg_id, "from": str(to), "error": "403"})
        for member in group.members:
            for device in await network.storage.devices_of(member):
                key = (member, device.device_id)
                if key == sender or (only is not None and _device_key(only) != key):
                    continue
                encs = copies.get(key, []) + shared
                if not encs:
                    continue
                attrs = {"from": str(to), "participant": sender_jid, **base}
                await network.deliver(
                    member, device.device_id, Node("message", attrs, encs + extra)
                )
                delivered += 1
        return Node("ack", {"class": "message", "id": msg_id, "from": str(to), "t": ts})

    recipient_phone = await network.resolve_user(to)
    if recipient_phone is None or await network.storage.get_account(recipient_phone) is None:
        return Node("ack", {"class": "message", "id": msg_id, "from": str(to), "error": "404"})
    chat = node.attr_jid("recipient") if recipient_phone == phone else None
    chat_jid = str(chat.to_non_ad()) if chat else f"{recipient_phone}@{USER_SERVER}"
    targets: list[tuple[str, int]] = []
    if to.device or node.attr_str("recipient"):
        targets.append((recipient_phone, to.device))
    else:
        targets += [
            (recipient_phone, d.device_id)
            for d in await network.storage.devices_of(recipient_phone)
        ]
        targets += [(phone, d.device_id) for d in await network.storage.devices_of(phone)]
        # A note to self lists the sender's devices twice; each gets one copy.
        targets = list(dict.fromkeys(targets))
    for key in targets:
        if key == sender:
            continue
        encs = copies.get(key) or (shared if to.device else [])
        if not encs:
            continue
        attrs = {"from": sender_jid, **base}
        if key[0] == phone:
            attrs["recipient"] = chat_jid
        await network.deliver(key[0], key[1], Node("message", attrs, encs + extra))
        delivered += 1
    log.debug("message %s from %s reached %d devices", msg_id, sender_jid, delivered)
    return Node("ack", {"class": "message", "id": msg_id, "from": str(to), "t": ts})


async def route_receipt(network: Network, sender: tuple[str, int], node: Node) -> Node:
    """Pass a delivery/read/played/retry receipt to the devices of the message's sender."""
    to = node.attr_jid("to")
    receipt_id = node.attr_str("id")
    kind = node.attr_str("type")
    ack_attrs = {"class": "receipt", "id": receipt_id, "from": node.attr_str("to")}
    if kind:
        ack_attrs["type"] = kind
    if to is None:
        return Node("ack", ack_attrs)
    phone, device_id = sender
    reader = f"{phone}@{USER_SERVER}"
    reader_device = device_jid(phone, device_id)
    participant = node.attr_jid("participant")
    is_group = to.server == GROUP_SERVER
    target = participant if is_group and participant is not None else to
    target_phone = await network.resolve_user(target)
    if target_phone is None:
        return Node("ack", ack_attrs)
    attrs = {"id": receipt_id, "t": node.attr_str("t") or str(now())}
    if kind:
        attrs["type"] = kind
    if is_group:
        attrs |= {"from": str(to), "participant": reader_device if kind == "retry" else reader}
    else:
        attrs["from"] = reader_device if kind == "retry" else reader
    if target_phone == phone and node.attr_str("recipient"):
        attrs["recipient"] = node.attr_str("recipient")
    out = Node("receipt", attrs, node.children or None)
    if kind == "retry":
        await network.deliver(target_phone, target.device, out)
    else:
        await network.deliver_to_user(target_phone, out, exclude=sender)
    return Node("ack", ack_attrs)


async def route_presence(network: Network, conn_key: tuple[str, int], node: Node) -> None:
    phone = conn_key[0]
    kind = node.attr_str("type", "available")
    if kind == "subscribe":
        target = node.attr_jid("to")
        target_phone = await network.resolve_user(target) if target else None
        if target_phone is None:
            return
        network.subscribers.setdefault(target_phone, set()).add(conn_key)
        state = network.presence.get(target_phone, "unavailable")
        await network.deliver(
            conn_key[0],
            conn_key[1],
            Node("presence", {"from": f"{target_phone}@{USER_SERVER}", "type": state}),
        )
        return
    if kind not in ("available", "unavailable"):
        return
    if node.attr_str("name"):
        await network.storage.set_push_name(phone, node.attr_str("name"))
    network.presence[phone] = kind
    attrs = {"from": f"{phone}@{USER_SERVER}", "type": kind}
    if kind == "unavailable":
        attrs["last"] = str(now())
    for sub_phone, sub_device in list(network.subscribers.get(phone, ())):
        await network.deliver(sub_phone, sub_device, Node("presence", attrs))


async def route_chatstate(network: Network, sender: tuple[str, int], node: Node) -> None:
    to = node.attr_jid("to")
    if to is None or not node.children:
        return
    phone = sender[0]
    state = node.children[0]
    sender_jid = f"{phone}@{USER_SERVER}"
    if to.server == GROUP_SERVER:
        group = await network.storage.get_group(str(to))
        if group is None:
            return
        out = Node("chatstate", {"from": str(to), "participant": sender_jid}, [state])
        for member in group.members:
            if member != phone:
                await network.deliver_to_user(member, out)
        return
    target = await network.resolve_user(to)
    if target is not None and target != phone:
        await network.deliver_to_user(target, Node("chatstate", {"from": sender_jid}, [state]))
