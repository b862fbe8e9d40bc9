"""Property tests: random trees round-trip, and the C accelerator agrees with pure Python."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from mautrix_whatsapp_py.whatsapp import binary
from mautrix_whatsapp_py.whatsapp.binary import Node, marshal, unmarshal

from .strategies import extra_jids, jids, nodes

all_nodes = nodes(st.one_of(jids, extra_jids))


@settings(max_examples=150, deadline=None)
@given(all_nodes, st.sampled_from([2, 3]))
def test_round_trip(node: Node, version: int) -> None:
    data = marshal(node, version)
    assert unmarshal(data, version) == node
    assert binary.unmarshal_pure(data, version) == node


@settings(max_examples=150, deadline=None)
@given(all_nodes, st.sampled_from([2, 3]))
def test_accelerator_matches_reference(node: Node, version: int) -> None:
    assert marshal(node, version) == binary.marshal_pure(node, version)
