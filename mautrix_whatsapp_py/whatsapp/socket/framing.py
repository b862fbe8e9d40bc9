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
        buf = self._buf
        offset = 0
        if buf[:2] == EDGE_ROUTING_MAGIC[:2]:
            if len(buf) < 7:
                return False
            if buf[:4] != EDGE_ROUTING_MAGIC:
                raise FrameError(f"unknown edge routing preamble {bytes(buf[:4]).hex()}")
            routing_len = int.from_bytes(buf[4:7], "big")
            offset = 7 + routing_len
            if len(buf) < offset + 4:
                return False
            self.routing_info = bytes(buf[7:offset])
        elif len(buf) < 4:
            if bytes(buf) != b"WA"[: len(buf)]:
                raise FrameError(f"stream does not start with an intro header: {bytes(buf).hex()}")
            return False
        header = bytes(buf[offset : offset + 4])
        if header[:3] != bytes((ord("W"), ord("A"), WA_MAGIC_VALUE)):
            raise FrameError(f"stream does not start with an intro header: {header.hex()}")
        self.intro = header
        del buf[: offset + 4]
        self._need_intro = False
        return True
