"""The events a :class:`~.client.Client` delivers to its handlers, as typed dataclasses.

Handlers receive every event and pick what they need with ``isinstance`` or ``match``. Events
about messages carry a :class:`MessageSource` saying where a stanza came from.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from .binary import JID
from .proto import wa_e2e_pb2 as e2e


@dataclass(frozen=True, slots=True)
class MessageSource:
    """Who sent a stanza, in which chat."""

    chat: JID
    sender: JID
    is_from_me: bool
    is_group: bool


class Event:
    """Base class of every event."""

    __slots__ = ()


@dataclass(slots=True)
class Connected(Event):
    """Logged in; the offline queue has been delivered (``offline_count`` stanzas)."""

    offline_count: int = 0


@dataclass(slots=True)
class Disconnected(Event):
    """The connection ended; ``will_reconnect`` says whether the client tries again."""

    reason: str
    will_reconnect: bool


@dataclass(slots=True)
class QRCode(Event):
    """Show ``code`` as a QR code; a new event follows when it expires, until pairing ends."""

    code: str
    timeout: float


@dataclass(slots=True)
class PairingCode(Event):
    """Type ``code`` on the phone (Linked devices → Link with phone number)."""

    code: str


@dataclass(slots=True)
class PairSuccess(Event):
    jid: JID
    lid: str
    platform: str


@dataclass(slots=True)
class PairError(Event):
    reason: str


@dataclass(slots=True)
class LoggedOut(Event):
    """The server unlinked this device (or it was unlinked from the phone); keys are gone."""

    reason: str


@dataclass(slots=True)
class StreamReplaced(Event):
    """Another connection logged in as this device; this one will not reconnect."""


@dataclass(slots=True)
class Message(Event):
    """A decrypted message (``message`` is the inner message of a device-sent wrapper)."""

    source: MessageSource
    id: str
    timestamp: int
    push_name: str
    message: e2e.Message
    is_offline: bool = False
    raw: e2e.Message | None = field(default=None, repr=False)


@dataclass(slots=True)
class UndecryptableMessage(Event):
    """A message that could not be decrypted; a retry request was sent to its sender."""

    source: MessageSource
    id: str
    timestamp: int
    error: str


@dataclass(slots=True)
class Receipt(Event):
    """Delivery (``type == ""``), read, played ... receipts for messages we sent."""

    source: MessageSource
    message_ids: list[str]
    type: str
    timestamp: int


@dataclass(slots=True)
class Presence(Event):
    sender: JID
    available: bool
    last_seen: int | None = None


@dataclass(slots=True)
class ChatState(Event):
    """Typing (``state == "composing"``), recording or stopped (``"paused"``)."""

    source: MessageSource
    state: str
    media: str = ""


@dataclass(slots=True)
class IdentityChange(Event):
    """A contact has a new identity key (reinstalled WhatsApp). ``implicit`` is false when the
    server announced it (our sessions with that user are dropped), true when a message under
    the new identity showed it (the session was replaced)."""

    jid: JID
    implicit: bool = True


@dataclass(slots=True)
class DevicesChanged(Event):
    """A user's device list changed (cached device lists are dropped)."""

    user: JID
