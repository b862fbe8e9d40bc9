"""The Noise handshake in both roles, the certificate chain and the transport ciphers."""

from __future__ import annotations

import pytest

from mautrix_whatsapp_py.whatsapp.proto import wa_handshake_pb2 as pb
from mautrix_whatsapp_py.whatsapp.signal.keys import KeyPair, raw_public, sign
from mautrix_whatsapp_py.whatsapp.socket import (
    CertificateAuthority,
    CertificateError,
    ClientHandshake,
    DecryptionError,
    NoiseHandshakeError,
    ServerHandshake,
    TransportCipher,
    intro_header,
    verify_cert_chain,
)
from mautrix_whatsapp_py.whatsapp.socket.noise import HandshakeState

CA = CertificateAuthority.generate()


def handshake(
    payload: bytes = b"client payload", chain: bytes | None = None, root: bytes | None = None
) -> tuple[TransportCipher, TransportCipher, bytes, bytes]:
    server_key, client_key = KeyPair.generate(), KeyPair.generate()
    chain = chain if chain is not None else CA.cert_chain(raw_public(server_key.public))
    client = ClientHandshake(client_key, payload, root_public_key=root or CA.root_public_key)
    server = ServerHandshake(server_key, chain)
    finish = client.process_server_hello(server.process_client_hello(client.client_hello()))
    static, got_payload = server.process_client_finish(finish)
    assert static == raw_public(client_key.public)
    assert client.server_static == raw_public(server_key.public)
    return client.transport(), server.transport(), got_payload, static


def test_handshake_and_transport_both_ways() -> None:
    client, server, payload, _ = handshake(b"x" * 1000)
    assert payload == b"x" * 1000
    for i in range(50):
        assert server.decrypt(client.encrypt(b"up %d" % i)) == b"up %d" % i
        assert client.decrypt(server.encrypt(b"down %d" % i)) == b"down %d" % i


def test_transport_counters_are_per_direction() -> None:
    client, server, _, _ = handshake()
    frames = [client.encrypt(b"%d" % i) for i in range(3)]
    # Out of order fails: the nonce is the frame's position.
    with pytest.raises(DecryptionError):
        server.decrypt(frames[1])
    # ...and a failure is final for the session.
    with pytest.raises(DecryptionError, match="failed earlier"):
        server.decrypt(frames[0])


def test_tampered_frame_is_rejected() -> None:
    client, server, _, _ = handshake()
    frame = bytearray(client.encrypt(b"hello"))
    frame[0] ^= 1
    with pytest.raises(DecryptionError):
        server.decrypt(bytes(frame))


def test_noise_state_matches_known_vector() -> None:
    # The padded pattern is the initial hash as is; the prologue is then hashed in.
    state = HandshakeState(b"Noise_XX_25519_AESGCM_SHA256\x00\x00\x00\x00", intro_header(3))
    import hashlib

    start = b"Noise_XX_25519_AESGCM_SHA256\x00\x00\x00\x00"
    assert state.handshake_hash == hashlib.sha256(start + b"WA\x06\x03").digest()


def test_wrong_root_is_refused() -> None:
    other = CertificateAuthority.generate()
    with pytest.raises(CertificateError, match="not signed by the root"):
        handshake(root=other.root_public_key)


def test_real_whatsapp_root_refuses_a_test_chain() -> None:
    server_key = KeyPair.generate()
    client = ClientHandshake(KeyPair.generate(), b"p")  # default root: WhatsApp's own
    server = ServerHandshake(server_key, CA.cert_chain(raw_public(server_key.public)))
    with pytest.raises(CertificateError):
        client.process_server_hello(server.process_client_hello(client.client_hello()))


def test_chain_for_another_key_is_refused() -> None:
    chain = CA.cert_chain(raw_public(KeyPair.generate().public))
    with pytest.raises(CertificateError, match="does not name the server"):
        handshake(chain=chain)


def _chain(
    *, issuer: int = 0, leaf_issuer: int = 1, not_after: int = 2**40, key: bytes | None = None
) -> tuple[bytes, bytes]:
    server_static = raw_public(KeyPair.generate().public)
    inter = pb.CertChain.NoiseCertificate.Details(
        serial=1, issuer_serial=issuer, key=raw_public(CA.intermediate.public), not_after=not_after
    ).SerializeToString()
    leaf = pb.CertChain.NoiseCertificate.Details(
        serial=2, issuer_serial=leaf_issuer, key=key or server_static, not_after=not_after
    ).SerializeToString()
    chain = pb.CertChain()
    chain.intermediate.details = inter
    chain.intermediate.signature = sign(CA.root.private, inter)
    chain.leaf.details = leaf
    chain.leaf.signature = sign(CA.intermediate.private, leaf)
    return chain.SerializeToString(), server_static


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"issuer": 5}, "intermediate issuer serial"),
        ({"leaf_issuer": 9}, "leaf issuer serial"),
        ({"not_after": 1000}, "not valid"),
    ],
)
def test_chain_checks(kwargs: dict[str, int], message: str) -> None:
    chain, static = _chain(**kwargs)  # type: ignore[arg-type]
    with pytest.raises(CertificateError, match=message):
        verify_cert_chain(chain, static, CA.root_public_key)


def test_chain_garbage() -> None:
    with pytest.raises(CertificateError):
        verify_cert_chain(b"\xff\xff\xff", b"\x00" * 32, CA.root_public_key)
    chain, static = _chain()
    verify_cert_chain(chain, static, CA.root_public_key)


def test_malformed_handshake_messages() -> None:
    server = ServerHandshake(KeyPair.generate(), b"")
    with pytest.raises(NoiseHandshakeError):
        server.process_client_hello(b"\xff\xff")
    with pytest.raises(NoiseHandshakeError, match="ephemeral"):
        server.process_client_hello(b"")
    client = ClientHandshake(KeyPair.generate(), b"")
    with pytest.raises(NoiseHandshakeError, match="missing parts"):
        client.process_server_hello(b"")
    with pytest.raises(NoiseHandshakeError, match="not finished"):
        client.transport()
