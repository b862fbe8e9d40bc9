"""Fuzzing the decoder: any bytes give a node or a DecodeError, and both decoders agree."""

from __future__ import annotations

import random

from hypothesis import given, settings
from hypothesis import strategies as st

from mautrix_whatsapp_py.whatsapp import binary
from mautrix_whatsapp_py.whatsapp.binary import DecodeError, Node, marshal, unmarshal

from .strategies import random_node

# Seeded trees of every shape the codec has, encoded once; the fuzzer mutates these.
_rng = random.Random(7)
CORPUS = [marshal(random_node(_rng, with_extra_jids=True), 2) for _ in range(200)]


def decode_both(data: bytes) -> None:
    """Both decoders either fail with DecodeError or give the same node."""
    results: list[Node | str] = []
    for decode in (unmarshal, binary.unmarshal_pure):
        try:
            results.append(decode(data, 2))
        except DecodeError:
            results.append("error")
    assert results[0] == results[1]


@settings(max_examples=2000, deadline=None)
@given(st.binary(max_size=200))
def test_random_bytes(data: bytes) -> None:
    decode_both(b"\x00" + data)
    decode_both(data)


@st.composite
def mutated(draw: st.DrawFn) -> bytes:
    data = bytearray(draw(st.sampled_from(CORPUS)))
    for _ in range(draw(st.integers(1, 4))):
        kind = draw(st.sampled_from(["flip", "cut", "insert", "splice"]))
        pos = draw(st.integers(0, max(len(data) - 1, 0)))
        if kind == "flip" and data:
            data[pos] ^= 1 << draw(st.integers(0, 7))
        elif kind == "cut":
            del data[pos:]
        elif kind == "insert":
            data[pos:pos] = draw(st.binary(min_size=1, max_size=4))
        else:
            data[pos : pos + draw(st.integers(0, 4))] = draw(st.binary(max_size=4))
    return bytes(data)


@settings(max_examples=1500, deadline=None)
@given(mutated())
def test_mutated_payloads(data: bytes) -> None:
    decode_both(data)
