"""Decoding WhatsApp's binary XML into :class:`Node` trees (the pure-Python reference)."""

from __future__ import annotations

from .errors import DecodeError
from .jid import INTEROP_SERVER, JID, MESSENGER_SERVER
from .node import AttrValue, Content, Node
from .tokens import (
    AD_JID,
    BINARY_8,
    BINARY_20,
    BINARY_32,
    DICTIONARY_0,
    DICTIONARY_3,
    FB_JID,
    HEX_8,
    INTEROP_JID,
    JID_PAIR,
    LIST_8,
    LIST_16,
    LIST_EMPTY,
    NIBBLE_8,
    TokenDictionary,
)

#: Deeper nesting than any real stanza has; the bound keeps hostile input from exhausting the stack.
MAX_DEPTH = 64

_NIBBLES = "0123456789-.\x00\x00\x00\x00"


class _Reader:
    __slots__ = ("data", "depth", "double", "pos", "single")

    def __init__(self, data: bytes, tokens: TokenDictionary) -> None:
        self.data = data
        self.pos = 0
        self.depth = 0
        self.single = tokens.single
        self.double = tokens.double

    def take(self, n: int) -> bytes:
        start = self.pos
        end = start + n
        if end > len(self.data):
            raise DecodeError(f"unexpected end of data at offset {start} (wanted {n} more bytes)")
        self.pos = end
        return self.data[start:end]

    def byte(self) -> int:
        pos = self.pos
        if pos >= len(self.data):
            raise DecodeError(f"unexpected end of data at offset {pos} (wanted 1 more bytes)")
        self.pos = pos + 1
        return self.data[pos]

    def int_n(self, n: int) -> int:
        return int.from_bytes(self.take(n), "big")

    def list_size(self, tag: int) -> int:
        if tag == LIST_8:
            return self.byte()
        if tag == LIST_16:
            return self.int_n(2)
        if tag == LIST_EMPTY:
            return 0
        raise DecodeError(f"invalid list size tag {tag} at offset {self.pos - 1}")

    def packed(self, tag: int) -> str:
        start = self.byte()
        if start == 0x80:
            raise DecodeError(f"empty packed string marked odd at offset {self.pos - 1}")
        raw = self.take(start & 0x7F)
        if tag == NIBBLE_8:
            chars = []
            for b in raw:
                for half in (b >> 4, b & 0x0F):
                    if 11 < half < 15:
                        raise DecodeError(f"invalid nibble {half} at offset {self.pos}")
                    chars.append(_NIBBLES[half])
            text = "".join(chars)
        else:
            text = raw.hex().upper()
        # An odd length is marked in the top bit; the last half-byte is then padding.
        return text[:-1] if start & 0x80 else text

    def raw(self, n: int, as_string: bool) -> str | bytes:
        data = self.take(n)
        if not as_string:
            return data
        try:
            return data.decode()
        except UnicodeDecodeError:
            raise DecodeError(f"invalid UTF-8 in string at offset {self.pos - n}") from None

    def jid_part(self, what: str) -> str:
        value = self.value(True)
        if value is None:
            return ""
        if not isinstance(value, str) or isinstance(value, JID):
            raise DecodeError(f"JID {what} is not a string at offset {self.pos}")
        return value

    def value(self, as_string: bool) -> str | bytes | JID | list[Node] | None:
        tag = self.byte()
        if tag == LIST_EMPTY:
            return None
        if tag == BINARY_8:
            return self.raw(self.byte(), as_string)
        if DICTIONARY_0 <= tag <= DICTIONARY_3:
            dictionary = self.double[tag - DICTIONARY_0]
            idx = self.byte()
            if idx >= len(dictionary):
                raise DecodeError(
                    f"invalid double-byte token {tag - DICTIONARY_0}:{idx} at offset {self.pos - 2}"
                )
            return dictionary[idx]
        if tag < len(self.single) and tag:
            return self.single[tag]
        if tag == JID_PAIR:
            user = self.jid_part("user")
            server = self.value(True)
            if server is None:
                raise DecodeError(f"JID pair without server at offset {self.pos}")
            if not isinstance(server, str):
                raise DecodeError(f"JID server is not a string at offset {self.pos}")
            return JID(user, server)
        if tag == AD_JID:
            domain = self.byte()
            device = self.byte()
            return JID.from_ad(self.jid_part("user"), domain, device)
        if tag in (LIST_8, LIST_16):
            if as_string:
                raise DecodeError(
                    f"unexpected list where a string belongs at offset {self.pos - 1}"
                )
            return [self.node() for _ in range(self.list_size(tag))]
        if tag == BINARY_20:
            b = self.take(3)
            return self.raw(((b[0] & 0x0F) << 16) | (b[1] << 8) | b[2], as_string)
        if tag == BINARY_32:
            return self.raw(self.int_n(4), as_string)
        if tag in (NIBBLE_8, HEX_8):
            return self.packed(tag)
        if tag in (FB_JID, INTEROP_JID):
            user = self.jid_part("user")
            device = self.int_n(2)
            integrator = self.int_n(2) if tag == INTEROP_JID else 0
            server = self.jid_part("server")
            want = MESSENGER_SERVER if tag == FB_JID else INTEROP_SERVER
            if server != want:
                raise DecodeError(f"JID of tag {tag} must be on {want}, not {server!r}")
            return JID(user, server, device, integrator=integrator)
        raise DecodeError(f"invalid token {tag} at offset {self.pos - 1}")

    def node(self) -> Node:
        self.depth += 1
        if self.depth > MAX_DEPTH:
            raise DecodeError(f"nodes nested deeper than {MAX_DEPTH}")
        size = self.list_size(self.byte())
        if size == 0:
            raise DecodeError(f"node with an empty list at offset {self.pos}")
        tag = self.value(True)
        if tag is None:
            raise DecodeError(f"node without a tag at offset {self.pos}")
        if type(tag) is not str:
            raise DecodeError(f"node tag is not a string at offset {self.pos}")
        attrs: dict[str, AttrValue] = {}
        for _ in range((size - 1) >> 1):
            key = self.value(True)
            if key is None:
                raise DecodeError(f"empty attribute key at offset {self.pos}")
            if type(key) is not str:
                raise DecodeError(f"attribute key is not a string at offset {self.pos}")
            value = self.value(True)
            attrs[key] = "" if value is None else value  # type: ignore[assignment]
        content: Content = None
        if not size & 1:
            raw = self.value(False)
            if isinstance(raw, JID):
                content = str(raw).encode()
            elif isinstance(raw, str):
                content = raw.encode()
            else:
                content = raw
        self.depth -= 1
        return Node(tag, attrs, content)


def decode_node(data: bytes, tokens: TokenDictionary) -> Node:
    """Decode exactly one node from ``data`` (a payload without its flags byte)."""
    reader = _Reader(data, tokens)
    try:
        node = reader.node()
    except ValueError as err:  # a JID constructor refusing what came off the wire
        raise DecodeError(f"invalid value in stanza: {err}") from None
    if reader.pos != len(data):
        raise DecodeError(f"{len(data) - reader.pos} bytes left over after the node")
    return node
