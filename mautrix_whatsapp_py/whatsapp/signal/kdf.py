"""Key derivation and symmetric crypto of the Signal protocol, tuned for the hot path.

HKDF-SHA256 and HMAC-SHA256 are built on :mod:`hashlib` with precomputed pad states where a
key is used more than once (fixed zero salt, HKDF expand), because that is several times
cheaper than creating an HMAC object per call. AES-256-CBC (PKCS#7) comes from ``cryptography``.

The HKDF info strings are the wire constants of libsignal ("WhisperText" and friends); they live
here, in one place.
"""

from __future__ import annotations

import hashlib
import hmac

from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes

from .errors import InvalidMessageError

INFO_TEXT = b"WhisperText"  # X3DH master secret -> root key, first chain key
INFO_RATCHET = b"WhisperRatchet"  # DH ratchet step -> new root key, chain key
INFO_MESSAGE_KEYS = b"WhisperMessageKeys"  # message key seed -> cipher key, MAC key, IV
INFO_GROUP = b"WhisperGroup"  # sender message key seed -> IV, cipher key

MESSAGE_KEY_SEED = b"\x01"
CHAIN_KEY_SEED = b"\x02"

_sha256 = hashlib.sha256
_IPAD = bytes(x ^ 0x36 for x in range(256))
_OPAD = bytes(x ^ 0x5C for x in range(256))
_ZERO32 = bytes(32)


def hmac_sha256(key: bytes, data: bytes) -> bytes:
    return hmac.digest(key, data, "sha256")


class _Keyed:
    """HMAC-SHA256 with the inner and outer pad states of one key precomputed."""

    __slots__ = ("_inner", "_outer")

    def __init__(self, key: bytes) -> None:
        if len(key) > 64:
            key = _sha256(key).digest()
        key = key.ljust(64, b"\0")
        self._inner = _sha256(key.translate(_IPAD))
        self._outer = _sha256(key.translate(_OPAD))

    def __call__(self, data: bytes) -> bytes:
        inner = self._inner.copy()
        inner.update(data)
        outer = self._outer.copy()
        outer.update(inner.digest())
        return outer.digest()


_zero_salt = _Keyed(_ZERO32)


def hkdf(ikm: bytes, salt: bytes | None, info: bytes, length: int) -> bytes:
    """RFC 5869 HKDF-SHA256; ``salt=None`` means 32 zero bytes (libsignal's default)."""
    prk = _zero_salt(ikm) if salt is None else hmac.digest(salt, ikm, "sha256")
    expand = _Keyed(prk)
    out = b""
    block = b""
    counter = 1
    while len(out) < length:
        block = expand(block + info + bytes([counter]))
        out += block
        counter += 1
    return out[:length]


def chain_step(chain_key: bytes) -> tuple[bytes, bytes]:
    """Advance a symmetric chain: ``(message key seed, next chain key)``."""
    keyed = _Keyed(chain_key)
    return keyed(MESSAGE_KEY_SEED), keyed(CHAIN_KEY_SEED)


_MK_INFO_1 = INFO_MESSAGE_KEYS + b"\x01"
_MK_INFO_2 = INFO_MESSAGE_KEYS + b"\x02"
_MK_INFO_3 = INFO_MESSAGE_KEYS + b"\x03"


def message_keys(seed: bytes) -> tuple[bytes, bytes, bytes]:
    """``(cipher key, MAC key, IV)`` of a 1:1 message from its seed (HKDF, 80 bytes, inlined)."""
    expand = _Keyed(_zero_salt(seed))
    cipher_key = expand(_MK_INFO_1)
    mac_key = expand(cipher_key + _MK_INFO_2)
    iv = expand(mac_key + _MK_INFO_3)[:16]
    return cipher_key, mac_key, iv


def root_step(root_key: bytes, dh_output: bytes) -> tuple[bytes, bytes]:
    """A DH ratchet step: ``(new root key, new chain key)``."""
    okm = hkdf(dh_output, root_key, INFO_RATCHET, 64)
    return okm[:32], okm[32:]


def sender_message_keys(seed: bytes) -> tuple[bytes, bytes]:
    """``(IV, cipher key)`` of a group message from its sender message key seed."""
    okm = hkdf(seed, None, INFO_GROUP, 48)
    return okm[:16], okm[16:48]


def aes_cbc_encrypt(key: bytes, iv: bytes, plaintext: bytes) -> bytes:
    pad = 16 - len(plaintext) % 16
    enc = Cipher(algorithms.AES(key), modes.CBC(iv)).encryptor()
    return enc.update(plaintext + bytes([pad]) * pad) + enc.finalize()


def aes_cbc_decrypt(key: bytes, iv: bytes, ciphertext: bytes) -> bytes:
    if not ciphertext or len(ciphertext) % 16:
        raise InvalidMessageError("ciphertext is not a whole number of AES blocks")
    dec = Cipher(algorithms.AES(key), modes.CBC(iv)).decryptor()
    padded = dec.update(ciphertext) + dec.finalize()
    pad = padded[-1]
    if not 1 <= pad <= 16 or padded[-pad:] != bytes([pad]) * pad:
        raise InvalidMessageError("bad PKCS#7 padding")
    return padded[:-pad]
