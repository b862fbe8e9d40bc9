"""Baileys 6.17's Noise handler as the client against our server role, over a websocket."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
from aiohttp import web

from mautrix_whatsapp_py.whatsapp.binary import Node, marshal, unmarshal
from mautrix_whatsapp_py.whatsapp.proto import wa_handshake_pb2 as pb
from mautrix_whatsapp_py.whatsapp.signal.keys import KeyPair, raw_public, sign
from mautrix_whatsapp_py.whatsapp.socket import CertificateAuthority, NoiseSocket, accept_server
from tests.helpers.web import serve_route
from tests.interop.node_peer import AsyncNodePeer, PeerError, b64, unb64

pytestmark = pytest.mark.interop


class EchoServer:
    """Accepts one client, records what the handshake gave, answers each node with a reply."""

    def __init__(self) -> None:
        self.ca = CertificateAuthority.generate()
        self.key = KeyPair.generate()
        self.chain = self.ca.cert_chain(raw_public(self.key.public))
        self.client: dict[str, object] = {}
        self.received: list[Node] = []
        self.errors: list[BaseException] = []

    async def handle(self, request: web.Request) -> web.WebSocketResponse:
        ws = web.WebSocketResponse(max_msg_size=0)
        await ws.prepare(request)
        try:
            sock, static, payload, version = await accept_server(ws, self.key, self.chain)
            self.client = {"static": static, "payload": payload, "version": version}
            await self.serve(sock, version)
        except Exception as err:
            self.errors.append(err)
        await ws.close()
        return ws

    async def serve(self, sock: NoiseSocket, version: int) -> None:
        # The server speaks first after the handshake, as the real one does with <success/>.
        await sock.send_frame(marshal(Node("success", {"t": "1700000000"}), version))
        async for frame in sock:
            node = unmarshal(frame, version)
            self.received.append(node)
            reply = Node("ack", {"id": node.attrs.get("id", ""), "class": node.tag}, node.content)
            await sock.send_frame(marshal(reply, version))


@pytest.fixture
async def echo_server() -> AsyncIterator[tuple[EchoServer, str]]:
    server = EchoServer()
    async with serve_route("/ws/chat", server.handle) as url:
        yield server, url


@pytest.fixture
async def baileys() -> AsyncIterator[AsyncNodePeer]:
    peer = await AsyncNodePeer.start("noise_peer.js")
    yield peer
    await peer.call("close")
    await peer.close()


async def test_baileys_client_handshake_and_frames(
    echo_server: tuple[EchoServer, str], baileys: AsyncNodePeer
) -> None:
    server, url = echo_server
    result = await baileys.call("connect", url=url, payload=b64(b"client payload bytes"))
    assert result["first"] == {"tag": "success", "attrs": {"t": "1700000000"}, "content": None}
    nodes = [
        {
            "tag": "iq",
            "attrs": {"id": f"q{i}", "type": "get", "xmlns": "w:p"},
            "content": {"b64": b64(bytes([i]) * (i * 300))},
        }
        for i in range(1, 12)
    ]
    await baileys.call("send", nodes=nodes)
    replies = await baileys.call("receive", count=len(nodes))
    assert server.errors == []
    assert server.client == {
        "static": unb64(result["noisePublic"]),
        "payload": b"client payload bytes",
        "version": 2,  # Baileys 6.17 announces dictionary version 2 in its intro header
    }
    # Our server received the frames in order...
    for i, (sent, got) in enumerate(zip(nodes, server.received, strict=True), 1):
        assert got.tag == "iq" and got.attrs == sent["attrs"]
        assert got.content == bytes([i]) * (i * 300)
    # ...and every reply reached Baileys intact. Baileys' decodeFrame is async and runs once per
    # websocket message, so it may hand frames up out of order; match replies by id.
    by_id = {reply["attrs"]["id"]: reply for reply in replies}
    assert sorted(by_id) == sorted(f"q{i}" for i in range(1, 12))
    for i in range(1, 12):
        reply = by_id[f"q{i}"]
        assert reply["tag"] == "ack"
        assert reply["attrs"] == {"id": f"q{i}", "class": "iq"}
        assert unb64(reply["content"]["b64"]) == bytes([i]) * (i * 300)


async def test_baileys_rejects_wrong_issuer_serial(
    echo_server: tuple[EchoServer, str], baileys: AsyncNodePeer
) -> None:
    server, url = echo_server
    # A chain like ours but whose intermediate claims another issuer than WhatsApp's root.
    details = pb.CertChain.NoiseCertificate.Details(
        serial=1, issuer_serial=7, key=raw_public(server.ca.intermediate.public), not_after=2**40
    ).SerializeToString()
    chain = pb.CertChain()
    chain.ParseFromString(server.chain)
    chain.intermediate.details = details
    chain.intermediate.signature = sign(server.ca.root.private, details)
    server.chain = chain.SerializeToString()
    with pytest.raises(PeerError, match="certification match failed"):
        await baileys.call("connect", url=url, payload=b64(b"x"))
