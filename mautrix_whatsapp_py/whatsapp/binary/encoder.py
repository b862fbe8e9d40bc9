"""Encoding :class:`Node` trees into WhatsApp's binary XML (the pure-Python reference)."""

from __future__ import annotations

from .errors import EncodeError
from .jid import (
    DEFAULT_USER_SERVER,
    HIDDEN_USER_SERVER,
    HOSTED_LID_SERVER,
    HOSTED_SERVER,
    INTEROP_SERVER,
    JID,
    MESSENGER_SERVER,
)
from .node import Node
from .tokens import (
    AD_JID,
    BINARY_8,
    BINARY_20,
    BINARY_32,
    DICTIONARY_0,
    FB_JID,
    HEX_8,
    INTEROP_JID,
    JID_PAIR,
    LIST_8,
    LIST_16,
    LIST_EMPTY,
    NIBBLE_8,
    PACKED_MAX,
    TokenDictionary,
)

MAX_DEPTH = 64

_NIBBLE_VALUES = {c: i for i, c in enumerate("0123456789-.")}
_HEX_VALUES = {c: i for i, c in enumerate("0123456789ABCDEF")}
_AD_SERVERS = (DEFAULT_USER_SERVER, HIDDEN_USER_SERVER)
_HOSTED_SERVERS = (HOSTED_SERVER, HOSTED_LID_SERVER)


class _Writer:
    __slots__ = ("depth", "index", "out")

    def __init__(self, tokens: TokenDictionary) -> None:
        self.out = bytearray(b"\x00")  # flags byte: uncompressed
        self.index = tokens.index
        self.depth = 0

    def length(self, n: int) -> None:
        out = self.out
        if n < 256:
            out += bytes((BINARY_8, n))
        elif n < 1 << 20:
            out += bytes((BINARY_20, (n >> 16) & 0x0F, (n >> 8) & 0xFF, n & 0xFF))
        elif n < 0x7FFFFFFF:
            out.append(BINARY_32)
            out += n.to_bytes(4, "big")
        else:
            raise EncodeError(f"value of {n} bytes is too long to encode")

    def list_start(self, n: int) -> None:
        if n == 0:
            self.out.append(LIST_EMPTY)
        elif n < 256:
            self.out += bytes((LIST_8, n))
        elif n < 65536:
            self.out += bytes((LIST_16, n >> 8, n & 0xFF))
        else:
            raise EncodeError(f"list of {n} items is too long to encode")

    def string(self, value: str) -> None:
        code = self.index.get(value)
        if code is not None:
            if code < 256:
                self.out.append(code)
            else:
                self.out += bytes((DICTIONARY_0 + (code >> 8) - 1, code & 0xFF))
            return
        if 0 < len(value) <= PACKED_MAX:
            if all(c in _NIBBLE_VALUES for c in value):
                self.packed(value, NIBBLE_8, _NIBBLE_VALUES)
                return
            if all(c in _HEX_VALUES for c in value):
                self.packed(value, HEX_8, _HEX_VALUES)
                return
        raw = value.encode()
        self.length(len(raw))
        self.out += raw

    def packed(self, value: str, tag: int, values: dict[str, int]) -> None:
        n = len(value)
        out = self.out
        out.append(tag)
        out.append(((n + 1) >> 1) | (0x80 if n & 1 else 0))
        for i in range(0, n - 1, 2):
            out.append((values[value[i]] << 4) | values[value[i + 1]])
        if n & 1:
            out.append((values[value[-1]] << 4) | 0x0F)

    def jid(self, jid: JID) -> None:
        server = jid.server
        out = self.out
        if (server in _AD_SERVERS and jid.device > 0) or server in _HOSTED_SERVERS:
            # The domain byte names the server (0 on s.whatsapp.net, whatever the agent).
            out += bytes((AD_JID, jid.domain, jid.device & 0xFF))
            self.string(jid.user)
        elif server == MESSENGER_SERVER:
            out.append(FB_JID)
            self.string(jid.user)
            out += jid.device.to_bytes(2, "big")
            self.string(server)
        elif server == INTEROP_SERVER:
            out.append(INTEROP_JID)
            self.string(jid.user)
            out += jid.device.to_bytes(2, "big") + jid.integrator.to_bytes(2, "big")
            self.string(server)
        else:
            out.append(JID_PAIR)
            if jid.user:
                self.string(jid.user)
            else:
                out.append(LIST_EMPTY)
            self.string(server)

    def attr_value(self, value: object) -> None:
        if type(value) is str:
            self.string(value)
        elif isinstance(value, JID):
            self.jid(value)
        elif type(value) is int:
            self.string(str(value))
        else:
            raise EncodeError(f"attribute value of type {type(value).__name__} cannot be encoded")

    def node(self, node: Node) -> None:
        self.depth += 1
        if self.depth > MAX_DEPTH:
            raise EncodeError(f"nodes nested deeper than {MAX_DEPTH}")
        if type(node.tag) is not str or not isinstance(node.attrs, dict):
            raise EncodeError("node tag must be str and attrs a dict")
        # Empty values are left out, as the real encoders do.
        attrs = [(k, v) for k, v in node.attrs.items() if v is not None and v != ""]
        content = node.content
        self.list_start(2 * len(attrs) + 1 + (content is not None))
        self.string(node.tag)
        for key, value in attrs:
            if type(key) is not str:
                raise EncodeError("attribute keys must be str")
            self.string(key)
            self.attr_value(value)
        if content is None:
            pass
        elif isinstance(content, bytes | bytearray | memoryview):
            data = bytes(content)
            self.length(len(data))
            self.out += data
        elif isinstance(content, list | tuple):
            self.list_start(len(content))
            for child in content:
                if not isinstance(child, Node):
                    raise EncodeError(f"list content must hold nodes, not {type(child).__name__}")
                self.node(child)
        else:
            raise EncodeError(f"content of type {type(content).__name__} cannot be encoded")
        self.depth -= 1


def encode_node(node: Node, tokens: TokenDictionary) -> bytes:
    """Encode ``node`` into a payload with its leading flags byte (uncompressed)."""
    writer = _Writer(tokens)
    writer.node(node)
    return bytes(writer.out)
