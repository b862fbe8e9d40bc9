"""Drive a real, unmodified Baileys 6.17 WhatsApp client from asyncio tests.

:class:`BaileysClient` is a thin typed layer over ``js/baileys_client.js`` (one Baileys socket per
Node process). Baileys' events are recorded on the Node side with an increasing ``seq``; a test
remembers the ``seq`` it has seen and waits for the next matching event with :meth:`wait_event`.
Bytes cross as base64; here they are ``bytes``.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager, suppress
from pathlib import Path
from typing import Any, cast

from tests.interop.node_peer import AsyncNodePeer, PeerError, b64, unb64

Event = dict[str, Any]


class BaileysClient:
    """One Baileys socket in a Node process; methods mirror those of ``baileys_client.js``."""

    def __init__(self, peer: AsyncNodePeer) -> None:
        self.peer = peer

    @classmethod
    async def start(
        cls,
        url: str,
        auth_dir: str | Path,
        *,
        ca_cert: str | Path | None = None,
        env: dict[str, str] | None = None,
        name: str = "mwp-test",
    ) -> BaileysClient:
        """Connect to ``url`` (``ws://…/ws/chat``) keeping Baileys' auth files in ``auth_dir``.

        ``ca_cert`` is trusted in addition to the system roots, for media served over HTTPS with
        a self-signed certificate; ``env`` adds to the Node process's environment.
        """
        env = dict(env or {})
        if ca_cert is not None:
            env["NODE_EXTRA_CA_CERTS"] = str(ca_cert)
        peer = await AsyncNodePeer.start("baileys_client.js", env=env or None)
        client = cls(peer)
        try:
            await peer.call("start", url=url, authDir=str(auth_dir), name=name)
        except BaseException:
            await peer.close()
            raise
        return client

    async def events(self, after: int = 0) -> list[Event]:
        return cast(list[Event], await self.peer.call("events", after=after))

    async def wait_event(
        self,
        type: str,
        match: dict[str, Any] | None = None,
        *,
        after: int = 0,
        timeout: float = 30.0,  # noqa: ASYNC109 - the Node side enforces it and lists events
    ) -> Event:
        """The first event of ``type`` with ``seq > after`` whose fields deep-include ``match``."""
        return cast(
            Event,
            await self.peer.call(
                "waitEvent",
                type=type,
                match=match or {},
                after=after,
                timeoutMs=int(timeout * 1000),
            ),
        )

    async def last_seq(self) -> int:
        return cast(int, await self.peer.call("lastSeq"))

    async def is_buffering(self) -> bool:
        return cast(bool, await self.peer.call("isBuffering"))

    async def me(self) -> dict[str, Any] | None:
        return cast("dict[str, Any] | None", await self.peer.call("me"))

    async def send_text(self, jid: str, text: str) -> str:
        return cast(str, (await self.peer.call("sendText", jid=jid, text=text))["id"])

    async def send_image(
        self, jid: str, data: bytes, mimetype: str = "image/jpeg", caption: str | None = None
    ) -> dict[str, Any]:
        """Upload and send an image; returns ``{"id", "message"}`` (the sent message as JSON)."""
        return cast(
            "dict[str, Any]",
            await self.peer.call(
                "sendImage", jid=jid, dataB64=b64(data), mimetype=mimetype, caption=caption
            ),
        )

    async def download_image(self, message: dict[str, Any], media_base: str | None = None) -> bytes:
        """Decrypt an image message (raw JSON or ``imageMessage``) fetched from ``media_base``."""
        return unb64(await self.peer.call("downloadImage", message=message, mediaBase=media_base))

    async def read_messages(self, keys: list[dict[str, Any]]) -> None:
        await self.peer.call("readMessages", keys=keys)

    async def send_presence(self, type: str, jid: str | None = None) -> None:
        await self.peer.call("sendPresence", type=type, jid=jid)

    async def presence_subscribe(self, jid: str) -> None:
        await self.peer.call("presenceSubscribe", jid=jid)

    async def group_create(self, subject: str, participants: list[str]) -> dict[str, Any]:
        return cast(
            "dict[str, Any]",
            await self.peer.call("groupCreate", subject=subject, participants=participants),
        )

    async def group_metadata(self, jid: str) -> dict[str, Any]:
        return cast("dict[str, Any]", await self.peer.call("groupMetadata", jid=jid))

    async def group_participants_update(
        self, jid: str, participants: list[str], action: str
    ) -> list[dict[str, Any]]:
        return cast(
            "list[dict[str, Any]]",
            await self.peer.call(
                "groupParticipantsUpdate", jid=jid, participants=participants, action=action
            ),
        )

    async def group_update_subject(self, jid: str, subject: str) -> None:
        await self.peer.call("groupUpdateSubject", jid=jid, subject=subject)

    async def group_update_description(self, jid: str, description: str | None) -> None:
        await self.peer.call("groupUpdateDescription", jid=jid, description=description)

    async def group_setting_update(self, jid: str, setting: str) -> None:
        await self.peer.call("groupSettingUpdate", jid=jid, setting=setting)

    async def group_invite_code(self, jid: str) -> str | None:
        return cast("str | None", await self.peer.call("groupInviteCode", jid=jid))

    async def group_accept_invite(self, code: str) -> str | None:
        return cast("str | None", await self.peer.call("groupAcceptInvite", code=code))

    async def group_leave(self, jid: str) -> None:
        await self.peer.call("groupLeave", jid=jid)

    async def chat_modify(self, mod: dict[str, Any], jid: str) -> None:
        """``sock.chatModify(mod, jid)``: an app state patch (mute, archive, pin, ...)."""
        await self.peer.call("chatModify", mod=mod, jid=jid)

    async def profile_picture_url(self, jid: str, type: str = "preview") -> str | None:
        return cast("str | None", await self.peer.call("profilePictureUrl", jid=jid, type=type))

    async def set_profile_picture(self, jid: str, jpeg: bytes) -> None:
        """Set the picture of ``jid`` (oneself or a group) to ``jpeg``, sent as it is."""
        await self.peer.call("setProfilePicture", jid=jid, dataB64=b64(jpeg))

    async def request_pairing_code(self, phone: str) -> str:
        return cast(str, await self.peer.call("requestPairingCode", phone=phone))

    async def logout(self) -> None:
        await self.peer.call("logout")

    async def end(self) -> None:
        """Close the socket without logging out; no automatic reconnect afterwards."""
        await self.peer.call("end")

    async def stop(self) -> None:
        """Turn off automatic reconnecting, leaving the current socket as it is."""
        await self.peer.call("stop")

    async def start_again(self) -> None:
        """Reconnect after :meth:`end`, like an app opened again with the same credentials."""
        await self.peer.call("resume")

    async def close(self) -> None:
        await self.peer.close()


@asynccontextmanager
async def baileys_client(
    url: str,
    auth_dir: str | Path,
    *,
    ca_cert: str | Path | None = None,
    name: str = "mwp-test",
) -> AsyncIterator[BaileysClient]:
    """A started :class:`BaileysClient` that is ended and closed on exit."""
    client = await BaileysClient.start(url, auth_dir, ca_cert=ca_cert, name=name)
    try:
        yield client
    finally:
        # A peer that already died must not hide the test's own failure.
        with suppress(PeerError):
            await client.end()
        await client.close()
