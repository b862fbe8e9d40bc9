"""Known byte vectors for the binary codec, computed by hand from the format."""

from __future__ import annotations

import zlib

import pytest

from mautrix_whatsapp_py.whatsapp import binary
from mautrix_whatsapp_py.whatsapp.binary import (
    JID,
    DecodeError,
    EncodeError,
    Node,
    marshal,
    unmarshal,
)
from mautrix_whatsapp_py.whatsapp.binary.tokens import get_dictionary

# Both implementations must give these bytes; the accelerated one runs when it was built.
CODECS = [
    pytest.param((binary.marshal_pure, binary.unmarshal_pure), id="python"),
    pytest.param((marshal, unmarshal), id="default"),
]

# In dictionary version 2: "id" = 8, "iq" = 30, "type" = 4, "s.whatsapp.net" = 3, "to" = 14.
VECTORS_V2 = [
    # <iq id="737"/>: list of 3, token iq, token id, nibble "737" (odd: top bit, pad 0xF).
    (Node("iq", {"id": "737"}), "00 f8 03 1e 08 ff 82 73 7f"),
    # <iq id="73"/>: the even case.
    (Node("iq", {"id": "73"}), "00 f8 03 1e 08 ff 01 73"),
    # <iq type="AB"/>: hex packing.
    (Node("iq", {"type": "AB"}), "00 f8 03 1e 04 fb 01 ab"),
    # <iq type="ABC"/>: odd hex, padded with 0xF.
    (Node("iq", {"type": "ABC"}), "00 f8 03 1e 04 fb 82 ab cf"),
    # <iq to="s.whatsapp.net"/> as a JID: JID pair with an empty user.
    (Node("iq", {"to": JID("", "s.whatsapp.net")}), "00 f8 03 1e 0e fa 00 03"),
    # <iq to="73:2@s.whatsapp.net"/>: AD JID, domain 0, device 2, user nibble "73".
    (Node("iq", {"to": JID("73", "s.whatsapp.net", 2)}), "00 f8 03 1e 0e f7 00 02 ff 01 73"),
    # ...and on lid the domain byte is 1.
    (Node("iq", {"to": JID("73", "lid", 2)}), "00 f8 03 1e 0e f7 01 02 ff 01 73"),
    # <iq>bytes</iq>: list of 2, BINARY_8 length 3.
    (Node("iq", {}, b"abc"), "00 f8 02 1e fc 03 61 62 63"),
    # <iq><iq/></iq>: list content of one child.
    (Node("iq", {}, [Node("iq")]), "00 f8 02 1e f8 01 f8 01 1e"),
    # A tag that is no token: raw string "zz".
    (Node("zz"), "00 f8 01 fc 02 7a 7a"),
]


@pytest.mark.parametrize("codec", CODECS)
@pytest.mark.parametrize(("node", "hexbytes"), VECTORS_V2)
def test_vectors(codec: tuple, node: Node, hexbytes: str) -> None:
    enc, dec = codec
    data = bytes.fromhex(hexbytes)
    assert enc(node, 2) == data
    assert dec(data, 2) == node


@pytest.mark.parametrize("codec", CODECS)
def test_binary_lengths(codec: tuple) -> None:
    enc, dec = codec
    for size, header in [
        (255, "fc ff"),
        (256, "fd 00 01 00"),
        ((1 << 20) - 1, "fd 0f ff ff"),
        (1 << 20, "fe 00 10 00 00"),
    ]:
        node = Node("iq", {}, b"\x01" * size)
        data = enc(node, 2)
        assert data[:4] == bytes.fromhex("00 f8 02 1e")
        assert data[4 : 4 + len(bytes.fromhex(header))] == bytes.fromhex(header)
        assert dec(data, 2) == node


@pytest.mark.parametrize("codec", CODECS)
def test_list_16(codec: tuple) -> None:
    enc, dec = codec
    node = Node("iq", {}, [Node("iq") for _ in range(300)])
    data = enc(node, 2)
    assert data[4:7] == bytes.fromhex("f9 01 2c")
    assert dec(data, 2) == node


@pytest.mark.parametrize("codec", CODECS)
def test_double_byte_token(codec: tuple) -> None:
    enc, dec = codec
    for version in (2, 3):
        tokens = get_dictionary(version)
        word = tokens.double[2][7]
        data = enc(Node("iq", {"x": word}), version)
        # DICTIONARY_2 then index 7 ends the payload.
        assert data[-2:] == bytes((238, 7))
        assert dec(data, version).attrs["x"] == word


def test_versions_differ_and_each_round_trips() -> None:
    node = Node("notification", {"type": "devices"}, [Node("receipt")])
    v2, v3 = marshal(node, 2), marshal(node, 3)
    assert v2 != v3
    assert unmarshal(v2, 2) == node
    assert unmarshal(v3, 3) == node
    with pytest.raises(ValueError, match="unknown token dictionary version"):
        marshal(node, 9)


def test_compressed_payload() -> None:
    plain = marshal(Node("iq", {"id": "1"}, b"x" * 500))
    compressed = b"\x02" + zlib.compress(plain[1:])
    assert unmarshal(compressed) == unmarshal(plain)


def test_compression_bomb_is_refused() -> None:
    bomb = b"\x02" + zlib.compress(b"\x00" * (65 * 1024 * 1024))
    with pytest.raises(DecodeError, match="inflates past"):
        unmarshal(bomb)


def test_content_tokens_decode_as_bytes() -> None:
    # Content given as a token on the wire (other encoders do this) becomes bytes here.
    data = bytes.fromhex("00 f8 02 1e 08")
    assert unmarshal(data, 2) == Node("iq", {}, b"id")
    assert binary.unmarshal_pure(data, 2) == Node("iq", {}, b"id")


def test_empty_attribute_values_are_left_out() -> None:
    assert marshal(Node("iq", {"id": "", "type": "get"})) == marshal(Node("iq", {"type": "get"}))


@pytest.mark.parametrize("codec", CODECS)
def test_encode_errors(codec: tuple) -> None:
    enc, _ = codec
    with pytest.raises(EncodeError):
        enc(Node("iq", {"x": 1.5}))  # type: ignore[dict-item]
    with pytest.raises(EncodeError):
        enc(Node("iq", {}, "text"))  # type: ignore[arg-type]
    with pytest.raises(EncodeError):
        enc(Node("iq", {}, ["not a node"]))  # type: ignore[list-item]
    deep = Node("iq")
    for _ in range(100):
        deep = Node("iq", {}, [deep])
    with pytest.raises(EncodeError, match="deeper"):
        enc(deep)


def test_int_attribute_values_encode_as_strings() -> None:
    assert unmarshal(marshal(Node("iq", {"t": 1700000000}))).attrs["t"] == "1700000000"


@pytest.mark.parametrize("codec", CODECS)
@pytest.mark.parametrize(
    ("hexbytes", "message"),
    [
        ("", "empty payload"),
        ("00", "end of data"),
        ("00 f8 00", "empty list"),
        ("00 f8 01 1e 1e", "left over"),
        ("00 f8 03 1e fa", "end of data"),
        ("00 f8 01 ec", "end of data"),
        ("00 f8 01 f0", "invalid token"),
        ("00 f8 03 1e 08 ff 81 cf", "invalid nibble"),
        ("00 f8 01 fc 02 ff fe", "UTF-8"),
        ("00 f8 03 1e f8 01 1e", "list where a string"),
        ("00 f8 03 1e 08 f6 00 00 00 03", "must be on msgr"),
        ("02 00 01 02", "does not inflate"),
        # Found by the differential fuzzer: the C decoder once crashed on this.
        ("00 f8 03 1e 08 ff 80", "empty packed string marked odd"),
    ],
)
def test_decode_errors(codec: tuple, hexbytes: str, message: str) -> None:
    _, dec = codec
    with pytest.raises(DecodeError, match=message):
        dec(bytes.fromhex(hexbytes), 2)


def test_render_shortens_binary() -> None:
    node = Node(
        "message", {"to": JID("1", "s.whatsapp.net")}, [Node("enc", {"v": "2"}, b"\x00" * 500)]
    )
    text = node.render()
    assert '<message to="1@s.whatsapp.net">' in text
    assert "<!-- 500 bytes: 00000000000000000000000000000000… -->" in text
    assert len(text) < 200
    assert str(Node("body", {}, b"hello")) == "<body>hello</body>"
