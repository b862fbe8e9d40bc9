"""Curve25519 keys, XEdDSA signatures in both sign-bit conventions, prekey generation."""

from __future__ import annotations

import xeddsa

from mautrix_whatsapp_py.whatsapp.signal.keys import (
    KeyPair,
    agree,
    generate_prekeys,
    generate_registration_id,
    generate_signed_prekey,
    sign,
    verify,
)


def test_key_pair_and_agreement() -> None:
    a, b = KeyPair.generate(), KeyPair.generate()
    assert len(a.public) == 33 and a.public[0] == 5
    assert KeyPair.from_private(a.private) == a
    assert a.agree(b.public) == b.agree(a.public) == agree(a.private, b.public[1:])
    assert a.private.hex() not in repr(a) and repr(a.private) not in repr(a)


def test_signatures() -> None:
    pair = KeyPair.generate()
    sig = sign(pair.private, b"message")
    assert sig[63] & 0x80 == 0
    assert verify(pair.public, b"message", sig)
    assert not verify(pair.public, b"other", sig)
    assert not verify(KeyPair.generate().public, b"message", sig)
    assert not verify(pair.public, b"message", sig[:63])


def test_legacy_signatures_with_stored_sign_bit() -> None:
    # libsignal's curve25519 "sign" does not force the sign bit: it signs with the Edwards key
    # as derived and stores its sign bit in the top bit of the last signature byte.
    for _ in range(16):
        pair = KeyPair.generate()
        ed_pub = bytes(xeddsa.priv_to_ed25519_pub(pair.private))
        sign_bit = ed_pub[31] & 0x80
        forced = xeddsa.priv_force_sign(pair.private, bool(sign_bit))
        sig = bytearray(xeddsa.ed25519_priv_sign(forced, b"m", bytes(64)))
        sig[63] |= sign_bit
        assert verify(pair.public, b"m", bytes(sig))


def test_prekey_generation() -> None:
    identity = KeyPair.generate()
    spk = generate_signed_prekey(identity, 5)
    assert spk.key_id == 5 and verify(identity.public, spk.key_pair.public, spk.signature)
    pks = generate_prekeys(0xFFFFFD, 4)
    assert [p.key_id for p in pks] == [0xFFFFFD, 0xFFFFFE, 1, 2]
    assert all(1 <= generate_registration_id() <= 0x3FFF for _ in range(100))
