"""The Node interop harness itself: requests reach the peer and replies come back in order."""

import pytest

from tests.interop.node_peer import AsyncNodePeer, NodePeer, PeerError

pytestmark = pytest.mark.interop


def test_sync_peer_round_trip() -> None:
    with NodePeer("echo.js") as peer:
        assert peer.call("echo", a=1, b="x") == {"a": 1, "b": "x"}
        assert peer.call("version").startswith("6.17.")
        with pytest.raises(PeerError, match="unknown method"):
            peer.call("nope")


async def test_async_peer_round_trip() -> None:
    peer = await AsyncNodePeer.start("echo.js")
    try:
        assert await peer.call("echo", n=[1, 2, 3]) == {"n": [1, 2, 3]}
    finally:
        await peer.close()
