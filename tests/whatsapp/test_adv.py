"""Account-device verification: the phone's signature, the HMAC, and the companion's
counter-signature, and what happens when any of them is wrong."""

from __future__ import annotations

import os

import pytest

from mautrix_whatsapp_py.whatsapp.adv import (
    ADVError,
    companion_accept,
    phone_sign_companion,
    verify_device_identity,
)
from mautrix_whatsapp_py.whatsapp.proto import wa_adv_pb2 as adv_pb
from mautrix_whatsapp_py.whatsapp.signal.keys import KeyPair


def _pair() -> tuple[KeyPair, KeyPair, bytes, bytes]:
    account, companion, secret = KeyPair.generate(), KeyPair.generate(), os.urandom(32)
    signed_hmac = phone_sign_companion(account, companion.public, secret, 1234, 2, 1_700_000_000)
    return account, companion, secret, signed_hmac


def test_round_trip() -> None:
    account, companion, secret, signed_hmac = _pair()
    signed, details = companion_accept(signed_hmac, secret, companion)
    assert details.key_index == 2 and details.raw_id == 1234
    assert signed.account_signature_key == account.public[1:]
    verify_device_identity(signed, companion.public)


def test_wrong_secret_is_refused() -> None:
    _, companion, _, signed_hmac = _pair()
    with pytest.raises(ADVError, match="HMAC"):
        companion_accept(signed_hmac, os.urandom(32), companion)


def test_identity_for_another_device_is_refused() -> None:
    _, _, secret, signed_hmac = _pair()
    with pytest.raises(ADVError, match="account signature"):
        companion_accept(signed_hmac, secret, KeyPair.generate())


def test_tampered_details_fail_verification() -> None:
    _, companion, secret, signed_hmac = _pair()
    signed, _ = companion_accept(signed_hmac, secret, companion)
    details = adv_pb.ADVDeviceIdentity.FromString(signed.details)
    details.key_index = 99
    signed.details = details.SerializeToString()
    with pytest.raises(ADVError):
        verify_device_identity(signed, companion.public)


def test_identity_presented_with_another_key_fails() -> None:
    _, companion, secret, signed_hmac = _pair()
    signed, _ = companion_accept(signed_hmac, secret, companion)
    with pytest.raises(ADVError):
        verify_device_identity(signed, KeyPair.generate().public)


def test_missing_counter_signature_fails() -> None:
    _, companion, secret, signed_hmac = _pair()
    signed, _ = companion_accept(signed_hmac, secret, companion)
    signed.device_signature = bytes(64)
    with pytest.raises(ADVError, match="device signature"):
        verify_device_identity(signed, companion.public)
