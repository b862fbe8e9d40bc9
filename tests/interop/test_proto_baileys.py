"""Our .proto schemas against Baileys' WAProto: same field numbers, so the same bytes."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from google.protobuf.json_format import MessageToDict, ParseDict
from google.protobuf.message import Message

from mautrix_whatsapp_py.whatsapp.proto import wa_adv_pb2 as adv
from mautrix_whatsapp_py.whatsapp.proto import wa_client_payload_pb2 as cp
from mautrix_whatsapp_py.whatsapp.proto import wa_e2e_pb2 as e2e
from mautrix_whatsapp_py.whatsapp.proto import wa_handshake_pb2 as hs
from tests.interop.node_peer import NodePeer, b64, unb64

pytestmark = pytest.mark.interop


def normalized(value: Any) -> Any:
    """JSON with keys lowercased and underscores dropped: the two generators camel-case a few
    names differently (``e2ee`` vs ``E2Ee``), which the wire never sees."""
    if isinstance(value, dict):
        return {k.lower().replace("_", ""): normalized(v) for k, v in value.items()}
    if isinstance(value, list):
        return [normalized(v) for v in value]
    return value


def samples() -> list[tuple[str, Message]]:
    device_props = cp.DeviceProps(
        os="mautrix-whatsapp-py",
        version=cp.DeviceProps.AppVersion(primary=0, secondary=1, tertiary=0),
        platform_type=cp.DeviceProps.DESKTOP,
        require_full_sync=False,
        history_sync_config=cp.DeviceProps.HistorySyncConfig(
            full_sync_days_limit=365, inline_initial_payload_in_e2ee_msg=True
        ),
    )
    user_agent = cp.ClientPayload.UserAgent(
        platform=cp.ClientPayload.UserAgent.WEB,
        app_version=cp.ClientPayload.UserAgent.AppVersion(
            primary=2, secondary=3000, tertiary=1017531287
        ),
        mcc="000",
        mnc="000",
        os_version="0.1",
        manufacturer="",
        device="Desktop",
        os_build_number="0.1",
        release_channel=cp.ClientPayload.UserAgent.RELEASE,
        locale_language_iso_639_1="en",
        locale_country_iso_3166_1_alpha_2="US",
    )
    registration = cp.ClientPayload(
        passive=False,
        user_agent=user_agent,
        web_info=cp.ClientPayload.WebInfo(web_sub_platform=cp.ClientPayload.WebInfo.WEB_BROWSER),
        connect_type=cp.ClientPayload.WIFI_UNKNOWN,
        connect_reason=cp.ClientPayload.USER_ACTIVATED,
        device_pairing_data=cp.ClientPayload.DevicePairingRegistrationData(
            e_regid=b"\x00\x00\x12\x34",
            e_keytype=b"\x05",
            e_ident=b"I" * 32,
            e_skey_id=b"\x00\x00\x01",
            e_skey_val=b"S" * 32,
            e_skey_sig=b"G" * 64,
            build_hash=b"H" * 16,
            device_props=device_props.SerializeToString(),
        ),
        session_id=-12345,
        pull=False,
    )
    login = cp.ClientPayload(
        username=15550001234,
        device=7,
        passive=True,
        user_agent=user_agent,
        pull=True,
        connect_type=cp.ClientPayload.WIFI_UNKNOWN,
        connect_reason=cp.ClientPayload.USER_ACTIVATED,
        lc=1,
        oc=False,
        short_connect=True,
        connect_attempt_count=3,
        push_name="Alice",
    )
    key = e2e.MessageKey(
        remote_jid="123@s.whatsapp.net", from_me=True, id="3EB0AA", participant="9@s.whatsapp.net"
    )
    context = e2e.ContextInfo(
        stanza_id="3EB0BB",
        participant="5@s.whatsapp.net",
        quoted_message=e2e.Message(conversation="earlier"),
        remote_jid="1-2@g.us",
        mentioned_jid=["5@s.whatsapp.net", "6@s.whatsapp.net"],
        forwarding_score=2,
        is_forwarded=True,
        expiration=86400,
    )
    message = e2e.Message(
        extended_text_message=e2e.Message.ExtendedTextMessage(text="hi @5", context_info=context),
        message_context_info=e2e.MessageContextInfo(message_secret=b"s" * 32),
    )
    image = e2e.Message(
        image_message=e2e.Message.ImageMessage(
            url="https://mmg.example/x",
            mimetype="image/jpeg",
            caption="cap",
            file_sha256=b"a" * 32,
            file_length=123456789012,
            height=10,
            width=20,
            media_key=b"k" * 32,
            file_enc_sha256=b"e" * 32,
            direct_path="/v/t62/x",
            media_key_timestamp=1700000000,
            jpeg_thumbnail=b"\xff\xd8",
            view_once=True,
        )
    )
    protocol = e2e.Message(
        protocol_message=e2e.Message.ProtocolMessage(
            key=key,
            type=e2e.Message.ProtocolMessage.MESSAGE_EDIT,
            edited_message=e2e.Message(conversation="fixed"),
            timestamp_ms=1700000000123,
        )
    )
    sent = e2e.Message(
        device_sent_message=e2e.Message.DeviceSentMessage(
            destination_jid="123@s.whatsapp.net", message=message
        ),
        sender_key_distribution_message=e2e.Message.SenderKeyDistributionMessage(
            group_id="1-2@g.us", axolotl_sender_key_distribution_message=b"\x33skdm"
        ),
    )
    reaction = e2e.Message(
        reaction_message=e2e.Message.ReactionMessage(
            key=key, text="👍", sender_timestamp_ms=1700000000999
        ),
        ephemeral_message=e2e.Message.FutureProofMessage(
            message=e2e.Message(conversation="gone soon")
        ),
        edited_message=e2e.Message.FutureProofMessage(message=e2e.Message(conversation="edited")),
        view_once_message=e2e.Message.FutureProofMessage(message=image),
    )
    identity = adv.ADVDeviceIdentity(
        raw_id=99, timestamp=1700000000, key_index=3, account_type=adv.E2EE, device_type=adv.E2EE
    )
    signed = adv.ADVSignedDeviceIdentity(
        details=identity.SerializeToString(),
        account_signature_key=b"K" * 32,
        account_signature=b"A" * 64,
        device_signature=b"D" * 64,
    )
    key_list = adv.ADVKeyIndexList(
        raw_id=99,
        timestamp=1700000000,
        current_index=3,
        valid_indexes=[1, 2, 3],
        account_type=adv.HOSTED,
    )
    return [
        ("ClientPayload", registration),
        ("ClientPayload", login),
        ("DeviceProps", device_props),
        (
            "HandshakeMessage",
            hs.HandshakeMessage(client_hello=hs.HandshakeMessage.ClientHello(ephemeral=b"e" * 32)),
        ),
        (
            "HandshakeMessage",
            hs.HandshakeMessage(
                server_hello=hs.HandshakeMessage.ServerHello(
                    ephemeral=b"e" * 32, static=b"s" * 48, payload=b"p" * 100
                )
            ),
        ),
        (
            "HandshakeMessage",
            hs.HandshakeMessage(
                client_finish=hs.HandshakeMessage.ClientFinish(static=b"s" * 48, payload=b"p")
            ),
        ),
        (
            "CertChain",
            hs.CertChain(
                leaf=hs.CertChain.NoiseCertificate(details=b"d1", signature=b"x" * 64),
                intermediate=hs.CertChain.NoiseCertificate(details=b"d2", signature=b"y" * 64),
            ),
        ),
        (
            "ADVSignedDeviceIdentityHMAC",
            adv.ADVSignedDeviceIdentityHMAC(
                details=signed.SerializeToString(), hmac=b"h" * 32, account_type=adv.HOSTED
            ),
        ),
        ("ADVSignedDeviceIdentity", signed),
        ("ADVDeviceIdentity", identity),
        ("ADVKeyIndexList", key_list),
        (
            "ADVSignedKeyIndexList",
            adv.ADVSignedKeyIndexList(
                details=key_list.SerializeToString(), account_signature=b"A" * 64
            ),
        ),
        ("Message", message),
        ("Message", image),
        ("Message", protocol),
        ("Message", sent),
        ("Message", reaction),
    ]


@pytest.fixture(scope="module")
def baileys() -> Iterator[NodePeer]:
    with NodePeer("proto_peer.js") as peer:
        yield peer


@pytest.mark.parametrize(("type_name", "message"), samples())
def test_baileys_reads_ours(baileys: NodePeer, type_name: str, message: Message) -> None:
    theirs = baileys.call("decode", type=type_name, data=b64(message.SerializeToString()))
    assert normalized(theirs) == normalized(MessageToDict(message))


@pytest.mark.parametrize(("type_name", "message"), samples())
def test_we_read_baileys(baileys: NodePeer, type_name: str, message: Message) -> None:
    data = unb64(baileys.call("encode", type=type_name, object=MessageToDict(message)))
    ours = type(message)()
    ours.ParseFromString(data)
    assert ours == message
    # Same fields in the same order: the bytes agree too.
    assert data == message.SerializeToString()
    assert ParseDict(MessageToDict(ours), type(message)()) == message
