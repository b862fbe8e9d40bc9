"""Noise_XX_25519_AESGCM_SHA256 as WhatsApp runs it: the symmetric handshake state and the
transport ciphers that follow. Pure computation; no I/O.

During the handshake one counter numbers every encrypt and decrypt, and the handshake hash is
the associated data. Mixing a Diffie-Hellman result in derives a new chaining key (salt) and
cipher key with HKDF-SHA256 and resets the counter. When the handshake ends, HKDF over an empty
input gives the two transport keys; the initiator writes with the first and reads with the
second, the responder the other way round.
"""

from __future__ import annotations

import hashlib

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from ..signal.keys import agree
from .errors import DecryptionError, NoiseHandshakeError


def _iv(counter: int) -> bytes:
    # 12-byte nonce: eight zero bytes and the counter as 32-bit big-endian.
    return b"\x00" * 8 + counter.to_bytes(4, "big")


def _hkdf_pair(salt: bytes, data: bytes) -> tuple[bytes, bytes]:
    out = HKDF(algorithm=hashes.SHA256(), length=64, salt=salt, info=b"").derive(data)
    return out[:32], out[32:]


class HandshakeState:
    """The symmetric state both sides keep while the handshake runs."""

    __slots__ = ("_cipher", "_counter", "_hash", "_salt")

    def __init__(self, pattern: bytes, prologue: bytes) -> None:
        start = pattern if len(pattern) == 32 else hashlib.sha256(pattern).digest()
        self._hash = start
        self._salt = start
        self._cipher = AESGCM(start)
        self._counter = 0
        self.authenticate(prologue)

    @property
    def handshake_hash(self) -> bytes:
        return self._hash

    def authenticate(self, data: bytes) -> None:
        """Mix public data into the handshake hash."""
        self._hash = hashlib.sha256(self._hash + data).digest()

    def encrypt(self, plaintext: bytes) -> bytes:
        ciphertext = self._cipher.encrypt(_iv(self._counter), plaintext, self._hash)
        self._counter += 1
        self.authenticate(ciphertext)
        return ciphertext

    def decrypt(self, ciphertext: bytes) -> bytes:
        try:
            plaintext = self._cipher.decrypt(_iv(self._counter), ciphertext, self._hash)
        except InvalidTag:
            raise NoiseHandshakeError("handshake message did not decrypt") from None
        self._counter += 1
        self.authenticate(ciphertext)
        return plaintext

    def mix_into_key(self, data: bytes) -> None:
        self._counter = 0
        self._salt, key = _hkdf_pair(self._salt, data)
        self._cipher = AESGCM(key)

    def mix_shared_secret(self, private: bytes, public: bytes) -> None:
        """Mix the X25519 agreement of our ``private`` and their raw ``public`` key in."""
        try:
            secret = agree(private, public)
        except Exception as err:  # the Signal layer's InvalidKeyError, or a bad length
            raise NoiseHandshakeError(f"key agreement failed: {err}") from None
        self.mix_into_key(secret)

    def split(self, initiator: bool) -> TransportCipher:
        """End the handshake: the transport cipher pair for one side."""
        first, second = _hkdf_pair(self._salt, b"")
        write, read = (first, second) if initiator else (second, first)
        return TransportCipher(write, read)


class TransportCipher:
    """AES-256-GCM in each direction with its own counter; no associated data.

    A frame that does not decrypt is fatal: the counters would no longer agree, so the caller
    must close the connection.
    """

    __slots__ = ("_read", "_read_counter", "_write", "_write_counter", "broken")

    def __init__(self, write_key: bytes, read_key: bytes) -> None:
        self._write = AESGCM(write_key)
        self._read = AESGCM(read_key)
        self._write_counter = 0
        self._read_counter = 0
        self.broken = False

    def encrypt(self, plaintext: bytes) -> bytes:
        if self.broken:
            raise DecryptionError("the transport failed earlier and cannot be used")
        ciphertext = self._write.encrypt(_iv(self._write_counter), plaintext, None)
        self._write_counter += 1
        return ciphertext

    def decrypt(self, ciphertext: bytes) -> bytes:
        if self.broken:
            raise DecryptionError("the transport failed earlier and cannot be used")
        try:
            plaintext = self._read.decrypt(_iv(self._read_counter), ciphertext, None)
        except InvalidTag:
            self.broken = True
            raise DecryptionError(
                f"frame {self._read_counter} did not decrypt ({len(ciphertext)} bytes)"
            ) from None
        self._read_counter += 1
        return plaintext
