"""WhatsApp's binary XML codec: :class:`Node` trees to and from frame payloads.

``marshal(node)`` gives the payload with its leading flags byte; ``unmarshal(payload)`` reverses
it, inflating zlib-compressed payloads. Both take the token dictionary version the peer speaks
(3 by default, as the live servers; 2 for older clients such as Baileys 6.x).

A C accelerator (``_speedups``) is used when it was built; the pure-Python encoder and decoder
define the format and are what the accelerator is tested against. Set ``MWP_PURE_PYTHON=1`` to
force the pure-Python path.
"""

from __future__ import annotations

import os
import zlib
from typing import Any

from . import decoder as _py_decoder
from . import encoder as _py_encoder
from .errors import BinaryError, DecodeError, EncodeError
from .jid import DEFAULT_USER_SERVER, DOMAIN_TO_SERVER, JID, InvalidJIDError
from .node import AttrValue, Content, Node
from .tokens import DEFAULT_DICT_VERSION, get_dictionary

__all__ = [
    "JID",
    "AttrValue",
    "BinaryError",
    "Content",
    "DecodeError",
    "EncodeError",
    "InvalidJIDError",
    "Node",
    "accelerated",
    "marshal",
    "unmarshal",
]

#: Flags byte bit saying the rest of the payload is zlib-compressed.
FLAG_COMPRESSED = 0x02
#: Upper bound on an inflated payload: no real stanza comes near it, and it keeps a small
#: compressed frame from expanding without limit.
MAX_INFLATED_SIZE = 64 * 1024 * 1024

_speedups: Any
try:
    if os.environ.get("MWP_PURE_PYTHON"):
        raise ImportError("pure Python requested")
    from . import _speedups  # type: ignore[attr-defined,no-redef]
except ImportError:
    _speedups = None
else:
    _speedups.configure(
        node_type=Node,
        jid_type=JID,
        decode_error=DecodeError,
        encode_error=EncodeError,
        node_slots=tuple(Node.__dict__[name] for name in ("tag", "attrs", "content")),
        jid_slots=tuple(
            JID.__dict__[name]
            for name in ("user", "server", "device", "agent", "integrator", "_str", "_hash")
        ),
        ad_domains=DOMAIN_TO_SERVER,
        default_server=DEFAULT_USER_SERVER,
    )

#: Whether the C accelerator is in use.
accelerated: bool = _speedups is not None


def marshal(node: Node, dict_version: int = DEFAULT_DICT_VERSION) -> bytes:
    """Encode ``node`` into a frame payload, flags byte first (never compressed)."""
    tokens = get_dictionary(dict_version)
    if _speedups is not None:
        return bytes(_speedups.encode(node, tokens.index))
    return _py_encoder.encode_node(node, tokens)


def unmarshal(
    data: bytes | bytearray | memoryview, dict_version: int = DEFAULT_DICT_VERSION
) -> Node:
    """Decode a frame payload (flags byte first) into a node.

    Raises :class:`DecodeError`, and nothing else, for any malformed input.
    """
    tokens = get_dictionary(dict_version)
    body, start = _body(data)
    if _speedups is not None:
        node: Node = _speedups.decode(body, tokens.single, tokens.double, start)
        return node
    return _py_decoder.decode_node(bytes(body[start:]), tokens)


def unmarshal_pure(data: bytes, dict_version: int = DEFAULT_DICT_VERSION) -> Node:
    """:func:`unmarshal` through the pure-Python decoder, for tests and benchmarks."""
    tokens = get_dictionary(dict_version)
    body, start = _body(data)
    return _py_decoder.decode_node(bytes(body[start:]), tokens)


def marshal_pure(node: Node, dict_version: int = DEFAULT_DICT_VERSION) -> bytes:
    """:func:`marshal` through the pure-Python encoder, for tests and benchmarks."""
    return _py_encoder.encode_node(node, get_dictionary(dict_version))


def _body(data: bytes | bytearray | memoryview) -> tuple[bytes | bytearray | memoryview, int]:
    """The node bytes of a payload and the offset they start at: inflated when the flags byte
    says so, else the payload itself past its flags byte (not copied)."""
    if not data:
        raise DecodeError("empty payload")
    if data[0] & FLAG_COMPRESSED:
        return _inflate(bytes(data[1:])), 0
    return data, 1


def _inflate(body: bytes) -> bytes:
    inflater = zlib.decompressobj()
    try:
        out = inflater.decompress(body, MAX_INFLATED_SIZE)
    except zlib.error as err:
        raise DecodeError(f"compressed payload does not inflate: {err}") from None
    if inflater.unconsumed_tail:
        raise DecodeError(f"compressed payload inflates past {MAX_INFLATED_SIZE} bytes")
    if not inflater.eof:
        raise DecodeError("compressed payload is truncated")
    return out
