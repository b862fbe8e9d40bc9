"""Errors of the binary XML codec."""


class BinaryError(Exception):
    """Base of the codec's errors."""


class DecodeError(BinaryError):
    """Bytes that are not a well-formed binary XML node. Carries what was wrong and where."""


class EncodeError(BinaryError):
    """A node that cannot be put on the wire (bad types, too long, too deep)."""
