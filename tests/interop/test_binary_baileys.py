"""Our binary XML codec against Baileys 6.17's, on random node trees (dictionary version 2)."""

from __future__ import annotations

import random
from collections.abc import Iterator
from typing import Any

import pytest

from mautrix_whatsapp_py.whatsapp.binary import JID, Node, marshal, unmarshal
from mautrix_whatsapp_py.whatsapp.binary.node import AttrValue
from tests.interop.node_peer import NodePeer, b64, unb64
from tests.whatsapp.binary.strategies import random_node

pytestmark = pytest.mark.interop

BAILEYS_DICT = 2


def baileys_jid(jid: JID) -> str:
    """How Baileys spells a JID: always with '@', even when there is no user."""
    device = f":{jid.device}" if jid.device else ""
    return f"{jid.user}{device}@{jid.server}"


def to_json(node: Node) -> dict[str, Any]:
    attrs: dict[str, Any] = {
        k: {"jid": baileys_jid(v)} if isinstance(v, JID) else v for k, v in node.attrs.items()
    }
    content: Any = None
    if isinstance(node.content, list):
        content = [to_json(child) for child in node.content]
    elif node.content is not None:
        content = {"b64": b64(node.content)}
    return {"tag": node.tag, "attrs": attrs, "content": content}


def expected_json(node: Node) -> dict[str, Any]:
    """What Baileys' decoder gives back for ``node``: JIDs as plain strings."""
    attrs = {k: baileys_jid(v) if isinstance(v, JID) else v for k, v in node.attrs.items()}
    js = to_json(node)
    js["attrs"] = attrs
    if isinstance(node.content, list):
        js["content"] = [expected_json(child) for child in node.content]
    return js


def normalized(node: Node) -> Node:
    """``node`` with JID values in the string form our decoder compares them with."""
    attrs: dict[str, AttrValue] = dict(node.attrs)
    content = node.content
    if isinstance(content, list):
        content = [normalized(c) for c in content]
    return Node(node.tag, attrs, content)


def _is_array_index(key: str) -> bool:
    return key.isdigit() and (key == "0" or not key.startswith("0")) and int(key) < 2**32 - 1


def js_key_order(node: Node) -> Node:
    """``node`` with attributes in the order JavaScript's ``Object.keys`` gives them: integer-like
    keys first in ascending order, then the rest in insertion order."""
    keys = sorted((k for k in node.attrs if _is_array_index(k)), key=int)
    keys += [k for k in node.attrs if not _is_array_index(k)]
    content = node.content
    if isinstance(content, list):
        content = [js_key_order(c) for c in content]
    return Node(node.tag, {k: node.attrs[k] for k in keys}, content)


def sample(seed: int, count: int) -> list[Node]:
    rng = random.Random(seed)
    return [random_node(rng) for _ in range(count)]


@pytest.fixture(scope="module")
def baileys() -> Iterator[NodePeer]:
    with NodePeer("binary_peer.js") as peer:
        yield peer


def test_ours_decode_in_baileys(baileys: NodePeer) -> None:
    nodes = sample(1, 400)
    decoded = baileys.call("decode", payloads=[b64(marshal(n, BAILEYS_DICT)) for n in nodes])
    for node, theirs in zip(nodes, decoded, strict=True):
        assert theirs == expected_json(node)


def test_baileys_decode_here(baileys: NodePeer) -> None:
    nodes = sample(2, 400)
    payloads = baileys.call("encode", nodes=[to_json(n) for n in nodes])
    for node, payload in zip(nodes, payloads, strict=True):
        assert unmarshal(unb64(payload), BAILEYS_DICT) == normalized(node)


def test_same_bytes_as_baileys(baileys: NodePeer) -> None:
    nodes = sample(3, 400)
    payloads = baileys.call("encode", nodes=[to_json(n) for n in nodes])
    for node, payload in zip(nodes, payloads, strict=True):
        assert marshal(js_key_order(node), BAILEYS_DICT) == unb64(payload), node


def test_large_binary_content(baileys: NodePeer) -> None:
    # Crosses the 20-bit length boundary into BINARY_32.
    node = Node("media", {"type": "image"}, random.Random(4).randbytes((1 << 20) + 3))
    [payload] = baileys.call("encode", nodes=[to_json(node)])
    assert unb64(payload) == marshal(node, BAILEYS_DICT)
    assert unmarshal(unb64(payload), BAILEYS_DICT) == node
    [theirs] = baileys.call("decode", payloads=[b64(marshal(node, BAILEYS_DICT))])
    assert theirs == expected_json(node)
