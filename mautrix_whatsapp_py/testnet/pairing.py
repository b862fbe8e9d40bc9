"""Linking companions: the QR refs a new companion shows, and the simulated phone scanning one.

The phone signs the companion's identity with its account key and proves with the companion's
ADV secret (from the QR) that it scanned that very code; the companion counter-signs, the server
records the device and asks the companion to reconnect and log in.
"""

from __future__ import annotations

import base64
import logging
from typing import TYPE_CHECKING

from ..whatsapp.adv import ADVError, phone_sign_companion, verify_device_signature
from ..whatsapp.binary import Node
from ..whatsapp.proto import wa_adv_pb2 as adv_pb
from ..whatsapp.socket import errors as socket_errors
from .connection import Connection
from .groups import IQError
from .storage import Device, now

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
        jid = network.device_jid(phone, device_id)
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

    async def companion_hello(self, conn: Connection, iq: Node) -> list[Node]:
        raise IQError(501, "phone number pairing is not available on this test network yet")
