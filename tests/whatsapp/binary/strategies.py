"""Random node trees for property, fuzz and interop tests of the binary codec."""

from __future__ import annotations

import random
import string

from hypothesis import strategies as st

from mautrix_whatsapp_py.whatsapp.binary import JID, Node
from mautrix_whatsapp_py.whatsapp.binary.tokens import get_dictionary

_V2 = get_dictionary(2)
_V3 = get_dictionary(3)
# Tokens from both versions, so that each version sees strings it must spell out in full.
_TOKENS = sorted(
    {t for t in _V2.single + _V3.single if t} | set(_V2.double[1]) | set(_V3.double[2])
)
_WORD = string.ascii_letters + string.digits + "-_."

tokens = st.sampled_from(_TOKENS)
words = st.text(alphabet=_WORD, min_size=1, max_size=20).filter(lambda s: "@" not in s)
nibbles = st.text(alphabet="0123456789-.", min_size=1, max_size=30)
hexes = st.text(alphabet="0123456789ABCDEF", min_size=1, max_size=30)
unicode_text = st.text(min_size=1, max_size=40).filter(lambda s: "@" not in s)
long_text = st.text(alphabet=string.ascii_lowercase, min_size=120, max_size=300)
plain_strings = st.one_of(tokens, words, nibbles, hexes, unicode_text, long_text)

phone = st.text(alphabet=string.digits, min_size=5, max_size=15)
jids = st.one_of(
    st.builds(JID, phone, st.just("s.whatsapp.net")),
    st.builds(JID, phone, st.just("s.whatsapp.net"), st.integers(1, 255)),
    st.builds(JID, phone, st.just("lid")),
    st.builds(JID, phone, st.just("lid"), st.integers(1, 255)),
    st.builds(lambda a, b: JID(f"{a}-{b}", "g.us"), phone, phone),
    st.builds(JID, phone, st.just("g.us")),
    st.just(JID("status", "broadcast")),
    st.builds(JID, phone, st.just("newsletter")),
    st.sampled_from([JID("", "s.whatsapp.net"), JID("", "g.us"), JID("", "lid")]),
)
#: JID kinds Baileys 6.17 does not know (it has no FB/interop JIDs, and reads hosted as lid).
extra_jids = st.one_of(
    st.builds(JID, phone, st.just("hosted"), st.integers(0, 255)),
    st.builds(JID, phone, st.just("hosted.lid"), st.integers(0, 255)),
    st.builds(JID, phone, st.just("msgr"), st.integers(0, 65535)),
    st.builds(
        JID, phone, st.just("interop"), st.integers(0, 65535), st.just(0), st.integers(0, 65535)
    ),
)

attr_keys = st.one_of(
    tokens, st.text(alphabet=string.ascii_lowercase + "_", min_size=1, max_size=12)
)


def nodes(
    jid_values: st.SearchStrategy[JID] = jids, max_leaves: int = 20
) -> st.SearchStrategy[Node]:
    attrs = st.dictionaries(attr_keys, st.one_of(plain_strings, jid_values), max_size=6)
    binary = st.one_of(st.binary(max_size=300), st.binary(min_size=250, max_size=2000))
    leaf = st.builds(Node, st.one_of(tokens, words), attrs, st.one_of(st.none(), binary))
    return st.recursive(
        leaf,
        lambda children: st.builds(
            Node, st.one_of(tokens, words), attrs, st.lists(children, min_size=1, max_size=5)
        ),
        max_leaves=max_leaves,
    )


def random_node(rng: random.Random, depth: int = 0, with_extra_jids: bool = False) -> Node:
    """A node from a seeded generator, for interop runs that send hundreds at once."""

    def string_value() -> str:
        kind = rng.randrange(6)
        if kind == 0:
            return rng.choice(_TOKENS)
        if kind == 1:
            return "".join(rng.choices("0123456789-.", k=rng.randint(1, 40)))
        if kind == 2:
            return "".join(rng.choices("0123456789ABCDEF", k=rng.randint(1, 40)))
        if kind == 3:
            return "".join(rng.choices("abcdéßü€😀 xyz", k=rng.randint(1, 30)))
        if kind == 4:
            return "".join(rng.choices(string.ascii_letters, k=rng.randint(100, 400)))
        return "".join(rng.choices(_WORD, k=rng.randint(1, 20)))

    def jid_value() -> JID:
        user = "".join(rng.choices(string.digits, k=rng.randint(5, 15)))
        kind = rng.randrange(9 if with_extra_jids else 7)
        if kind == 0:
            return JID(user, "s.whatsapp.net")
        if kind == 1:
            return JID(user, "s.whatsapp.net", rng.randint(1, 255))
        if kind == 2:
            return JID(user, "lid", rng.randint(0, 255))
        if kind == 3:
            return JID(f"{user}-{rng.randint(1, 10**10)}", "g.us")
        if kind == 4:
            return JID("status", "broadcast")
        if kind == 5:
            return JID(user, "newsletter")
        if kind == 6:
            return JID("", rng.choice(["s.whatsapp.net", "g.us", "lid"]))
        if kind == 7:
            return JID(user, rng.choice(["hosted", "hosted.lid"]), rng.randint(0, 255))
        return JID(user, "interop", rng.randint(0, 9), 0, rng.randint(0, 65535))

    attrs: dict[str, str | JID] = {}
    for _ in range(rng.randint(0, 7)):
        key = (
            rng.choice(_TOKENS)
            if rng.random() < 0.6
            else "".join(rng.choices(string.ascii_lowercase, k=rng.randint(1, 10)))
        )
        attrs[key] = jid_value() if rng.random() < 0.3 else string_value()
    tag = (
        rng.choice(_TOKENS)
        if rng.random() < 0.7
        else "".join(rng.choices(string.ascii_lowercase, k=rng.randint(1, 10)))
    )
    roll = rng.random()
    content: bytes | list[Node] | None
    if depth < 4 and roll < 0.35:
        content = [random_node(rng, depth + 1, with_extra_jids) for _ in range(rng.randint(1, 6))]
    elif roll < 0.75:
        size = rng.choice(
            [0, 1, 32, 255, 256, 300, 4096, 70000] if rng.random() < 0.1 else [rng.randint(0, 200)]
        )
        content = rng.randbytes(size)
    else:
        content = None
    return Node(tag, attrs, content)
