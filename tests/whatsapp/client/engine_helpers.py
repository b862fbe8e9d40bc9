"""Helpers to run our engine against the test network: pair a Client through the admin API and
collect its events for assertions."""

from __future__ import annotations

import asyncio
import base64
from collections.abc import Callable
from typing import Any, Protocol, TypeVar

from mautrix_whatsapp_py.whatsapp import events as ev
from mautrix_whatsapp_py.whatsapp.client import Client
from mautrix_whatsapp_py.whatsapp.store.device_store import DeviceStore
from mautrix_whatsapp_py.whatsapp.store.sqldb import Database
from mautrix_whatsapp_py.whatsapp.store.upgrade import upgrade_table

E = TypeVar("E", bound=ev.Event)


class TestNetwork(Protocol):
    """A running test network (in this process or another): its ``server.json`` contents."""

    @property
    def info(self) -> dict[str, Any]: ...


class EventLog:
    """Every event a client dispatched, with waiting for one that matches."""

    def __init__(self) -> None:
        self.events: list[ev.Event] = []
        self._changed = asyncio.Condition()

    async def __call__(self, event: ev.Event) -> None:
        async with self._changed:
            self.events.append(event)
            self._changed.notify_all()

    def of_type(self, kind: type[E]) -> list[E]:
        return [e for e in self.events if isinstance(e, kind)]

    async def wait(
        self,
        kind: type[E],
        pred: Callable[[E], bool] = lambda _: True,
        *,
        after: int = 0,
        within: float = 30.0,
    ) -> E:
        def find() -> E | None:
            for event in self.events[after:]:
                if isinstance(event, kind) and pred(event):
                    return event
            return None

        async with asyncio.timeout(within), self._changed:
            while (found := find()) is None:
                await self._changed.wait()
        return found

    def mark(self) -> int:
        return len(self.events)


def text_of(event: ev.Message) -> str | None:
    msg = event.message
    if msg.conversation:
        return msg.conversation
    if msg.HasField("extended_text_message"):
        return msg.extended_text_message.text
    return None


async def new_client(
    db: Database, testnet: TestNetwork, device: DeviceStore | None = None
) -> tuple[Client, EventLog]:
    await upgrade_table.upgrade(db)
    device = device or await DeviceStore.load_or_new(db)
    client = Client(
        device,
        websocket_url=testnet.info["websocket_url"],
        noise_root_key=base64.b64decode(testnet.info["noise_root_public_key"]),
    )
    log = EventLog()
    client.add_handler(log)
    return client, log


#: A connected client and the log of its events.
Engine = tuple[Client, EventLog]


async def pair_engine(
    db: Database, testnet: TestNetwork, admin: Any, phone: str, **settings: Any
) -> tuple[Client, EventLog]:
    """A Client on ``db``, linked to ``phone``'s account by scanning its QR code, connected.
    ``settings`` are set as client attributes before it connects."""
    client, log = await new_client(db, testnet)
    for name, value in settings.items():
        setattr(client, name, value)
    await client.connect()
    qr = await log.wait(ev.QRCode)
    await admin.link(phone, qr.code)
    await log.wait(ev.PairSuccess)
    await log.wait(ev.Connected)
    return client, log
