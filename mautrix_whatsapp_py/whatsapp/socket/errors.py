"""Errors of the transport layer: framing, the Noise handshake and the socket."""


class SocketError(Exception):
    """Base of the transport's errors."""


class FrameError(SocketError):
    """Bytes on the stream that are not a valid frame sequence."""


class FrameTooLargeError(FrameError):
    """A frame longer than the 3-byte length allows, or longer than the reader accepts."""


class NoiseHandshakeError(SocketError):
    """The Noise handshake failed: a message was malformed, did not decrypt or did not verify."""


class CertificateError(NoiseHandshakeError):
    """The server's certificate chain does not prove its static key."""


class DecryptionError(SocketError):
    """A transport frame did not decrypt. The Noise session cannot continue after this."""


class SocketClosedError(SocketError):
    """The connection is closed (by us, by the peer, or after a fatal error)."""
