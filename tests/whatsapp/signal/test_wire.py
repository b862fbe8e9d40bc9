"""The hand-written protobuf codec and message framing."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from mautrix_whatsapp_py.whatsapp.signal.errors import InvalidMessageError, InvalidVersionError
from mautrix_whatsapp_py.whatsapp.signal.wire import (
    PreKeySignalMessage,
    SenderKeyDistributionMessage,
    SenderKeyMessage,
    SignalMessage,
    _parse_canonical_signal_message,
    field_bytes,
    field_int,
    parse_fields,
)

KEY = b"\x05" + bytes(range(32))
u32 = st.integers(min_value=0, max_value=0xFFFFFFFE)


@given(u32, u32, st.binary(max_size=300))
def test_signal_message_round_trip(counter: int, previous: int, ciphertext: bytes) -> None:
    body = SignalMessage.encode_body(KEY, counter, previous, ciphertext)
    msg = SignalMessage.parse(body + b"M" * 8)
    assert (msg.ratchet_key, msg.counter, msg.previous_counter, msg.ciphertext) == (
        KEY,
        counter,
        previous,
        ciphertext,
    )
    assert msg.body == body and msg.mac == b"M" * 8


@given(u32, st.one_of(st.none(), u32), u32)
def test_prekey_message_round_trip(reg_id: int, prekey_id: int | None, signed_id: int) -> None:
    inner = SignalMessage.parse(SignalMessage.encode_body(KEY, 1, 0, b"c" * 16) + b"m" * 8)
    msg = PreKeySignalMessage(reg_id, prekey_id, signed_id, KEY, KEY, inner)
    assert PreKeySignalMessage.parse(msg.serialize()) == msg


@given(u32, u32, st.binary(min_size=32, max_size=32))
def test_sender_key_messages_round_trip(key_id: int, iteration: int, chain: bytes) -> None:
    skdm = SenderKeyDistributionMessage(key_id, iteration, chain, KEY)
    assert SenderKeyDistributionMessage.parse(skdm.serialize()) == skdm
    body = SenderKeyMessage.encode_body(key_id, iteration, b"x" * 16)
    msg = SenderKeyMessage.parse(body + b"s" * 64)
    assert (msg.key_id, msg.iteration, msg.ciphertext, msg.body) == (
        key_id,
        iteration,
        b"x" * 16,
        body,
    )


def test_protobuf_primitives() -> None:
    data = field_int(1, 300) + field_bytes(2, b"abc") + b"\x1d\x00\x00\x00\x00" + field_int(1, 5)
    assert parse_fields(data) == {1: 5, 2: b"abc"}


@pytest.mark.parametrize(
    "data",
    [b"", b"\x23" + b"\x00" * 20, b"\x33\x0a\x05abc" + b"m" * 8, b"\x33\x0f" + b"m" * 8],
)
def test_malformed_signal_messages_rejected(data: bytes) -> None:
    with pytest.raises(InvalidMessageError):
        SignalMessage.parse(data)


def test_version_and_key_checks() -> None:
    body = SignalMessage.encode_body(KEY, 1, 0, b"c")
    with pytest.raises(InvalidVersionError):
        SignalMessage.parse(b"\x22" + body[1:] + b"m" * 8)
    bad_key = SignalMessage.encode_body(b"\x06" + KEY[1:], 1, 0, b"c")
    with pytest.raises(InvalidMessageError, match="ratchet key"):
        SignalMessage.parse(bad_key + b"m" * 8)
    with pytest.raises(InvalidMessageError, match="uint32"):
        SignalMessage.parse(
            b"\x33" + field_bytes(1, KEY) + field_int(2, 1 << 33) + field_bytes(4, b"c") + b"m" * 8
        )


@given(u32, u32, st.binary(max_size=300))
def test_fast_path_agrees_with_general_decoder(counter: int, previous: int, ct: bytes) -> None:
    canonical = SignalMessage.encode_body(KEY, counter, previous, ct) + b"M" * 8
    fast = _parse_canonical_signal_message(canonical)
    assert fast is not None
    # the same fields in another order take the general decoder and must mean the same
    reordered = (
        b"\x33"
        + field_bytes(4, ct)
        + field_int(3, previous)
        + field_int(2, counter)
        + field_bytes(1, KEY)
        + b"M" * 8
    )
    assert _parse_canonical_signal_message(reordered) is None
    slow = SignalMessage.parse(reordered)
    assert (slow.ratchet_key, slow.counter, slow.previous_counter, slow.ciphertext) == (
        fast.ratchet_key,
        fast.counter,
        fast.previous_counter,
        fast.ciphertext,
    )
