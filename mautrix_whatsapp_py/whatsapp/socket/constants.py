"""Named constants of WhatsApp Web's transport: endpoints, Noise pattern, intro header, limits."""

from __future__ import annotations

from typing import Final

from ..binary.tokens import DEFAULT_DICT_VERSION

#: The real service; the test network gives its own URL and root key.
DEFAULT_URL: Final = "wss://web.whatsapp.com/ws/chat"
DEFAULT_ORIGIN: Final = "https://web.whatsapp.com"

#: The Noise protocol name, padded to 32 bytes so that it is used as the initial hash directly.
NOISE_START_PATTERN: Final = b"Noise_XX_25519_AESGCM_SHA256\x00\x00\x00\x00"
#: Second byte pair of the intro header: a magic value and the token dictionary version.
WA_MAGIC_VALUE: Final = 6

#: Frames carry a 3-byte big-endian length, so no frame is longer than this.
FRAME_LENGTH_SIZE: Final = 3
FRAME_MAX_SIZE: Final = 1 << 24

#: WhatsApp's root public key (raw Curve25519) that signs the intermediate certificate of the
#: chain every server presents, and the serial the intermediate's issuer must carry.
WA_CERT_ROOT_PUBLIC_KEY: Final = bytes.fromhex(
    "142375574d0a587166aae71ebe516437c4a28b73e3695c6ce1f7f9545da8ee6b"
)
WA_CERT_ISSUER_SERIAL: Final = 0

#: Prefix of the optional edge-routing preamble a client may send before the intro header.
EDGE_ROUTING_MAGIC: Final = b"ED\x00\x01"


def intro_header(dict_version: int = DEFAULT_DICT_VERSION) -> bytes:
    """The four bytes a client sends before its first frame: ``WA``, magic, dictionary version."""
    return bytes((ord("W"), ord("A"), WA_MAGIC_VALUE, dict_version))
