"""WhatsApp Web's transport: length-prefixed frames over a websocket, inside a Noise XX session.

The sans-I/O pieces (:mod:`.framing`, :mod:`.noise`, :mod:`.handshake`) do the protocol;
:mod:`.noise_socket` runs them over aiohttp websockets for both the client and the server role.
"""

from .constants import DEFAULT_ORIGIN, DEFAULT_URL, WA_CERT_ROOT_PUBLIC_KEY, intro_header
from .errors import (
    CertificateError,
    DecryptionError,
    FrameError,
    FrameTooLargeError,
    NoiseHandshakeError,
    SocketClosedError,
    SocketError,
)
from .framing import FrameReader, encode_frame
from .handshake import CertificateAuthority, ClientHandshake, ServerHandshake, verify_cert_chain
from .noise import HandshakeState, TransportCipher
from .noise_socket import NoiseSocket, accept_server, connect_client

__all__ = [
    "DEFAULT_ORIGIN",
    "DEFAULT_URL",
    "WA_CERT_ROOT_PUBLIC_KEY",
    "CertificateAuthority",
    "CertificateError",
    "ClientHandshake",
    "DecryptionError",
    "FrameError",
    "FrameReader",
    "FrameTooLargeError",
    "HandshakeState",
    "NoiseHandshakeError",
    "NoiseSocket",
    "ServerHandshake",
    "SocketClosedError",
    "SocketError",
    "TransportCipher",
    "accept_server",
    "connect_client",
    "encode_frame",
    "intro_header",
    "verify_cert_chain",
]
