"""Account-device verification (ADV): how a primary phone vouches for its companion devices.

When a companion is linked, the phone signs the companion's identity key with its account key
(the phone's own identity key) and the companion counter-signs; the result travels with the
companion's first prekey messages so that recipients can check that the device belongs to the
account. The phone also signs the list of valid key indexes that device lists carry. Each
signature covers a two-byte type prefix followed by the fields below, in this order.
"""

from __future__ import annotations

import hashlib
import hmac

from .proto import wa_adv_pb2 as adv_pb
from .signal.keys import KeyPair, raw_public, sign, verify

ACCOUNT_SIGNATURE_PREFIX = b"\x06\x00"
DEVICE_SIGNATURE_PREFIX = b"\x06\x01"
KEY_INDEX_LIST_PREFIX = b"\x06\x02"


class ADVError(ValueError):
    """A device identity whose HMAC or signatures do not verify."""


def account_signature_message(details: bytes, device_identity: bytes) -> bytes:
    return ACCOUNT_SIGNATURE_PREFIX + details + raw_public(device_identity)


def device_signature_message(
    details: bytes, device_identity: bytes, account_signature_key: bytes
) -> bytes:
    return (
        DEVICE_SIGNATURE_PREFIX
        + details
        + raw_public(device_identity)
        + raw_public(account_signature_key)
    )


def hmac_sha256(key: bytes, data: bytes) -> bytes:
    return hmac.new(key, data, hashlib.sha256).digest()


# -- the phone's side ---------------------------------------------------------------------------


def phone_sign_companion(
    account_key: KeyPair,
    companion_identity: bytes,
    adv_secret: bytes,
    raw_id: int,
    key_index: int,
    timestamp: int,
) -> bytes:
    """The ``ADVSignedDeviceIdentityHMAC`` a phone sends in ``pair-success``."""
    details = adv_pb.ADVDeviceIdentity(
        raw_id=raw_id, timestamp=timestamp, key_index=key_index
    ).SerializeToString()
    signed = adv_pb.ADVSignedDeviceIdentity(
        details=details,
        account_signature_key=raw_public(account_key.public),
        account_signature=account_key.sign(account_signature_message(details, companion_identity)),
    ).SerializeToString()
    return adv_pb.ADVSignedDeviceIdentityHMAC(
        details=signed, hmac=hmac_sha256(adv_secret, signed)
    ).SerializeToString()


def verify_device_signature(signed: adv_pb.ADVSignedDeviceIdentity, device_identity: bytes) -> None:
    """Check the companion's counter-signature (what the server checks on pair-device-sign)."""
    message = device_signature_message(
        signed.details, device_identity, signed.account_signature_key
    )
    if not verify(device_identity, message, signed.device_signature):
        raise ADVError("device signature does not verify")


def sign_key_index_list(
    account_key: KeyPair, raw_id: int, timestamp: int, current_index: int, valid: list[int]
) -> bytes:
    """An ``ADVSignedKeyIndexList``: which companion key indexes the account still trusts."""
    details = adv_pb.ADVKeyIndexList(
        raw_id=raw_id, timestamp=timestamp, current_index=current_index, valid_indexes=valid
    ).SerializeToString()
    return adv_pb.ADVSignedKeyIndexList(
        details=details, account_signature=account_key.sign(KEY_INDEX_LIST_PREFIX + details)
    ).SerializeToString()


# -- the companion's side -----------------------------------------------------------------------


def companion_accept(
    identity_hmac: bytes, adv_secret: bytes, identity: KeyPair
) -> tuple[adv_pb.ADVSignedDeviceIdentity, adv_pb.ADVDeviceIdentity]:
    """Verify a ``pair-success`` device identity and add our device signature to it.

    Raises :class:`ADVError` if the HMAC (proof that the phone scanned OUR code) or the
    account signature does not verify.
    """
    container = adv_pb.ADVSignedDeviceIdentityHMAC.FromString(identity_hmac)
    if not hmac.compare_digest(hmac_sha256(adv_secret, container.details), container.hmac):
        raise ADVError("device identity HMAC does not match our ADV secret")
    signed = adv_pb.ADVSignedDeviceIdentity.FromString(container.details)
    message = account_signature_message(signed.details, identity.public)
    if not verify(signed.account_signature_key, message, signed.account_signature):
        raise ADVError("account signature does not verify")
    signed.device_signature = sign(
        identity.private,
        device_signature_message(signed.details, identity.public, signed.account_signature_key),
    )
    return signed, adv_pb.ADVDeviceIdentity.FromString(signed.details)


def verify_device_identity(signed: adv_pb.ADVSignedDeviceIdentity, device_identity: bytes) -> None:
    """Check a received device identity: signed by its account, counter-signed by the device.

    ``account_signature_key`` must be present; the caller checks that it is the account's key.
    """
    message = account_signature_message(signed.details, device_identity)
    if not verify(signed.account_signature_key, message, signed.account_signature):
        raise ADVError("account signature does not verify")
    verify_device_signature(signed, device_identity)
