"""The length-prefixed framing that carries Noise messages inside websocket messages.

Each frame is a 3-byte big-endian length and the payload. A client's first bytes are preceded
by its intro header (``WA``, magic, dictionary version), optionally behind an edge-routing
preamble. Websocket message boundaries mean nothing here: frames may be split or joined.
"""

from __future__ import annotations

from .constants import EDGE_ROUTING_MAGIC, FRAME_LENGTH_SIZE, FRAME_MAX_SIZE, WA_MAGIC_VALUE
from .errors import FrameError, FrameTooLargeError


def encode_frame(payload: bytes, prefix: bytes = b"") -> bytes:
    """One frame, with ``prefix`` (the intro header on a client's first frame) in front."""
    size = len(payload)
    if size >= FRAME_MAX_SIZE:
        raise FrameTooLargeError(f"frame of {size} bytes exceeds {FRAME_MAX_SIZE - 1}")
    return prefix + size.to_bytes(FRAME_LENGTH_SIZE, "big") + payload


class FrameReader:
    """Turns a byte stream into frames, whatever the chunking.

    With ``expect_intro`` (the server side) the stream must start with an intro header, which
    is kept in :attr:`intro` (its last byte is the client's token dictionary version).
    """

    def __init__(self, max_size: int = FRAME_MAX_SIZE - 1, expect_intro: bool = False) -> None:
        self.max_size = max_size
        self._buf = bytearray()
        self._need_intro = expect_intro
        self.intro: bytes | None = None
        self.routing_info: bytes | None = None

    def feed(self, data: bytes) -> list[bytes]:
        """Add received bytes; return every frame now complete."""
        buf = self._buf
        buf += data
        if self._need_intro and not self._take_intro():
            return []
        frames: list[bytes] = []
        while len(buf) >= FRAME_LENGTH_SIZE:
            size = int.from_bytes(buf[:FRAME_LENGTH_SIZE], "big")
            if size > self.max_size:
                raise FrameTooLargeError(f"incoming frame of {size} bytes exceeds {self.max_size}")
            end = FRAME_LENGTH_SIZE + size
            if len(buf) < end:
                break
            frames.append(bytes(buf[FRAME_LENGTH_SIZE:end]))
            del buf[:end]
        return frames

    def _take_intro(self) -> bool:
        """Consume the (optional routing preamble and) intro header once all of it is here."""
        buf = self._buf
        offset = 0
        if buf[:1] == EDGE_ROUTING_MAGIC[:1]:
            _check_prefix(buf[:4], EDGE_ROUTING_MAGIC, "edge routing preamble")
            if len(buf) < 7:
                return False
            offset = 7 + int.from_bytes(buf[4:7], "big")
            if len(buf) < offset:
                return False
            self.routing_info = bytes(buf[7:offset])
        header = bytes(buf[offset : offset + 4])
        _check_prefix(header[:3], _INTRO_START, "intro header")
        if len(header) < 4:
            return False
        self.intro = header
        del buf[: offset + 4]
        self._need_intro = False
        return True


_INTRO_START = bytes((ord("W"), ord("A"), WA_MAGIC_VALUE))


def _check_prefix(got: bytes | bytearray, expected: bytes, what: str) -> None:
    """Raise unless ``got`` is (the start of) ``expected``."""
    if bytes(got) != expected[: len(got)]:
        raise FrameError(f"stream does not start with an {what}: {bytes(got).hex()}")
