"""The four Signal wire messages, with a small hand-written protobuf codec.

Framing (all version 3, so the leading byte is ``0x33``)::

    SignalMessage                 0x33 || proto || MAC[8]
    PreKeySignalMessage           0x33 || proto            (proto.message is a SignalMessage)
    SenderKeyMessage              0x33 || proto || XEdDSA signature[64]
    SenderKeyDistributionMessage  0x33 || proto

The MAC of a SignalMessage is the first 8 bytes of HMAC-SHA256(mac key, sender identity ||
receiver identity || 0x33 || proto), identities in their 33-byte form. The schemas have a handful
of scalar fields, so a tiny varint/length-delimited codec beats a generated one.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

from .errors import InvalidMessageError, InvalidVersionError

CURRENT_VERSION = 3
VERSION_BYTE = bytes([(CURRENT_VERSION << 4) | CURRENT_VERSION])
MAC_LEN = 8
SIGNATURE_LEN = 64
# Ids and counters are uint32 on the wire; 0xFFFFFFFF is kept free as "no prekey" in records.
_UINT32_LIMIT = 0xFFFFFFFF


# --- protobuf primitives ----------------------------------------------------------------------


def _varint(value: int) -> bytes:
    if value < 0x80:
        return bytes((value,))
    out = bytearray()
    while value >= 0x80:
        out.append((value & 0x7F) | 0x80)
        value >>= 7
    out.append(value)
    return bytes(out)


def iter_fields(data: bytes) -> Iterator[tuple[int, int | bytes]]:
    """Decode a flat protobuf message into ``(field number, value)`` pairs, in order.

    Varints become ``int``, length-delimited fields ``bytes``; fixed32/fixed64 are skipped.
    """
    pos = 0
    end = len(data)
    try:
        while pos < end:
            key = data[pos]
            pos += 1
            if key & 0x80:
                shift = 7
                key &= 0x7F
                while True:
                    b = data[pos]
                    pos += 1
                    key |= (b & 0x7F) << shift
                    if not b & 0x80:
                        break
                    shift += 7
            wire_type = key & 7
            number = key >> 3
            if wire_type == 0 or wire_type == 2:
                value = data[pos]
                pos += 1
                if value & 0x80:
                    value &= 0x7F
                    shift = 7
                    while True:
                        b = data[pos]
                        pos += 1
                        value |= (b & 0x7F) << shift
                        if not b & 0x80:
                            break
                        shift += 7
                        if shift > 63:
                            raise InvalidMessageError("varint too long")
                if wire_type == 0:
                    yield number, value
                else:
                    if pos + value > end:
                        raise InvalidMessageError("truncated length-delimited field")
                    yield number, data[pos : pos + value]
                    pos += value
            elif wire_type == 1:
                pos += 8
            elif wire_type == 5:
                pos += 4
            else:
                raise InvalidMessageError(f"unsupported protobuf wire type {wire_type}")
    except IndexError:
        raise InvalidMessageError("truncated protobuf") from None
    if pos != end:
        raise InvalidMessageError("truncated protobuf")


def parse_fields(data: bytes) -> dict[int, int | bytes]:
    """Decode a flat protobuf message into ``{field number: value}`` (last occurrence wins)."""
    return dict(iter_fields(data))


def field_int(number: int, value: int) -> bytes:
    """Encode one varint field (``number`` below 16)."""
    return bytes(((number << 3),)) + _varint(value)


def field_bytes(number: int, value: bytes) -> bytes:
    """Encode one length-delimited field (``number`` below 16)."""
    return bytes(((number << 3) | 2,)) + _varint(len(value)) + value


def _get_bytes(fields: dict[int, int | bytes], number: int, what: str) -> bytes:
    value = fields.get(number)
    if not isinstance(value, bytes):
        raise InvalidMessageError(f"missing {what}")
    return value


def _get_int(fields: dict[int, int | bytes], number: int, what: str) -> int:
    value = fields.get(number)
    if not isinstance(value, int):
        raise InvalidMessageError(f"missing {what}")
    if value >= _UINT32_LIMIT:
        raise InvalidMessageError(f"{what} out of uint32 range")
    return value


def _opt_int(fields: dict[int, int | bytes], number: int) -> int | None:
    value = fields.get(number)
    if not isinstance(value, int):
        return None
    if value >= _UINT32_LIMIT:
        raise InvalidMessageError(f"field {number} out of uint32 range")
    return value


def _get_key(fields: dict[int, int | bytes], number: int, what: str) -> bytes:
    """A 33-byte DJB public key field."""
    value = _get_bytes(fields, number, what)
    if len(value) != 33 or value[0] != 0x05:
        raise InvalidMessageError(f"bad {what}")
    return value


def check_version(data: bytes, what: str) -> None:
    if not data:
        raise InvalidMessageError(f"empty {what}")
    version = data[0] >> 4
    if version != CURRENT_VERSION:
        raise InvalidVersionError(f"{what} has version {version}, expected {CURRENT_VERSION}")


# --- SignalMessage ----------------------------------------------------------------------------


@dataclass(slots=True)
class SignalMessage:
    """A Double Ratchet message. ``serialized`` is the full framed form including the MAC."""

    ratchet_key: bytes
    counter: int
    previous_counter: int
    ciphertext: bytes
    serialized: bytes

    @staticmethod
    def encode_body(
        ratchet_key: bytes, counter: int, previous_counter: int, ciphertext: bytes
    ) -> bytes:
        """``0x33 || proto`` without the MAC: the part the MAC covers (after the identities)."""
        return b"".join(
            (
                VERSION_BYTE,
                field_bytes(1, ratchet_key),
                field_int(2, counter),
                field_int(3, previous_counter),
                field_bytes(4, ciphertext),
            )
        )

    @classmethod
    def parse(cls, data: bytes) -> SignalMessage:
        fast = _parse_canonical_signal_message(data)
        if fast is not None:
            return fast
        check_version(data, "SignalMessage")
        if len(data) <= 1 + MAC_LEN:
            raise InvalidMessageError("SignalMessage too short")
        fields = parse_fields(data[1:-MAC_LEN])
        return cls(
            ratchet_key=_get_key(fields, 1, "ratchet key"),
            counter=_get_int(fields, 2, "counter"),
            previous_counter=_opt_int(fields, 3) or 0,
            ciphertext=_get_bytes(fields, 4, "ciphertext"),
            serialized=data,
        )

    @property
    def mac(self) -> bytes:
        return self.serialized[-MAC_LEN:]

    @property
    def body(self) -> bytes:
        return self.serialized[:-MAC_LEN]


def _read_varint(data: bytes, pos: int) -> tuple[int, int]:
    value = 0
    shift = 0
    while True:
        b = data[pos]
        pos += 1
        value |= (b & 0x7F) << shift
        if not b & 0x80:
            return value, pos
        shift += 7
        if shift > 35:
            raise IndexError


def _parse_canonical_signal_message(data: bytes) -> SignalMessage | None:
    """Fast path for the layout every libsignal writes: fields 1, 2, 3, 4 in order, 33-byte key.

    Returns None for anything else, which then goes through the general decoder.
    """
    try:
        if data[0] != 0x33 or data[1] != 0x0A or data[2] != 33 or data[3] != 0x05:
            return None
        if data[36] != 0x10:
            return None
        counter, pos = _read_varint(data, 37)
        previous = 0
        if data[pos] == 0x18:
            previous, pos = _read_varint(data, pos + 1)
        if data[pos] != 0x22:
            return None
        length, pos = _read_varint(data, pos + 1)
        if pos + length != len(data) - MAC_LEN or counter >= _UINT32_LIMIT:
            return None
        if previous >= _UINT32_LIMIT:
            return None
        return SignalMessage(data[3:36], counter, previous, data[pos : pos + length], data)
    except IndexError:
        return None


# --- PreKeySignalMessage ----------------------------------------------------------------------


@dataclass(slots=True)
class PreKeySignalMessage:
    """The first message(s) of a session: X3DH parameters plus an embedded SignalMessage."""

    registration_id: int
    prekey_id: int | None
    signed_prekey_id: int
    base_key: bytes
    identity_key: bytes
    message: SignalMessage

    def serialize(self) -> bytes:
        parts = [VERSION_BYTE]
        if self.prekey_id is not None:
            parts.append(field_int(1, self.prekey_id))
        parts += (
            field_bytes(2, self.base_key),
            field_bytes(3, self.identity_key),
            field_bytes(4, self.message.serialized),
            field_int(5, self.registration_id),
            field_int(6, self.signed_prekey_id),
        )
        return b"".join(parts)

    @classmethod
    def parse(cls, data: bytes) -> PreKeySignalMessage:
        check_version(data, "PreKeySignalMessage")
        fields = parse_fields(data[1:])
        return cls(
            registration_id=_opt_int(fields, 5) or 0,
            prekey_id=_opt_int(fields, 1),
            signed_prekey_id=_get_int(fields, 6, "signed prekey id"),
            base_key=_get_key(fields, 2, "base key"),
            identity_key=_get_key(fields, 3, "identity key"),
            message=SignalMessage.parse(_get_bytes(fields, 4, "message")),
        )


# --- Sender keys ------------------------------------------------------------------------------


@dataclass(slots=True)
class SenderKeyMessage:
    """A group message. ``serialized`` includes the trailing signature."""

    key_id: int
    iteration: int
    ciphertext: bytes
    serialized: bytes

    @staticmethod
    def encode_body(key_id: int, iteration: int, ciphertext: bytes) -> bytes:
        """``0x33 || proto``: the part the signature covers."""
        return b"".join(
            (
                VERSION_BYTE,
                field_int(1, key_id),
                field_int(2, iteration),
                field_bytes(3, ciphertext),
            )
        )

    @classmethod
    def parse(cls, data: bytes) -> SenderKeyMessage:
        check_version(data, "SenderKeyMessage")
        if len(data) <= 1 + SIGNATURE_LEN:
            raise InvalidMessageError("SenderKeyMessage too short")
        fields = parse_fields(data[1:-SIGNATURE_LEN])
        return cls(
            key_id=_get_int(fields, 1, "key id"),
            iteration=_get_int(fields, 2, "iteration"),
            ciphertext=_get_bytes(fields, 3, "ciphertext"),
            serialized=data,
        )

    @property
    def signature(self) -> bytes:
        return self.serialized[-SIGNATURE_LEN:]

    @property
    def body(self) -> bytes:
        return self.serialized[:-SIGNATURE_LEN]


@dataclass(slots=True)
class SenderKeyDistributionMessage:
    """Hands a sender's chain key and signing public key to one group member."""

    key_id: int
    iteration: int
    chain_key: bytes
    signing_key: bytes

    def serialize(self) -> bytes:
        return b"".join(
            (
                VERSION_BYTE,
                field_int(1, self.key_id),
                field_int(2, self.iteration),
                field_bytes(3, self.chain_key),
                field_bytes(4, self.signing_key),
            )
        )

    def __repr__(self) -> str:
        return f"<SenderKeyDistributionMessage key_id={self.key_id} iteration={self.iteration}>"

    @classmethod
    def parse(cls, data: bytes) -> SenderKeyDistributionMessage:
        check_version(data, "SenderKeyDistributionMessage")
        fields = parse_fields(data[1:])
        return cls(
            key_id=_get_int(fields, 1, "key id"),
            iteration=_get_int(fields, 2, "iteration"),
            chain_key=_get_bytes(fields, 3, "chain key"),
            signing_key=_get_key(fields, 4, "signing key"),
        )
