"""Group chats on the test network: the ``w:g2`` queries and the ``w:gp2`` notifications that
tell members what changed."""

from __future__ import annotations

import os
import secrets
from typing import TYPE_CHECKING

from ..whatsapp.binary import Node
from ..whatsapp.binary.jid import DEFAULT_USER_SERVER as USER_SERVER
from ..whatsapp.binary.jid import GROUP_SERVER
from .storage import Group, now

if TYPE_CHECKING:
    from .network import Network


class IQError(Exception):
    def __init__(self, code: int, text: str) -> None:
        super().__init__(text)
        self.code = code
        self.text = text


def group_node(group: Group, with_participants: bool = True) -> Node:
    children: list[Node] = []
    if group.description:
        body = Node("body", {}, group.description.encode())
        children.append(Node("description", {"id": group.description_id}, [body]))
    if group.announce:
        children.append(Node("announcement", {}))
    if group.locked:
        children.append(Node("locked", {}))
    if with_participants:
        for phone, role in group.members.items():
            attrs = {"jid": f"{phone}@{USER_SERVER}"}
            if role:
                attrs["type"] = role
            children.append(Node("participant", attrs))
    return Node(
        "group",
        {
            "id": group.jid.split("@")[0],
            "subject": group.subject,
            "s_o": group.subject_owner,
            "s_t": str(group.subject_time),
            "creation": str(group.created),
            "creator": group.creator,
            "size": str(len(group.members)),
        },
        children,
    )


async def _notify(
    network: Network, group: Group, actor: str, child: Node, extra_phones: tuple[str, ...] = ()
) -> None:
    note = network.notification("w:gp2", group.jid, [child], participant=f"{actor}@{USER_SERVER}")
    for phone in (*group.members, *extra_phones):
        await network.deliver_to_user(phone, note)


def _phones(network: Network, node: Node) -> list[str]:
    out = []
    for p in node.children_by_tag("participant"):
        jid = p.attr_jid("jid")
        if jid is not None:
            out.append(jid.user)
    return out


async def handle_group_iq(network: Network, phone: str, iq: Node) -> list[Node]:
    storage = network.storage
    to = iq.attr_str("to")
    kind = iq.attr_str("type")
    if not iq.children:
        raise IQError(400, "bad-request")
    op = iq.children[0]
    actor = f"{phone}@{USER_SERVER}"

    if to in (GROUP_SERVER, "@" + GROUP_SERVER):
        if op.tag == "create":
            members = {phone: "superadmin"}
            for p in _phones(network, op):
                if await storage.get_account(p) is not None:
                    members.setdefault(p, "")
            ts = now()
            created = Group(
                jid=f"{ts}{secrets.randbelow(10**6):06d}@g.us",
                subject=op.attr_str("subject"),
                subject_owner=actor,
                subject_time=ts,
                creator=actor,
                created=ts,
                description="",
                description_id="",
                announce=False,
                locked=False,
                invite_code=secrets.token_urlsafe(16),
                members=members,
            )
            await storage.put_group(created)
            await _notify(network, created, phone, Node("create", {}, [group_node(created)]))
            return [group_node(created)]
        if op.tag == "participating":
            groups = [group_node(g) for g in await storage.groups_of(phone)]
            return [Node("groups", {}, groups)]
        if op.tag == "leave":
            left = []
            for g in op.children_by_tag("group"):
                group = await storage.get_group(g.attr_str("id"))
                if group is not None and phone in group.members:
                    del group.members[phone]
                    await storage.put_group(group)
                    # WhatsApp reports a leave as a removal whose author is the one removed.
                    child = Node("remove", {}, [Node("participant", {"jid": actor})])
                    await _notify(network, group, phone, child, (phone,))
                    left.append(Node("group", {"id": group.jid}))
            return [Node("leave", {}, left)]
        if op.tag == "invite" and op.attr_str("code"):
            group = await storage.group_by_invite(op.attr_str("code"))
            if group is None:
                raise IQError(406, "not-acceptable")
            if kind == "get":
                return [group_node(group)]
            if phone not in group.members:
                group.members[phone] = ""
                await storage.put_group(group)
                child = Node("add", {"reason": "invite"}, [Node("participant", {"jid": actor})])
                await _notify(network, group, phone, child)
            return [Node("group", {"jid": group.jid})]
        raise IQError(501, "feature-not-implemented")

    group = await storage.get_group(to)
    if group is None:
        raise IQError(404, "item-not-found")
    if phone not in group.members:
        raise IQError(403, "forbidden")
    is_admin = bool(group.members[phone])
    if op.tag == "invite" and not is_admin:
        # Members who are no admins may neither see nor reset the invite link.
        raise IQError(401, "not-authorized")
    if kind == "get":
        if op.tag == "query":
            return [group_node(group)]
        if op.tag == "invite":
            return [Node("invite", {"code": group.invite_code})]
        raise IQError(501, "feature-not-implemented")
    needs_admin = op.tag in (
        "add",
        "remove",
        "promote",
        "demote",
        "invite",
        "announcement",
        "not_announcement",
        "locked",
        "unlocked",
    )
    if (needs_admin and not is_admin) or (group.locked and not is_admin):
        raise IQError(403, "forbidden")
    if op.tag in ("add", "remove", "promote", "demote"):
        results = []
        changed = []
        for target in _phones(network, op):
            jid = f"{target}@{USER_SERVER}"
            error = ""
            if op.tag == "add":
                if await storage.get_account(target) is None:
                    error = "404"
                elif target in group.members:
                    error = "409"
                else:
                    group.members[target] = ""
            elif target not in group.members:
                error = "404"
            elif op.tag == "remove":
                del group.members[target]
            else:
                group.members[target] = "admin" if op.tag == "promote" else ""
            attrs = {"jid": jid}
            if error:
                attrs["error"] = error
            else:
                changed.append(target)
            results.append(Node("participant", attrs))
        await storage.put_group(group)
        if changed:
            child = Node(
                op.tag, {}, [Node("participant", {"jid": f"{p}@{USER_SERVER}"}) for p in changed]
            )
            removed = tuple(changed) if op.tag == "remove" else ()
            await _notify(network, group, phone, child, removed)
        return [Node(op.tag, {}, results)]
    if op.tag == "subject":
        content = op.content
        group.subject = content.decode() if isinstance(content, bytes) else str(content or "")
        group.subject_owner, group.subject_time = actor, now()
        await storage.put_group(group)
        child = Node(
            "subject", {"subject": group.subject, "s_o": actor, "s_t": str(group.subject_time)}
        )
        await _notify(network, group, phone, child)
        return []
    if op.tag == "description":
        body = op.child("body")
        text = body.content if body is not None else b""
        group.description = text.decode() if isinstance(text, bytes) else str(text or "")
        group.description_id = op.attr_str("id") or os.urandom(8).hex().upper()
        await storage.put_group(group)
        attrs = {"id": group.description_id}
        content = [Node("body", {}, group.description.encode())] if group.description else None
        if not group.description:
            attrs["delete"] = "true"
        await _notify(network, group, phone, Node("description", attrs, content))
        return []
    if op.tag in ("announcement", "not_announcement", "locked", "unlocked"):
        if op.tag in ("announcement", "not_announcement"):
            group.announce = op.tag == "announcement"
        else:
            group.locked = op.tag == "locked"
        await storage.put_group(group)
        await _notify(network, group, phone, Node(op.tag, {}))
        return []
    if op.tag == "invite":
        group.invite_code = secrets.token_urlsafe(16)
        await storage.put_group(group)
        return [Node("invite", {"code": group.invite_code})]
    raise IQError(501, "feature-not-implemented")
