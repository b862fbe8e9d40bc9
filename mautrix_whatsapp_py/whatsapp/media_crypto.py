"""Encryption of WhatsApp media blobs (images, documents, history sync chunks ...).

A random 32-byte media key is expanded with HKDF-SHA256 under a per-type label into an IV, an
AES-256-CBC key and an HMAC key. The uploaded blob is the CBC ciphertext followed by the first
10 bytes of HMAC-SHA256(iv || ciphertext). Messages carry the media key and the SHA-256 of both
the plaintext and the blob. Large blobs should go through :func:`encrypt_media_async` and
:func:`decrypt_media_async`, which do the work on a thread.
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import os
from dataclasses import dataclass
from enum import Enum

from cryptography.hazmat.primitives import padding
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes
from cryptography.hazmat.primitives.hashes import SHA256
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

MAC_LENGTH = 10


class MediaType(Enum):
    """The HKDF label of each kind of media, and the upload path the media server uses."""

    IMAGE = ("WhatsApp Image Keys", "/mms/image")
    VIDEO = ("WhatsApp Video Keys", "/mms/video")
    AUDIO = ("WhatsApp Audio Keys", "/mms/audio")
    DOCUMENT = ("WhatsApp Document Keys", "/mms/document")
    STICKER = ("WhatsApp Image Keys", "/mms/image")
    HISTORY = ("WhatsApp History Keys", "/mms/md-msg-hist")
    APP_STATE = ("WhatsApp App State Keys", "/mms/md-app-state")

    @property
    def info(self) -> bytes:
        return self.value[0].encode()

    @property
    def upload_path(self) -> str:
        return self.value[1]


class MediaDecryptError(ValueError):
    """A media blob that is truncated, fails its MAC, or does not match its hashes."""


@dataclass(frozen=True, slots=True)
class MediaKeys:
    iv: bytes
    cipher_key: bytes
    mac_key: bytes

    @classmethod
    def derive(cls, media_key: bytes, media_type: MediaType) -> MediaKeys:
        expanded = HKDF(SHA256(), 112, salt=None, info=media_type.info).derive(media_key)
        return cls(expanded[:16], expanded[16:48], expanded[48:80])


@dataclass(frozen=True, slots=True)
class EncryptedMedia:
    blob: bytes
    media_key: bytes
    file_sha256: bytes
    file_enc_sha256: bytes
    file_length: int


def encrypt_media(
    data: bytes, media_type: MediaType, media_key: bytes | None = None
) -> EncryptedMedia:
    media_key = media_key or os.urandom(32)
    keys = MediaKeys.derive(media_key, media_type)
    padder = padding.PKCS7(128).padder()
    padded = padder.update(data) + padder.finalize()
    encryptor = Cipher(algorithms.AES(keys.cipher_key), modes.CBC(keys.iv)).encryptor()
    ciphertext = encryptor.update(padded) + encryptor.finalize()
    mac = hmac.new(keys.mac_key, keys.iv + ciphertext, hashlib.sha256).digest()[:MAC_LENGTH]
    blob = ciphertext + mac
    return EncryptedMedia(
        blob,
        media_key,
        hashlib.sha256(data).digest(),
        hashlib.sha256(blob).digest(),
        len(data),
    )


def decrypt_media(
    blob: bytes,
    media_key: bytes,
    media_type: MediaType,
    *,
    file_sha256: bytes | None = None,
    file_enc_sha256: bytes | None = None,
) -> bytes:
    if len(blob) < MAC_LENGTH + 16 or (len(blob) - MAC_LENGTH) % 16:
        raise MediaDecryptError("media blob has an impossible length")
    if file_enc_sha256 is not None and hashlib.sha256(blob).digest() != file_enc_sha256:
        raise MediaDecryptError("media blob does not match its encrypted hash")
    keys = MediaKeys.derive(media_key, media_type)
    ciphertext, mac = blob[:-MAC_LENGTH], blob[-MAC_LENGTH:]
    expected = hmac.new(keys.mac_key, keys.iv + ciphertext, hashlib.sha256).digest()
    if not hmac.compare_digest(expected[:MAC_LENGTH], mac):
        raise MediaDecryptError("media blob failed its MAC")
    decryptor = Cipher(algorithms.AES(keys.cipher_key), modes.CBC(keys.iv)).decryptor()
    padded = decryptor.update(ciphertext) + decryptor.finalize()
    unpadder = padding.PKCS7(128).unpadder()
    try:
        data = unpadder.update(padded) + unpadder.finalize()
    except ValueError:
        raise MediaDecryptError("media blob has bad padding") from None
    if file_sha256 is not None and hashlib.sha256(data).digest() != file_sha256:
        raise MediaDecryptError("decrypted media does not match its hash")
    return data


async def encrypt_media_async(
    data: bytes, media_type: MediaType, media_key: bytes | None = None
) -> EncryptedMedia:
    return await asyncio.to_thread(encrypt_media, data, media_type, media_key)


async def decrypt_media_async(
    blob: bytes,
    media_key: bytes,
    media_type: MediaType,
    *,
    file_sha256: bytes | None = None,
    file_enc_sha256: bytes | None = None,
) -> bytes:
    return await asyncio.to_thread(
        lambda: decrypt_media(
            blob, media_key, media_type, file_sha256=file_sha256, file_enc_sha256=file_enc_sha256
        )
    )
