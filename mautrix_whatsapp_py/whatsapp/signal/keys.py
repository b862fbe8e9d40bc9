"""Curve25519 keys as Signal and WhatsApp use them.

Public keys travel as 33 bytes: a type byte ``0x05`` (DJB) followed by the 32-byte Montgomery
u-coordinate. Private keys are 32 raw bytes. Signatures are XEdDSA over the Montgomery private
key (64-byte random nonce); verification takes the Edwards sign bit from the top bit of the last
signature byte, which accepts both libsignal's legacy signatures (sign bit stored there) and pure
XEdDSA ones (sign bit forced to zero), the latter being what we produce.
"""

from __future__ import annotations

import os
import secrets
from dataclasses import dataclass, field

import xeddsa

from .errors import InvalidKeyError, InvalidSignatureError

DJB_TYPE = 0x05
PUBLIC_KEY_LEN = 33
PRIVATE_KEY_LEN = 32
SIGNATURE_LEN = 64
_DJB_PREFIX = bytes([DJB_TYPE])


def serialize_public(raw: bytes) -> bytes:
    """Prefix a raw 32-byte Curve25519 public key with the DJB type byte."""
    return _DJB_PREFIX + raw


def raw_public(key: bytes) -> bytes:
    """Strip the type byte from a 33-byte public key (32 raw bytes are accepted as they are)."""
    if len(key) == PUBLIC_KEY_LEN and key[0] == DJB_TYPE:
        return key[1:]
    if len(key) == 32:
        return key
    raise InvalidKeyError(f"bad Curve25519 public key ({len(key)} bytes)")


def check_public(key: bytes) -> bytes:
    """Return ``key`` if it is a well-formed 33-byte DJB public key, else raise."""
    if len(key) != PUBLIC_KEY_LEN or key[0] != DJB_TYPE:
        raise InvalidKeyError(f"bad Curve25519 public key ({len(key)} bytes)")
    return key


@dataclass(frozen=True, slots=True)
class KeyPair:
    """A Curve25519 key pair; ``public`` is the 33-byte serialized form."""

    public: bytes
    private: bytes = field(repr=False)

    @classmethod
    def generate(cls) -> KeyPair:
        priv = os.urandom(PRIVATE_KEY_LEN)
        return cls(_DJB_PREFIX + xeddsa.priv_to_curve25519_pub(priv), priv)

    @classmethod
    def from_private(cls, private: bytes) -> KeyPair:
        if len(private) != PRIVATE_KEY_LEN:
            raise InvalidKeyError("Curve25519 private key must be 32 bytes")
        return cls(_DJB_PREFIX + xeddsa.priv_to_curve25519_pub(private), private)

    def agree(self, their_public: bytes) -> bytes:
        """X25519 with a 33- or 32-byte public key."""
        return agree(self.private, their_public)

    def sign(self, message: bytes) -> bytes:
        return sign(self.private, message)


# Identity keys are ordinary key pairs; the alias documents intent at call sites.
IdentityKeyPair = KeyPair


def agree(private: bytes, their_public: bytes) -> bytes:
    """Curve25519 Diffie-Hellman; rejects low-order public keys."""
    try:
        return xeddsa.x25519(private, raw_public(their_public))
    except xeddsa.XEdDSAException as e:
        raise InvalidKeyError(f"key agreement failed: {e}") from None


def sign(private: bytes, message: bytes) -> bytes:
    """XEdDSA signature over ``message`` with a Curve25519 private key."""
    ed_priv = xeddsa.priv_force_sign(private, False)
    return bytes(xeddsa.ed25519_priv_sign(ed_priv, message, os.urandom(64)))


def verify(public: bytes, message: bytes, signature: bytes) -> bool:
    """Check an XEdDSA signature against a 33-byte (or raw) Curve25519 public key."""
    if len(signature) != SIGNATURE_LEN:
        return False
    sign_bit = signature[63] & 0x80
    if sign_bit:
        signature = signature[:63] + bytes([signature[63] & 0x7F])
    try:
        ed_pub = xeddsa.curve25519_pub_to_ed25519_pub(raw_public(public), bool(sign_bit))
        return bool(xeddsa.ed25519_verify(signature, ed_pub, message))
    except (xeddsa.XEdDSAException, InvalidKeyError):
        return False


def verify_or_raise(public: bytes, message: bytes, signature: bytes) -> None:
    if not verify(public, message, signature):
        raise InvalidSignatureError("signature did not verify")


def generate_registration_id() -> int:
    """A random 14-bit registration id, as libsignal generates it (never zero)."""
    return secrets.randbelow(0x3FFF) + 1


@dataclass(frozen=True, slots=True)
class PreKeyRecord:
    """A one-time prekey: its id (24-bit on WhatsApp) and key pair."""

    key_id: int
    key_pair: KeyPair


@dataclass(frozen=True, slots=True)
class SignedPreKeyRecord:
    """A signed prekey: id, key pair and the identity key's signature over the public key."""

    key_id: int
    key_pair: KeyPair
    signature: bytes
    timestamp: int = 0


def generate_prekeys(start: int, count: int) -> list[PreKeyRecord]:
    """``count`` one-time prekeys with ids ``start`` .. ``start + count - 1`` (24-bit, wrapping)."""
    return [
        PreKeyRecord(((start + i - 1) % 0xFFFFFE) + 1, KeyPair.generate()) for i in range(count)
    ]


def generate_signed_prekey(
    identity: IdentityKeyPair, key_id: int, timestamp: int = 0
) -> SignedPreKeyRecord:
    """A signed prekey; the signature covers the 33-byte serialized public key."""
    pair = KeyPair.generate()
    return SignedPreKeyRecord(key_id, pair, identity.sign(pair.public), timestamp)


@dataclass(frozen=True, slots=True)
class PreKeyBundle:
    """What a peer publishes so that others can start a session with it."""

    registration_id: int
    device_id: int
    identity_key: bytes
    signed_prekey_id: int
    signed_prekey: bytes
    signed_prekey_signature: bytes
    prekey_id: int | None = None
    prekey: bytes | None = None
