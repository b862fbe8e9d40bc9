"""Both roles of WhatsApp's Noise XX handshake, and the server certificate chain. No I/O.

Client (initiator)::

    hs = ClientHandshake(static_key, payload, root_public_key=...)
    send(hs.client_hello())
    send(hs.process_server_hello(receive()))   # ClientFinish; verifies the server's chain
    transport = hs.transport()

Server (responder)::

    hs = ServerHandshake(static_key, cert_chain, prologue=intro_header_received)
    send(hs.process_client_hello(receive()))   # ServerHello
    client_static, payload = hs.process_client_finish(receive())
    transport = hs.transport()
"""

from __future__ import annotations

import hmac
import time
from dataclasses import dataclass

from google.protobuf.message import DecodeError as ProtobufDecodeError

from ..proto import wa_handshake_pb2 as pb
from ..signal.keys import KeyPair, raw_public, sign, verify
from .constants import (
    NOISE_START_PATTERN,
    WA_CERT_ISSUER_SERIAL,
    WA_CERT_ROOT_PUBLIC_KEY,
    intro_header,
)
from .errors import CertificateError, NoiseHandshakeError
from .noise import HandshakeState, TransportCipher


def _parse_message(data: bytes) -> pb.HandshakeMessage:
    msg = pb.HandshakeMessage()
    try:
        msg.ParseFromString(data)
    except ProtobufDecodeError as err:
        raise NoiseHandshakeError(f"malformed handshake message: {err}") from None
    return msg


def _raw(key: KeyPair) -> bytes:
    return raw_public(key.public)


class ClientHandshake:
    """The initiator's side: ephemeral out, server keys and certificate in, our static out."""

    def __init__(
        self,
        static_key: KeyPair,
        payload: bytes,
        *,
        root_public_key: bytes = WA_CERT_ROOT_PUBLIC_KEY,
        prologue: bytes | None = None,
        ephemeral_key: KeyPair | None = None,
        now: float | None = None,
    ) -> None:
        self._static = static_key
        self._payload = payload
        self._root = root_public_key
        self._now = now
        self._ephemeral = ephemeral_key or KeyPair.generate()
        self._state = HandshakeState(NOISE_START_PATTERN, prologue or intro_header())
        self._state.authenticate(_raw(self._ephemeral))
        self._done = False
        self.server_static: bytes | None = None

    def client_hello(self) -> bytes:
        msg = pb.HandshakeMessage()
        msg.client_hello.ephemeral = _raw(self._ephemeral)
        return msg.SerializeToString()

    def process_server_hello(self, data: bytes) -> bytes:
        """Check the server's hello and certificate; returns the ClientFinish message."""
        hello = _parse_message(data).server_hello
        if len(hello.ephemeral) != 32 or not hello.static or not hello.payload:
            raise NoiseHandshakeError("server hello is missing parts")
        state = self._state
        state.authenticate(hello.ephemeral)
        state.mix_shared_secret(self._ephemeral.private, hello.ephemeral)
        server_static = state.decrypt(hello.static)
        if len(server_static) != 32:
            raise NoiseHandshakeError(f"server static key has {len(server_static)} bytes")
        state.mix_shared_secret(self._ephemeral.private, server_static)
        verify_cert_chain(state.decrypt(hello.payload), server_static, self._root, self._now)
        self.server_static = server_static
        encrypted_static = state.encrypt(_raw(self._static))
        state.mix_shared_secret(self._static.private, hello.ephemeral)
        encrypted_payload = state.encrypt(self._payload)
        msg = pb.HandshakeMessage()
        msg.client_finish.static = encrypted_static
        msg.client_finish.payload = encrypted_payload
        self._done = True
        return msg.SerializeToString()

    def transport(self) -> TransportCipher:
        if not self._done:
            raise NoiseHandshakeError("handshake is not finished")
        return self._state.split(initiator=True)


class ServerHandshake:
    """The responder's side, as the test network runs it."""

    def __init__(
        self,
        static_key: KeyPair,
        cert_chain: bytes,
        *,
        prologue: bytes | None = None,
        ephemeral_key: KeyPair | None = None,
    ) -> None:
        self._static = static_key
        self._cert_chain = cert_chain
        self._ephemeral = ephemeral_key or KeyPair.generate()
        self._state = HandshakeState(NOISE_START_PATTERN, prologue or intro_header())
        self._client_ephemeral: bytes | None = None
        self._done = False

    def process_client_hello(self, data: bytes) -> bytes:
        """Take the client's ephemeral key; returns the ServerHello message."""
        ephemeral = _parse_message(data).client_hello.ephemeral
        if len(ephemeral) != 32:
            raise NoiseHandshakeError("client hello carries no 32-byte ephemeral key")
        state = self._state
        state.authenticate(ephemeral)
        state.authenticate(_raw(self._ephemeral))
        state.mix_shared_secret(self._ephemeral.private, ephemeral)
        encrypted_static = state.encrypt(_raw(self._static))
        state.mix_shared_secret(self._static.private, ephemeral)
        encrypted_cert = state.encrypt(self._cert_chain)
        self._client_ephemeral = ephemeral
        msg = pb.HandshakeMessage()
        msg.server_hello.ephemeral = _raw(self._ephemeral)
        msg.server_hello.static = encrypted_static
        msg.server_hello.payload = encrypted_cert
        return msg.SerializeToString()

    def process_client_finish(self, data: bytes) -> tuple[bytes, bytes]:
        """Returns the client's raw static public key and its (decrypted) client payload."""
        if self._client_ephemeral is None:
            raise NoiseHandshakeError("client finish before client hello")
        finish = _parse_message(data).client_finish
        if not finish.static or not finish.payload:
            raise NoiseHandshakeError("client finish is missing parts")
        state = self._state
        client_static = state.decrypt(finish.static)
        if len(client_static) != 32:
            raise NoiseHandshakeError(f"client static key has {len(client_static)} bytes")
        state.mix_shared_secret(self._ephemeral.private, client_static)
        payload = state.decrypt(finish.payload)
        self._done = True
        return client_static, payload

    def transport(self) -> TransportCipher:
        if not self._done:
            raise NoiseHandshakeError("handshake is not finished")
        return self._state.split(initiator=False)


# -- certificates ---------------------------------------------------------------------------


@dataclass(frozen=True)
class CertificateAuthority:
    """A root key and an intermediate it has signed; mints leaf certificates for server keys.

    WhatsApp's real root is not ours to hold; the test network makes its own and gives clients
    :attr:`root_public_key` to trust.
    """

    root: KeyPair
    intermediate: KeyPair
    intermediate_serial: int = 1
    not_before: int = 0
    not_after: int = 2**40

    @classmethod
    def generate(cls) -> CertificateAuthority:
        return cls(KeyPair.generate(), KeyPair.generate())

    @property
    def root_public_key(self) -> bytes:
        return _raw(self.root)

    def cert_chain(self, server_static_public: bytes, leaf_serial: int = 2) -> bytes:
        """A serialized CertChain proving ``server_static_public`` (raw 32 bytes)."""
        intermediate = _details(
            self.intermediate_serial,
            WA_CERT_ISSUER_SERIAL,
            _raw(self.intermediate),
            self.not_before,
            self.not_after,
        )
        leaf = _details(
            leaf_serial,
            self.intermediate_serial,
            server_static_public,
            self.not_before,
            self.not_after,
        )
        chain = pb.CertChain()
        chain.intermediate.details = intermediate
        chain.intermediate.signature = sign(self.root.private, intermediate)
        chain.leaf.details = leaf
        chain.leaf.signature = sign(self.intermediate.private, leaf)
        return chain.SerializeToString()


def _details(serial: int, issuer: int, key: bytes, not_before: int, not_after: int) -> bytes:
    details = pb.CertChain.NoiseCertificate.Details()
    details.serial = serial
    details.issuer_serial = issuer
    details.key = key
    details.not_before = not_before
    details.not_after = not_after
    return details.SerializeToString()


def verify_cert_chain(
    chain_bytes: bytes, server_static: bytes, root_public_key: bytes, now: float | None = None
) -> None:
    """Check that ``chain_bytes`` proves ``server_static`` under ``root_public_key``.

    The root signs the intermediate (whose issuer must be WhatsApp's root serial), the
    intermediate signs the leaf (whose issuer must be the intermediate's serial), the leaf names
    the server's static key, and both are within their validity windows.
    """
    chain = pb.CertChain()
    intermediate = pb.CertChain.NoiseCertificate.Details()
    leaf = pb.CertChain.NoiseCertificate.Details()
    try:
        chain.ParseFromString(chain_bytes)
        intermediate.ParseFromString(chain.intermediate.details)
        leaf.ParseFromString(chain.leaf.details)
    except ProtobufDecodeError as err:
        raise CertificateError(f"malformed certificate chain: {err}") from None
    if not chain.intermediate.details or not chain.leaf.details:
        raise CertificateError("certificate chain is missing parts")
    if not verify(root_public_key, chain.intermediate.details, chain.intermediate.signature):
        raise CertificateError("intermediate certificate is not signed by the root key")
    if intermediate.issuer_serial != WA_CERT_ISSUER_SERIAL:
        raise CertificateError(
            f"unexpected intermediate issuer serial {intermediate.issuer_serial}"
        )
    if len(intermediate.key) != 32:
        raise CertificateError("intermediate certificate key is not 32 bytes")
    if not verify(intermediate.key, chain.leaf.details, chain.leaf.signature):
        raise CertificateError("leaf certificate is not signed by the intermediate key")
    if leaf.issuer_serial != intermediate.serial:
        raise CertificateError(
            f"leaf issuer serial {leaf.issuer_serial} "
            f"is not the intermediate's {intermediate.serial}"
        )
    if not hmac.compare_digest(leaf.key, server_static):
        raise CertificateError("leaf certificate does not name the server's static key")
    at = time.time() if now is None else now
    for name, details in (("intermediate", intermediate), ("leaf", leaf)):
        if not details.not_before <= at <= details.not_after:
            raise CertificateError(f"{name} certificate is not valid at {int(at)}")
