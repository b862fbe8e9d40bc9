"""Device lists: which devices each user has, asked of the server by usync and cached until a
device notification says the list changed."""

from __future__ import annotations

import os
from typing import TYPE_CHECKING

from .binary import JID, Node

if TYPE_CHECKING:
    from .client import Client


class DeviceLists:
    def __init__(self, client: Client) -> None:
        self.client = client
        self._cache: dict[JID, list[JID]] = {}

    def invalidate(self, user: JID) -> None:
        self._cache.pop(user.to_non_ad(), None)

    async def devices(self, users: list[JID]) -> list[JID]:
        """Every device of ``users`` (device 0 written without a device part)."""
        users = list(dict.fromkeys(u.to_non_ad() for u in users))
        missing = [u for u in users if u not in self._cache]
        if missing:
            await self._fetch(missing)
        return [d for u in users for d in self._cache.get(u, [])]

    async def _fetch(self, users: list[JID]) -> None:
        answer = await self.client.query(
            Node(
                "iq",
                {"to": "s.whatsapp.net", "type": "get", "xmlns": "usync"},
                [
                    Node(
                        "usync",
                        {
                            "sid": os.urandom(8).hex(),
                            "mode": "query",
                            "last": "true",
                            "index": "0",
                            "context": "message",
                        },
                        [
                            Node("query", {}, [Node("devices", {"version": "2"})]),
                            Node("list", {}, [Node("user", {"jid": str(u)}) for u in users]),
                        ],
                    )
                ],
            )
        )
        found = answer.get_path("usync", "list")
        for user in found.children_by_tag("user") if found is not None else ():
            jid = user.attr_jid("jid")
            device_list = user.get_path("devices", "device-list")
            if jid is None or device_list is None:
                continue
            jid = jid.to_non_ad()
            self._cache[jid] = [
                jid.with_device(d.attr_int("id")) for d in device_list.children_by_tag("device")
            ]
