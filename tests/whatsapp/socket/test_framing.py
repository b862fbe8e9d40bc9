"""Frame encoding and the streaming frame reader, including fuzzing."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from mautrix_whatsapp_py.whatsapp.socket import (
    FrameError,
    FrameReader,
    FrameTooLargeError,
    encode_frame,
    intro_header,
)


def test_encode_frame() -> None:
    assert encode_frame(b"abc") == b"\x00\x00\x03abc"
    assert encode_frame(b"", b"WA\x06\x03") == b"WA\x06\x03\x00\x00\x00"
    with pytest.raises(FrameTooLargeError):
        encode_frame(b"\x00" * (1 << 24))


@settings(max_examples=200, deadline=None)
@given(
    st.lists(st.binary(max_size=600), max_size=10),
    st.lists(st.integers(1, 50), min_size=1, max_size=20),
    st.booleans(),
)
def test_reader_any_chunking(frames: list[bytes], cuts: list[int], routing: bool) -> None:
    prefix = intro_header(2)
    if routing:
        prefix = b"ED\x00\x01\x00\x00\x03abc" + prefix
    stream = prefix + b"".join(encode_frame(f) for f in frames)
    reader = FrameReader(expect_intro=True)
    got: list[bytes] = []
    pos = 0
    i = 0
    while pos < len(stream):
        step = cuts[i % len(cuts)]
        got += reader.feed(stream[pos : pos + step])
        pos += step
        i += 1
    assert got == frames
    assert reader.intro == intro_header(2)
    assert reader.routing_info == (b"abc" if routing else None)


def test_reader_limits_and_garbage() -> None:
    with pytest.raises(FrameTooLargeError):
        FrameReader(max_size=10).feed(b"\x00\x00\x0b" + b"x" * 11)
    with pytest.raises(FrameError, match="intro header"):
        FrameReader(expect_intro=True).feed(b"GET / HTTP/1.1")
    with pytest.raises(FrameError, match="edge routing preamble"):
        FrameReader(expect_intro=True).feed(b"ED\x07\x07\x00\x00\x00")


@settings(max_examples=1000, deadline=None)
@given(st.lists(st.binary(max_size=64), max_size=8), st.booleans())
def test_reader_fuzz(chunks: list[bytes], intro: bool) -> None:
    reader = FrameReader(max_size=1 << 16, expect_intro=intro)
    try:
        for chunk in chunks:
            for frame in reader.feed(chunk):
                assert len(frame) <= 1 << 16
    except FrameError:
        pass
