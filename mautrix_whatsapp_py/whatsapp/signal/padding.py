"""WhatsApp's plaintext padding, applied inside the Signal encryption.

Before encryption WhatsApp appends ``n`` bytes each equal to ``n``, with ``n`` random in 1..15
(a random nibble, zero mapped to 15: what Baileys' ``writeRandomPadMax16`` and whatsmeow's
``padMessage`` do). Removal checks the whole pad rather than trusting the last byte alone.
"""

from __future__ import annotations

import os

from .errors import InvalidPaddingError


def pad(plaintext: bytes) -> bytes:
    n = os.urandom(1)[0] & 0x0F or 0x0F
    return plaintext + bytes((n,)) * n


def unpad(padded: bytes) -> bytes:
    """Strip the padding; :class:`InvalidPaddingError` if it is absent or malformed."""
    if not padded:
        raise InvalidPaddingError("empty plaintext")
    n = padded[-1]
    if n == 0 or n > len(padded):
        raise InvalidPaddingError(f"bad pad length {n} for {len(padded)} bytes")
    if padded[-n:] != bytes((n,)) * n:
        raise InvalidPaddingError("pad bytes differ")
    return padded[:-n]
