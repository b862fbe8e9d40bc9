"""The cryptography of linking with a phone-number pairing code, for both ends.

The 8-character code never travels. Each side wraps an ephemeral public key with a key stretched
from the code (PBKDF2, then AES-CTR) and sends it through the server; only holders of the code
can unwrap it. The companion then proves its identity in a key bundle encrypted (AES-GCM) under
the ephemeral shared secret, and both derive the ADV secret from the ephemeral secret, an
identity secret and a random value from the bundle. A mistyped code yields different ephemeral
keys, which shows as a bundle that does not decrypt.
"""

from __future__ import annotations

import asyncio
import hashlib
import os
from dataclasses import dataclass

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.hashes import SHA256
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from .signal.keys import KeyPair

#: Crockford-style alphabet of the codes (no 0, O, I, U).
CODE_ALPHABET = "123456789ABCDEFGHJKLMNPQRSTVWXYZ"
#: PBKDF2-SHA256 rounds the code is stretched with.
CODE_ROUNDS = 2 << 16
WRAPPED_LENGTH = 80  # salt (32) + iv (16) + public key (32)
BUNDLE_INFO = b"link_code_pairing_key_bundle_encryption_key"
ADV_SECRET_INFO = b"adv_secret"


class PairCodeError(ValueError):
    """A wrapped key or key bundle that cannot be opened (usually: the code was mistyped)."""


def new_code() -> str:
    return "".join(CODE_ALPHABET[b % 32] for b in os.urandom(8))


def normalize(code: str) -> str:
    return code.replace("-", "").strip().upper()


async def _code_key(code: str, salt: bytes) -> bytes:
    # 131k rounds take a noticeable moment: off the event loop.
    return await asyncio.to_thread(
        hashlib.pbkdf2_hmac, "sha256", normalize(code).encode(), salt, CODE_ROUNDS, 32
    )


def _ctr(key: bytes, iv: bytes, data: bytes) -> bytes:
    cipher = Cipher(algorithms.AES(key), modes.CTR(iv)).encryptor()
    return cipher.update(data) + cipher.finalize()


async def wrap_public_key(code: str, key: KeyPair) -> bytes:
    """``salt || iv || AES-CTR(public key)`` under the code-derived key."""
    salt, iv = os.urandom(32), os.urandom(16)
    return salt + iv + _ctr(await _code_key(code, salt), iv, key.public[1:])


async def unwrap_public_key(code: str, wrapped: bytes) -> bytes:
    """The raw public key inside :func:`wrap_public_key`'s output (garbage if the code is
    wrong; CTR has no integrity, the key bundle catches it)."""
    if len(wrapped) != WRAPPED_LENGTH:
        raise PairCodeError(f"wrapped key is {len(wrapped)} bytes, expected {WRAPPED_LENGTH}")
    key = await _code_key(code, wrapped[:32])
    return _ctr(key, wrapped[32:48], wrapped[48:80])


@dataclass(frozen=True, slots=True)
class KeyBundle:
    companion_identity: bytes  # raw 32 bytes
    primary_identity: bytes  # raw 32 bytes
    random: bytes


def seal_bundle(ephemeral_secret: bytes, bundle: KeyBundle) -> bytes:
    """The companion's ``salt || iv || AES-GCM(companion id || primary id || random)``."""
    salt, iv = os.urandom(32), os.urandom(12)
    key = HKDF(SHA256(), 32, salt=salt, info=BUNDLE_INFO).derive(ephemeral_secret)
    plain = bundle.companion_identity + bundle.primary_identity + bundle.random
    return salt + iv + AESGCM(key).encrypt(iv, plain, b"")


def open_bundle(ephemeral_secret: bytes, sealed: bytes) -> KeyBundle:
    key = HKDF(SHA256(), 32, salt=sealed[:32], info=BUNDLE_INFO).derive(ephemeral_secret)
    try:
        plain = AESGCM(key).decrypt(sealed[32:44], sealed[44:], b"")
    except InvalidTag:
        raise PairCodeError("key bundle does not decrypt (was the code mistyped?)") from None
    if len(plain) != 96:
        raise PairCodeError("key bundle has the wrong length")
    return KeyBundle(plain[:32], plain[32:64], plain[64:])


def adv_secret(ephemeral_secret: bytes, identity_secret: bytes, random: bytes) -> bytes:
    """The ADV secret both ends derive; ``identity_secret`` is X25519(companion identity,
    primary identity) from either side."""
    return HKDF(SHA256(), 32, salt=None, info=ADV_SECRET_INFO).derive(
        ephemeral_secret + identity_secret + random
    )
