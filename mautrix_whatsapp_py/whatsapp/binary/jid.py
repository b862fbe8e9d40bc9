"""WhatsApp addresses (JIDs): parsing, formatting and the well-known servers.

A JID is ``user@server``; a device of a user adds ``:device`` (``123:4@s.whatsapp.net``), and the
old agent form adds ``.agent`` (``123.1:4@s.whatsapp.net``). Messenger interop JIDs also carry an
integrator id. On the wire, device JIDs travel as AD JIDs whose domain byte names the server.
"""

from __future__ import annotations

from typing import Final

DEFAULT_USER_SERVER: Final = "s.whatsapp.net"
GROUP_SERVER: Final = "g.us"
LEGACY_USER_SERVER: Final = "c.us"
BROADCAST_SERVER: Final = "broadcast"
HIDDEN_USER_SERVER: Final = "lid"
MESSENGER_SERVER: Final = "msgr"
INTEROP_SERVER: Final = "interop"
NEWSLETTER_SERVER: Final = "newsletter"
HOSTED_SERVER: Final = "hosted"
HOSTED_LID_SERVER: Final = "hosted.lid"
BOT_SERVER: Final = "bot"
CALL_SERVER: Final = "call"

#: AD JID domain bytes and the servers they stand for. Any other value is a raw agent on
#: s.whatsapp.net.
DOMAIN_TO_SERVER: Final[dict[int, str]] = {
    0: DEFAULT_USER_SERVER,
    1: HIDDEN_USER_SERVER,
    128: HOSTED_SERVER,
    129: HOSTED_LID_SERVER,
}
SERVER_TO_DOMAIN: Final[dict[str, int]] = {v: k for k, v in DOMAIN_TO_SERVER.items()}


class InvalidJIDError(ValueError):
    """A string is not a well-formed JID."""


class JID:
    """An immutable WhatsApp address. Compares equal to another JID or to its canonical string."""

    __slots__ = ("_hash", "_str", "agent", "device", "integrator", "server", "user")

    user: str
    server: str
    device: int
    agent: int
    integrator: int
    _str: str | None
    _hash: int | None

    def __init__(
        self, user: str, server: str, device: int = 0, agent: int = 0, integrator: int = 0
    ) -> None:
        if not 0 <= device <= 0xFFFF or not 0 <= agent <= 0xFF or not 0 <= integrator <= 0xFFFF:
            raise InvalidJIDError(f"JID part out of range: device={device} agent={agent}")
        set_ = object.__setattr__
        set_(self, "user", user)
        set_(self, "server", server)
        set_(self, "device", device)
        set_(self, "agent", agent)
        set_(self, "integrator", integrator)
        set_(self, "_str", None)
        set_(self, "_hash", None)

    @classmethod
    def from_ad(cls, user: str, domain: int, device: int) -> JID:
        """The JID an AD JID on the wire stands for; its domain byte picks the server."""
        server = DOMAIN_TO_SERVER.get(domain)
        if server is None:
            return cls(user, DEFAULT_USER_SERVER, device, domain)
        return cls(user, server, device)

    @classmethod
    def parse(cls, value: str) -> JID:
        """Parse ``user@server``, ``user:device@server``, ``user.agent:device@server`` or a bare
        server name."""
        user, at, server = value.partition("@")
        if not at:
            if not value:
                raise InvalidJIDError("empty JID")
            return cls("", value)
        if not server or "@" in server:
            raise InvalidJIDError(f"malformed JID {value!r}")
        agent = device = 0
        try:
            if "." in user and server in (DEFAULT_USER_SERVER, HIDDEN_USER_SERVER):
                user, _, ad = user.partition(".")
                agent_s, colon, device_s = ad.partition(":")
                agent = int(agent_s)
                if colon:
                    device = int(device_s)
            elif ":" in user:
                user, _, device_s = user.partition(":")
                device = int(device_s)
        except ValueError:
            raise InvalidJIDError(f"malformed device part in JID {value!r}") from None
        return cls(user, server, device, agent)

    def __setattr__(self, name: str, value: object) -> None:
        raise AttributeError("JID is immutable")

    def __str__(self) -> str:
        cached: str | None = self._str
        if cached is None:
            cached = self._format()
            object.__setattr__(self, "_str", cached)
        return cached

    def _format(self) -> str:
        if not self.user:
            return self.server
        if self.agent:
            return f"{self.user}.{self.agent}:{self.device}@{self.server}"
        if self.device:
            return f"{self.user}:{self.device}@{self.server}"
        return f"{self.user}@{self.server}"

    def __repr__(self) -> str:
        return f"JID({str(self)!r})"

    def __eq__(self, other: object) -> bool:
        if isinstance(other, JID):
            return (self.user, self.server, self.device, self.agent, self.integrator) == (
                other.user,
                other.server,
                other.device,
                other.agent,
                other.integrator,
            )
        if isinstance(other, str):
            return str(self) == other
        return NotImplemented

    def __hash__(self) -> int:
        # Hash like the canonical string, so a JID and its string find each other in dicts.
        cached: int | None = self._hash
        if cached is None:
            cached = hash(str(self))
            object.__setattr__(self, "_hash", cached)
        return cached

    def __reduce__(self) -> tuple[type[JID], tuple[str, str, int, int, int]]:
        return JID, (self.user, self.server, self.device, self.agent, self.integrator)

    # -- derived forms ----------------------------------------------------------------------

    def to_non_ad(self) -> JID:
        """The user (or group, …) this device JID belongs to: device and agent dropped."""
        if not self.device and not self.agent:
            return self
        return JID(self.user, self.server, integrator=self.integrator)

    def with_device(self, device: int) -> JID:
        return JID(self.user, self.server, device, self.agent, self.integrator)

    @property
    def domain(self) -> int:
        """The AD JID domain byte this JID encodes with."""
        return SERVER_TO_DOMAIN.get(self.server, self.agent)

    def signal_address_user(self) -> str:
        """The user part of this JID's Signal protocol address (``user`` or ``user_domain``)."""
        domain = self.domain
        return f"{self.user}_{domain}" if domain else self.user

    # -- kinds ---------------------------------------------------------------------------------

    @property
    def is_user(self) -> bool:
        return self.server in (
            DEFAULT_USER_SERVER,
            HIDDEN_USER_SERVER,
            HOSTED_SERVER,
            HOSTED_LID_SERVER,
            LEGACY_USER_SERVER,
        )

    @property
    def is_lid(self) -> bool:
        return self.server in (HIDDEN_USER_SERVER, HOSTED_LID_SERVER)

    @property
    def is_group(self) -> bool:
        return self.server == GROUP_SERVER

    @property
    def is_broadcast_list(self) -> bool:
        return self.server == BROADCAST_SERVER and self.user != "status"

    @property
    def is_status_broadcast(self) -> bool:
        return self.server == BROADCAST_SERVER and self.user == "status"

    @property
    def is_newsletter(self) -> bool:
        return self.server == NEWSLETTER_SERVER

    @property
    def is_server(self) -> bool:
        """A bare server address such as ``s.whatsapp.net`` (the recipient of most IQs)."""
        return not self.user


SERVER_JID: Final = JID("", DEFAULT_USER_SERVER)
GROUP_SERVER_JID: Final = JID("", GROUP_SERVER)
BROADCAST_SERVER_JID: Final = JID("", BROADCAST_SERVER)
STATUS_BROADCAST_JID: Final = JID("status", BROADCAST_SERVER)
PSA_JID: Final = JID("0", DEFAULT_USER_SERVER)
