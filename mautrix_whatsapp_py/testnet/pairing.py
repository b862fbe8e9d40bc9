"""Linking companions: the QR refs a new companion shows, and the simulated phone scanning one.

The phone signs the companion's identity with its account key and proves with the companion's
ADV secret (from the QR) that it scanned that very code; the companion counter-signs, the server
records the device and asks the companion to reconnect and log in.
"""

from __future__ import annotations

import base64
import logging
import secrets
from dataclasses import dataclass
from typing import TYPE_CHECKING

from ..whatsapp import pair_code
from ..whatsapp.adv import ADVError, phone_sign_companion, verify_device_signature
from ..whatsapp.binary import Node
from ..whatsapp.proto import wa_adv_pb2 as adv_pb
from ..whatsapp.signal.keys import KeyPair
from ..whatsapp.socket import errors as socket_errors
from .connection import Connection
from .groups import IQError
from .storage import Device, device_jid, now

if TYPE_CHECKING:
    from .network import Network

log = logging.getLogger(__name__)


class PairingError(Exception):
    """A link request that cannot be carried out (bad QR, no such companion ...)."""


class Pairing:
    def __init__(self, network: Network) -> None:
        self.network = network

    async def offer_refs(self, conn: Connection) -> None:
        """Send a new companion its QR refs; it shows one code per ref."""
        assert conn.registration is not None
        refs = [Node("ref", {}, ref.encode()) for ref in conn.registration.refs]
        try:
            answer = await conn.query(
                Node(
                    "iq",
                    {"from": "s.whatsapp.net", "type": "set", "xmlns": "md"},
                    [Node("pair-device", {}, refs)],
                )
            )
        except (TimeoutError, socket_errors.SocketError):
            return
        log.debug("companion acknowledged refs: %s", answer.attr_str("type"))

    def _find(self, ref: str, noise_key: bytes) -> Connection:
        for conn in self.network.unregistered:
            reg = conn.registration
            if reg is not None and ref in reg.refs and reg.noise_key == noise_key:
                return conn
        raise PairingError("no companion is showing that QR code (expired or already linked)")

    async def link_qr(self, phone: str, qr: str) -> Device:
        """The phone of ``phone`` scans ``qr`` (``ref,noise_pub,identity_pub,adv_secret``)."""
        parts = qr.split(",")
        if len(parts) < 4:
            raise PairingError("not a WhatsApp linking QR code")
        try:
            ref = parts[0]
            noise_key, identity_raw, adv_secret = (base64.b64decode(p) for p in parts[1:4])
        except ValueError as e:
            raise PairingError(f"QR code has bad base64: {e}") from None
        conn = self._find(ref, noise_key)
        reg = conn.registration
        assert reg is not None
        if reg.identity_key[1:] != identity_raw:
            raise PairingError("QR identity key does not match the companion's registration")
        return await self._link(conn, phone, adv_secret)

    async def _link(self, conn: Connection, phone: str, adv_secret: bytes) -> Device:
        network = self.network
        account = await network.storage.get_account(phone)
        phone_sim = network.phones.get(phone)
        if account is None or phone_sim is None:
            raise PairingError(f"no account {phone}")
        reg = conn.registration
        assert reg is not None
        device_id, key_index = await network.storage.next_device_id(phone)
        identity_hmac = phone_sign_companion(
            phone_sim.key, reg.identity_key, adv_secret, phone_sim.raw_id, key_index, now()
        )
        jid = device_jid(phone, device_id)
        success = Node(
            "iq",
            {"from": "s.whatsapp.net", "type": "set", "xmlns": "md"},
            [
                Node(
                    "pair-success",
                    {},
                    [
                        Node("device-identity", {}, identity_hmac),
                        Node("platform", {"name": reg.platform or "web"}),
                        Node("device", {"jid": jid, "lid": f"{account.lid}:{device_id}@lid"}),
                    ],
                )
            ],
        )
        try:
            answer = await conn.query(success)
        except (TimeoutError, socket_errors.SocketError) as e:
            raise PairingError(f"companion did not answer pair-success: {e}") from None
        signed_node = answer.get_path("pair-device-sign", "device-identity")
        if answer.attr_str("type") != "result" or signed_node is None:
            raise PairingError(f"companion refused pairing: {answer}")
        signed_bytes = signed_node.content if isinstance(signed_node.content, bytes) else b""
        try:
            signed = adv_pb.ADVSignedDeviceIdentity.FromString(signed_bytes)
            if not signed.account_signature_key:
                signed.account_signature_key = phone_sim.key.public[1:]
            verify_device_signature(signed, reg.identity_key)
        except (ADVError, ValueError) as e:
            await conn.stream_error(code="401")
            raise PairingError(f"companion's device signature is invalid: {e}") from None
        device = Device(
            phone=phone,
            device_id=device_id,
            noise_key=reg.noise_key,
            identity_key=reg.identity_key,
            registration_id=reg.registration_id,
            skey_id=reg.skey_id,
            skey_pub=reg.skey_pub,
            skey_sig=reg.skey_sig,
            key_index=key_index,
            platform=reg.platform,
            push_name=account.push_name,
            device_identity=signed.SerializeToString(),
            created=now(),
        )
        await network.storage.put_device(device)
        network.unregistered.discard(conn)
        # The companion must log in afresh with its new identity.
        await conn.stream_error(code="515")
        await network.notify_devices_changed(phone, device, removed=False)
        await phone_sim.welcome_companion(device)
        log.info("linked %s", jid)
        return device

    # -- phone-number pairing codes ----------------------------------------------------------

    async def companion_stage(self, conn: Connection, iq: Node) -> list[Node]:
        """The companion's side of code pairing: ``companion_hello`` then ``companion_finish``."""
        reg = iq.child("link_code_companion_reg")
        assert reg is not None
        stage = reg.attr_str("stage")
        if conn.registration is None:
            raise IQError(400, "already registered")
        if stage == "companion_hello":
            jid = reg.attr_jid("jid")
            wrapped = _child_bytes(reg, "link_code_pairing_wrapped_companion_ephemeral_pub")
            noise = _child_bytes(reg, "companion_server_auth_key_pub")
            if jid is None or len(wrapped) != 80 or noise != conn.registration.noise_key:
                raise IQError(400, "bad-request")
            if await self.network.storage.get_account(jid.user) is None:
                raise IQError(404, "item-not-found")
            ref = secrets.token_urlsafe(24).encode()
            conn.link_code = LinkCode(jid.user, wrapped, ref)
            return [Node("link_code_companion_reg", {}, [Node("link_code_pairing_ref", {}, ref)])]
        if stage == "companion_finish":
            state = conn.link_code
            if state is None or state.phone_ephemeral is None or state.companion_ephemeral is None:
                raise IQError(400, "no pairing in progress")
            if _child_bytes(reg, "link_code_pairing_ref") != state.ref:
                raise IQError(400, "wrong pairing ref")
            adv_secret = self._finish_code(conn, state, reg)
            self.network.spawn(self._link_logged(conn, state.phone, adv_secret))
            return []
        raise IQError(400, f"unknown stage {stage!r}")

    async def link_code(self, phone: str, code: str) -> None:
        """The user of ``phone`` types the 8-character code a companion shows."""
        phone_sim = self.network.phones.get(phone)
        if phone_sim is None:
            raise PairingError(f"no account {phone}")
        conn = next(
            (
                c
                for c in self.network.unregistered
                if c.link_code is not None and c.link_code.phone == phone
            ),
            None,
        )
        if conn is None or conn.link_code is None:
            raise PairingError("no companion is waiting for a pairing code for this number")
        state = conn.link_code
        state.companion_ephemeral = await pair_code.unwrap_public_key(code, state.companion_wrapped)
        state.phone_ephemeral = KeyPair.generate()
        wrapped_ours = await pair_code.wrap_public_key(code, state.phone_ephemeral)
        hello = Node(
            "link_code_companion_reg",
            {"stage": "primary_hello"},
            [
                Node("link_code_pairing_ref", {}, state.ref),
                Node("primary_identity_pub", {}, phone_sim.key.public[1:]),
                Node("link_code_pairing_wrapped_primary_ephemeral_pub", {}, wrapped_ours),
            ],
        )
        note = self.network.notification("link_code_companion_reg", "s.whatsapp.net", [hello])
        try:
            await conn.send(note)
        except socket_errors.SocketError as e:
            raise PairingError(f"companion went away: {e}") from None

    def _finish_code(self, conn: Connection, state: LinkCode, reg: Node) -> bytes:
        phone_sim = self.network.phones[state.phone]
        assert state.phone_ephemeral is not None and state.companion_ephemeral is not None
        sealed = _child_bytes(reg, "link_code_pairing_wrapped_key_bundle")
        companion_identity = _child_bytes(reg, "companion_identity_public")
        shared = state.phone_ephemeral.agree(state.companion_ephemeral)
        try:
            bundle = pair_code.open_bundle(shared, sealed)
        except pair_code.PairCodeError as e:
            conn.link_code = None
            raise IQError(400, str(e)) from None
        reg_identity = conn.registration.identity_key[1:] if conn.registration else b""
        if (
            bundle.companion_identity != companion_identity
            or companion_identity != reg_identity
            or bundle.primary_identity != phone_sim.key.public[1:]
        ):
            raise IQError(400, "key bundle does not match the devices")
        return pair_code.adv_secret(shared, phone_sim.key.agree(companion_identity), bundle.random)

    async def _link_logged(self, conn: Connection, phone: str, adv_secret: bytes) -> None:
        try:
            await self._link(conn, phone, adv_secret)
        except PairingError as e:
            log.warning("code pairing for %s failed: %s", phone, e)


@dataclass(slots=True)
class LinkCode:
    """A companion waiting for its pairing code to be typed on ``phone``."""

    phone: str
    companion_wrapped: bytes
    ref: bytes
    companion_ephemeral: bytes | None = None
    phone_ephemeral: KeyPair | None = None


def _child_bytes(node: Node, tag: str) -> bytes:
    child = node.child(tag)
    if child is None or not isinstance(child.content, bytes):
        return b""
    return child.content
