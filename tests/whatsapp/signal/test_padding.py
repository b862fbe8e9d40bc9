"""WhatsApp plaintext padding."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from mautrix_whatsapp_py.whatsapp.signal.errors import InvalidPaddingError
from mautrix_whatsapp_py.whatsapp.signal.padding import pad, unpad


@given(st.binary(max_size=200))
def test_round_trip(data: bytes) -> None:
    padded = pad(data)
    n = padded[-1]
    assert 1 <= n <= 15 and len(padded) == len(data) + n
    assert padded[-n:] == bytes([n]) * n
    assert unpad(padded) == data


@pytest.mark.parametrize(
    "bad", [b"", b"abc\x00", b"\x05\x05", b"abc\x01\x02", b"ab\x03\x03\x04\x03"]
)
def test_bad_padding_rejected(bad: bytes) -> None:
    with pytest.raises(InvalidPaddingError):
        unpad(bad)
