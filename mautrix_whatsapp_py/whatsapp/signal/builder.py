"""X3DH: the key agreement that starts a session, from either side. Pure functions.

The initiator ("Alice") builds a session from a :class:`PreKeyBundle`; the responder ("Bob")
builds the matching one from the initiator's :class:`PreKeySignalMessage`. The master secret is
``0xFF * 32 || DH1 || DH2 || DH3 [|| DH4]`` with, in both roles,

* DH1 = DH(initiator identity, responder signed prekey)
* DH2 = DH(initiator base key, responder identity)
* DH3 = DH(initiator base key, responder signed prekey)
* DH4 = DH(initiator base key, responder one-time prekey), when one was used,

stretched by HKDF ("WhisperText") into the first root key and chain key.
"""

from __future__ import annotations

from .kdf import INFO_TEXT, hkdf, root_step
from .keys import KeyPair, PreKeyBundle, agree, check_public, verify_or_raise
from .session import PendingPreKey, ReceiverChain, SessionState
from .wire import PreKeySignalMessage

_DISCONTINUITY = b"\xff" * 32


def _master(*secrets: bytes) -> tuple[bytes, bytes]:
    okm = hkdf(_DISCONTINUITY + b"".join(secrets), None, INFO_TEXT, 64)
    return okm[:32], okm[32:]


def initiate(our_identity: KeyPair, our_registration_id: int, bundle: PreKeyBundle) -> SessionState:
    """Alice's side: a new session from Bob's bundle, ready to send prekey messages.

    Verifies the signed prekey signature (:class:`InvalidSignatureError` if it does not).
    """
    check_public(bundle.identity_key)
    check_public(bundle.signed_prekey)
    verify_or_raise(bundle.identity_key, bundle.signed_prekey, bundle.signed_prekey_signature)
    base = KeyPair.generate()
    secrets = [
        agree(our_identity.private, bundle.signed_prekey),
        base.agree(bundle.identity_key),
        base.agree(bundle.signed_prekey),
    ]
    if bundle.prekey is not None:
        secrets.append(base.agree(check_public(bundle.prekey)))
    root_key, chain_key = _master(*secrets)
    ratchet = KeyPair.generate()
    root_key, sender_chain_key = root_step(root_key, ratchet.agree(bundle.signed_prekey))
    return SessionState(
        local_identity=our_identity.public,
        remote_identity=bundle.identity_key,
        root_key=root_key,
        sender_ratchet=ratchet,
        sender_chain_key=sender_chain_key,
        base_key=base.public,
        receiver_chains=[ReceiverChain(bundle.signed_prekey, chain_key, 0)],
        pending_prekey=PendingPreKey(
            bundle.prekey_id if bundle.prekey is not None else None,
            bundle.signed_prekey_id,
            base.public,
        ),
        remote_registration_id=bundle.registration_id,
        local_registration_id=our_registration_id,
    )


def respond(
    our_identity: KeyPair,
    our_registration_id: int,
    signed_prekey: KeyPair,
    one_time_prekey: KeyPair | None,
    message: PreKeySignalMessage,
) -> SessionState:
    """Bob's side: the session matching Alice's, from her prekey message and our prekeys."""
    their_identity = check_public(message.identity_key)
    their_base = check_public(message.base_key)
    secrets = [
        signed_prekey.agree(their_identity),
        agree(our_identity.private, their_base),
        signed_prekey.agree(their_base),
    ]
    if one_time_prekey is not None:
        secrets.append(one_time_prekey.agree(their_base))
    root_key, chain_key = _master(*secrets)
    return SessionState(
        local_identity=our_identity.public,
        remote_identity=their_identity,
        root_key=root_key,
        sender_ratchet=signed_prekey,
        sender_chain_key=chain_key,
        base_key=their_base,
        remote_registration_id=message.registration_id,
        local_registration_id=our_registration_id,
    )
