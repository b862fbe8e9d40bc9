"""The exception hierarchy of the Signal layer.

Every failure raised by this package is a :class:`SignalError`, and each subclass names one
thing that went wrong, so that callers (retry receipts, logging, tests) can tell a replayed
message from a corrupted one without parsing strings.
"""

from __future__ import annotations


class SignalError(Exception):
    """Base class of every error raised by the Signal layer."""


class InvalidKeyError(SignalError):
    """A public or private key has the wrong length, type prefix or value."""


class InvalidSignatureError(SignalError):
    """An XEdDSA signature (signed prekey, sender key message) did not verify."""


class InvalidMessageError(SignalError):
    """A message could not be parsed or decrypted (bad framing, bad padding, bad ciphertext)."""


class InvalidVersionError(InvalidMessageError):
    """A message carries a protocol version other than 3."""


class InvalidMacError(InvalidMessageError):
    """The MAC of a message did not match: corrupted, or encrypted for another session."""


class DuplicateMessageError(InvalidMessageError):
    """The message key for this counter or iteration was already used (a replay)."""


class TooFarInFutureError(InvalidMessageError):
    """The message counter jumps further ahead than the bound on skipped message keys."""


class NoSessionError(SignalError):
    """There is no session (1:1) or sender key state (group) that could handle the message."""


class InvalidKeyIdError(SignalError):
    """A prekey message names a one-time or signed prekey that we do not have."""


class UntrustedIdentityError(SignalError):
    """The remote identity key is not trusted.

    WhatsApp trusts every identity (and reports changes), so the cipher never raises this on its
    own; it exists for stores or callers that apply a stricter policy.
    """

    def __init__(self, name: str, identity_key: bytes) -> None:
        super().__init__(f"untrusted identity key for {name}")
        self.name = name
        self.identity_key = identity_key


class InvalidPaddingError(InvalidMessageError):
    """The WhatsApp plaintext padding is missing or malformed."""
