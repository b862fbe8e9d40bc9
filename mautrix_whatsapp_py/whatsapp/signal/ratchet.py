"""The Double Ratchet over a :class:`SessionState`: encrypt and decrypt one message.

Pure and synchronous. :func:`decrypt` computes everything (DH step, skipped keys, MAC check,
AES) into locals first and only writes to the state once the MAC verified and the ciphertext
decrypted, so a failed decrypt leaves the state exactly as it was.

Bounds (as libsignal-node and go/java libsignal bound them): a message may skip at most
:data:`MAX_JUMP` message keys ahead on a chain (libsignal-node's "Over 2000 messages into the
future"), each receiver chain keeps at most :data:`.session.MAX_SKIPPED_KEYS` skipped keys, and a
session keeps the :data:`.session.MAX_RECEIVER_CHAINS` newest receiver chains.
"""

from __future__ import annotations

import hmac

from .chain import keep, seek
from .errors import InvalidMacError
from .kdf import aes_cbc_decrypt, aes_cbc_encrypt, chain_step, message_keys, root_step
from .keys import KeyPair, agree
from .session import MAX_SKIPPED_KEYS, ReceiverChain, SessionState
from .wire import MAC_LEN, SignalMessage

MAX_JUMP = 2000


def _mac(mac_key: bytes, sender_identity: bytes, receiver_identity: bytes, body: bytes) -> bytes:
    return hmac.digest(mac_key, sender_identity + receiver_identity + body, "sha256")[:MAC_LEN]


def encrypt(state: SessionState, plaintext: bytes) -> bytes:
    """Encrypt on the sending chain and advance it; returns a serialized SignalMessage."""
    seed, state.sender_chain_key = chain_step(state.sender_chain_key)
    counter = state.sender_counter
    state.sender_counter = counter + 1
    cipher_key, mac_key, iv = message_keys(seed)
    body = SignalMessage.encode_body(
        state.sender_ratchet.public,
        counter,
        state.previous_counter,
        aes_cbc_encrypt(cipher_key, iv, plaintext),
    )
    return body + _mac(mac_key, state.local_identity, state.remote_identity, body)


def decrypt(state: SessionState, message: SignalMessage) -> bytes:
    """Decrypt ``message`` with ``state``; on success advance the state, on failure raise.

    Raises :class:`DuplicateMessageError` for a counter whose key was already used,
    :class:`TooFarInFutureError` for an over-long jump, :class:`InvalidMacError` for a bad MAC
    (including a message from another session) and :class:`InvalidMessageError` for bad
    ciphertext. The state is unchanged when anything is raised.
    """
    their_key = message.ratchet_key
    chain = state.find_receiver_chain(their_key)
    new_root: bytes | None = None
    if chain is None:
        new_root, chain_key = root_step(
            state.root_key, agree(state.sender_ratchet.private, their_key)
        )
        chain = ReceiverChain(their_key, chain_key, 0)
        is_new = True
    else:
        is_new = False

    found = seek(
        chain.chain_key, chain.counter, message.counter, chain.skipped, MAX_JUMP, "message counter"
    )
    cipher_key, mac_key, iv = message_keys(found.seed)
    expected = _mac(mac_key, state.remote_identity, state.local_identity, message.body)
    if not hmac.compare_digest(expected, message.mac):
        raise InvalidMacError("bad MAC")
    plaintext = aes_cbc_decrypt(cipher_key, iv, message.ciphertext)

    # Everything verified: commit.
    if is_new:
        assert new_root is not None
        ratchet = KeyPair.generate()
        state.root_key, state.sender_chain_key = root_step(new_root, ratchet.agree(their_key))
        state.sender_ratchet = ratchet
        state.previous_counter = max(state.sender_counter - 1, 0)
        state.sender_counter = 0
        state.add_receiver_chain(chain)
    keep(chain.skipped, found, MAX_SKIPPED_KEYS)
    if found.next_chain_key is not None:
        chain.chain_key = found.next_chain_key
        chain.counter = found.position + 1
    state.pending_prekey = None
    return plaintext
