"""Linking this device to a phone: rotating QR codes, or an 8-character phone-number code.

The server hands an unregistered device a list of refs; each becomes one QR code
(``ref,noise_pub,identity_pub,adv_secret``) shown until it expires. When the phone scans one,
the server relays the phone's signed device identity; we check the HMAC (proof the phone saw
OUR secret) and the account signature, counter-sign, and the server tells us to reconnect and
log in. With a pairing code, both sides derive the ADV secret from an exchange of ephemeral keys
wrapped with the code instead of reading it from a QR code.
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
import logging
import os
from typing import TYPE_CHECKING

from . import events as ev
from . import pair_code
from .adv import ADVError, companion_accept
from .binary import Node
from .proto import wa_client_payload_pb2 as payload_pb
from .signal.keys import KeyPair

if TYPE_CHECKING:
    from .client import Client

log = logging.getLogger(__name__)

FIRST_QR_TIMEOUT = 60.0
NEXT_QR_TIMEOUT = 20.0


class Pairing:
    def __init__(self, client: Client) -> None:
        self.client = client
        self._qr_task: asyncio.Task[None] | None = None
        self._code: str | None = None
        self._code_ephemeral: KeyPair | None = None
        self._phone: str | None = None
        self.first_qr_timeout = FIRST_QR_TIMEOUT
        self.next_qr_timeout = NEXT_QR_TIMEOUT
        #: Set once the server has offered pairing (the connection is up and unregistered).
        self.ready = asyncio.Event()

    def registration_payload(self, payload: payload_pb.ClientPayload) -> bytes:
        device = self.client.device
        props = payload_pb.DeviceProps(os="mautrix-whatsapp-py", platform_type="CHROME")
        data = payload.device_pairing_data
        data.e_regid = device.registration_id.to_bytes(4, "big")
        data.e_keytype = b"\x05"
        data.e_ident = device.identity.public[1:]
        data.e_skey_id = device.signed_prekey.key_id.to_bytes(3, "big")
        data.e_skey_val = device.signed_prekey.key_pair.public[1:]
        data.e_skey_sig = device.signed_prekey.signature
        data.build_hash = hashlib.md5(b"2.3000.1023000000").digest()
        data.device_props = props.SerializeToString()
        payload.passive = False
        payload.pull = False
        return payload.SerializeToString()

    # -- QR codes --------------------------------------------------------------------------

    def qr_code(self, ref: str) -> str:
        device = self.client.device
        parts = (
            ref,
            base64.b64encode(device.noise_key.public[1:]).decode(),
            base64.b64encode(device.identity.public[1:]).decode(),
            base64.b64encode(device.adv_secret).decode(),
        )
        return ",".join(parts)

    async def on_pair_device(self, node: Node) -> None:
        await self.client.send_node(
            Node("iq", {"to": "s.whatsapp.net", "id": node.attr_str("id"), "type": "result"})
        )
        pair = node.child("pair-device")
        assert pair is not None
        refs = [
            r.content.decode() for r in pair.children_by_tag("ref") if isinstance(r.content, bytes)
        ]
        if self._qr_task is not None:
            self._qr_task.cancel()
        self._qr_task = asyncio.ensure_future(self._show_codes(refs))
        self.ready.set()

    async def _show_codes(self, refs: list[str]) -> None:
        for index, ref in enumerate(refs):
            timeout = self.first_qr_timeout if index == 0 else self.next_qr_timeout
            await self.client.dispatch(ev.QRCode(self.qr_code(ref), timeout))
            await asyncio.sleep(timeout)
        # Out of refs: the server gives up on us; the caller may connect again for new codes.
        await self.client.dispatch(ev.PairError("QR codes expired without being scanned"))
        self.client.auto_reconnect = False
        await self.client.disconnect()

    async def on_pair_success(self, node: Node) -> None:
        if self._qr_task is not None:
            self._qr_task.cancel()
            self._qr_task = None
        client = self.client
        success = node.child("pair-success")
        assert success is not None
        identity_node = success.child("device-identity")
        device_node = success.child("device")
        platform = success.child("platform")
        jid = device_node.attr_jid("jid") if device_node is not None else None
        identity = identity_node.content if identity_node is not None else None
        if jid is None or not isinstance(identity, bytes):
            await self._refuse(node, "pair-success without a device identity")
            return
        try:
            signed, details = companion_accept(
                identity, client.device.adv_secret, client.device.identity
            )
        except (ADVError, ValueError) as e:
            await self._refuse(node, str(e))
            return
        lid = device_node.attr_str("lid") if device_node is not None else ""
        platform_name = platform.attr_str("name") if platform is not None else ""
        # The phone's key stays in our copy: we include it in our own device identity later.
        await client.device.mark_paired(jid, lid, platform_name, signed)
        to_send = type(signed)()
        to_send.CopyFrom(signed)
        to_send.ClearField("account_signature_key")
        await client.send_node(
            Node(
                "iq",
                {"to": "s.whatsapp.net", "id": node.attr_str("id"), "type": "result"},
                [
                    Node(
                        "pair-device-sign",
                        {},
                        [
                            Node(
                                "device-identity",
                                {"key-index": str(details.key_index)},
                                to_send.SerializeToString(),
                            )
                        ],
                    )
                ],
            )
        )
        await client.dispatch(ev.PairSuccess(jid, lid, platform_name))

    async def _refuse(self, node: Node, reason: str) -> None:
        log.warning("refusing pairing: %s", reason)
        await self.client.send_node(
            Node(
                "iq",
                {"to": "s.whatsapp.net", "id": node.attr_str("id"), "type": "error"},
                [Node("error", {"code": "401", "text": "not-authorized"})],
            )
        )
        await self.client.dispatch(ev.PairError(reason))

    # -- phone-number codes ----------------------------------------------------------------

    async def pair_phone(self, phone: str) -> str:
        """Ask to link by typing a code on ``phone``'s WhatsApp; returns the code to show."""
        client = self.client
        if client.device.paired:
            raise RuntimeError("this device is already paired")
        await self.ready.wait()
        self._phone = f"{phone}@s.whatsapp.net"
        code = pair_code.new_code()
        ephemeral = KeyPair.generate()
        self._code, self._code_ephemeral = code, ephemeral
        wrapped = await pair_code.wrap_public_key(code, ephemeral)
        await client.query(
            Node(
                "iq",
                {"to": "s.whatsapp.net", "type": "set", "xmlns": "md"},
                [
                    Node(
                        "link_code_companion_reg",
                        {
                            "jid": f"{phone}@s.whatsapp.net",
                            "stage": "companion_hello",
                            "should_show_push_notification": "true",
                        },
                        [
                            Node("link_code_pairing_wrapped_companion_ephemeral_pub", {}, wrapped),
                            Node(
                                "companion_server_auth_key_pub",
                                {},
                                client.device.noise_key.public[1:],
                            ),
                            Node("companion_platform_id", {}, b"49"),
                            Node("companion_platform_display", {}, b"Chrome (mautrix-whatsapp-py)"),
                            Node("link_code_pairing_nonce", {}, b"0"),
                        ],
                    )
                ],
            )
        )
        await client.dispatch(ev.PairingCode(code))
        return code

    async def on_link_code_notification(self, node: Node) -> None:
        reg = node.child("link_code_companion_reg")
        if reg is None or reg.attr_str("stage") != "primary_hello":
            return
        if self._code is None or self._code_ephemeral is None:
            log.warning("got a pairing code answer we did not ask for")
            return
        client = self.client
        ref = _bytes(reg, "link_code_pairing_ref")
        primary_identity = _bytes(reg, "primary_identity_pub")
        wrapped = _bytes(reg, "link_code_pairing_wrapped_primary_ephemeral_pub")
        if len(primary_identity) != 32:
            await client.dispatch(ev.PairError("malformed primary hello"))
            return
        try:
            primary_ephemeral = await pair_code.unwrap_public_key(self._code, wrapped)
        except pair_code.PairCodeError as e:
            await client.dispatch(ev.PairError(str(e)))
            return
        shared = self._code_ephemeral.agree(primary_ephemeral)
        identity = client.device.identity
        bundle = pair_code.KeyBundle(identity.public[1:], primary_identity, os.urandom(32))
        sealed = pair_code.seal_bundle(shared, bundle)
        adv_secret = pair_code.adv_secret(shared, identity.agree(primary_identity), bundle.random)
        # The ADV secret now comes from the exchange; pair-success is checked against it.
        await client.device.set_adv_secret(adv_secret)
        await client.query(
            Node(
                "iq",
                {"to": "s.whatsapp.net", "type": "set", "xmlns": "md"},
                [
                    Node(
                        "link_code_companion_reg",
                        {"jid": self._phone or "", "stage": "companion_finish"},
                        [
                            Node("link_code_pairing_wrapped_key_bundle", {}, sealed),
                            Node("companion_identity_public", {}, identity.public[1:]),
                            Node("link_code_pairing_ref", {}, ref),
                        ],
                    )
                ],
            )
        )


def _bytes(node: Node, tag: str) -> bytes:
    child = node.child(tag)
    return child.content if child is not None and isinstance(child.content, bytes) else b""
