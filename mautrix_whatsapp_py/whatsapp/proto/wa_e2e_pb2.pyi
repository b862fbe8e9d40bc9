from google.protobuf.internal import containers as _containers
from google.protobuf.internal import enum_type_wrapper as _enum_type_wrapper
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Iterable as _Iterable, Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class MessageKey(_message.Message):
    __slots__ = ("remote_jid", "from_me", "id", "participant")
    REMOTE_JID_FIELD_NUMBER: _ClassVar[int]
    FROM_ME_FIELD_NUMBER: _ClassVar[int]
    ID_FIELD_NUMBER: _ClassVar[int]
    PARTICIPANT_FIELD_NUMBER: _ClassVar[int]
    remote_jid: str
    from_me: bool
    id: str
    participant: str
    def __init__(self, remote_jid: _Optional[str] = ..., from_me: _Optional[bool] = ..., id: _Optional[str] = ..., participant: _Optional[str] = ...) -> None: ...

class ContextInfo(_message.Message):
    __slots__ = ("stanza_id", "participant", "quoted_message", "remote_jid", "mentioned_jid", "forwarding_score", "is_forwarded", "expiration")
    STANZA_ID_FIELD_NUMBER: _ClassVar[int]
    PARTICIPANT_FIELD_NUMBER: _ClassVar[int]
    QUOTED_MESSAGE_FIELD_NUMBER: _ClassVar[int]
    REMOTE_JID_FIELD_NUMBER: _ClassVar[int]
    MENTIONED_JID_FIELD_NUMBER: _ClassVar[int]
    FORWARDING_SCORE_FIELD_NUMBER: _ClassVar[int]
    IS_FORWARDED_FIELD_NUMBER: _ClassVar[int]
    EXPIRATION_FIELD_NUMBER: _ClassVar[int]
    stanza_id: str
    participant: str
    quoted_message: Message
    remote_jid: str
    mentioned_jid: _containers.RepeatedScalarFieldContainer[str]
    forwarding_score: int
    is_forwarded: bool
    expiration: int
    def __init__(self, stanza_id: _Optional[str] = ..., participant: _Optional[str] = ..., quoted_message: _Optional[_Union[Message, _Mapping]] = ..., remote_jid: _Optional[str] = ..., mentioned_jid: _Optional[_Iterable[str]] = ..., forwarding_score: _Optional[int] = ..., is_forwarded: _Optional[bool] = ..., expiration: _Optional[int] = ...) -> None: ...

class MessageContextInfo(_message.Message):
    __slots__ = ("message_secret", "padding_bytes")
    MESSAGE_SECRET_FIELD_NUMBER: _ClassVar[int]
    PADDING_BYTES_FIELD_NUMBER: _ClassVar[int]
    message_secret: bytes
    padding_bytes: bytes
    def __init__(self, message_secret: _Optional[bytes] = ..., padding_bytes: _Optional[bytes] = ...) -> None: ...

class Message(_message.Message):
    __slots__ = ("conversation", "sender_key_distribution_message", "image_message", "extended_text_message", "protocol_message", "device_sent_message", "message_context_info", "view_once_message", "ephemeral_message", "reaction_message", "edited_message")
    class SenderKeyDistributionMessage(_message.Message):
        __slots__ = ("group_id", "axolotl_sender_key_distribution_message")
        GROUP_ID_FIELD_NUMBER: _ClassVar[int]
        AXOLOTL_SENDER_KEY_DISTRIBUTION_MESSAGE_FIELD_NUMBER: _ClassVar[int]
        group_id: str
        axolotl_sender_key_distribution_message: bytes
        def __init__(self, group_id: _Optional[str] = ..., axolotl_sender_key_distribution_message: _Optional[bytes] = ...) -> None: ...
    class ExtendedTextMessage(_message.Message):
        __slots__ = ("text", "matched_text", "canonical_url", "description", "title", "jpeg_thumbnail", "context_info")
        TEXT_FIELD_NUMBER: _ClassVar[int]
        MATCHED_TEXT_FIELD_NUMBER: _ClassVar[int]
        CANONICAL_URL_FIELD_NUMBER: _ClassVar[int]
        DESCRIPTION_FIELD_NUMBER: _ClassVar[int]
        TITLE_FIELD_NUMBER: _ClassVar[int]
        JPEG_THUMBNAIL_FIELD_NUMBER: _ClassVar[int]
        CONTEXT_INFO_FIELD_NUMBER: _ClassVar[int]
        text: str
        matched_text: str
        canonical_url: str
        description: str
        title: str
        jpeg_thumbnail: bytes
        context_info: ContextInfo
        def __init__(self, text: _Optional[str] = ..., matched_text: _Optional[str] = ..., canonical_url: _Optional[str] = ..., description: _Optional[str] = ..., title: _Optional[str] = ..., jpeg_thumbnail: _Optional[bytes] = ..., context_info: _Optional[_Union[ContextInfo, _Mapping]] = ...) -> None: ...
    class ImageMessage(_message.Message):
        __slots__ = ("url", "mimetype", "caption", "file_sha256", "file_length", "height", "width", "media_key", "file_enc_sha256", "direct_path", "media_key_timestamp", "jpeg_thumbnail", "context_info", "view_once")
        URL_FIELD_NUMBER: _ClassVar[int]
        MIMETYPE_FIELD_NUMBER: _ClassVar[int]
        CAPTION_FIELD_NUMBER: _ClassVar[int]
        FILE_SHA256_FIELD_NUMBER: _ClassVar[int]
        FILE_LENGTH_FIELD_NUMBER: _ClassVar[int]
        HEIGHT_FIELD_NUMBER: _ClassVar[int]
        WIDTH_FIELD_NUMBER: _ClassVar[int]
        MEDIA_KEY_FIELD_NUMBER: _ClassVar[int]
        FILE_ENC_SHA256_FIELD_NUMBER: _ClassVar[int]
        DIRECT_PATH_FIELD_NUMBER: _ClassVar[int]
        MEDIA_KEY_TIMESTAMP_FIELD_NUMBER: _ClassVar[int]
        JPEG_THUMBNAIL_FIELD_NUMBER: _ClassVar[int]
        CONTEXT_INFO_FIELD_NUMBER: _ClassVar[int]
        VIEW_ONCE_FIELD_NUMBER: _ClassVar[int]
        url: str
        mimetype: str
        caption: str
        file_sha256: bytes
        file_length: int
        height: int
        width: int
        media_key: bytes
        file_enc_sha256: bytes
        direct_path: str
        media_key_timestamp: int
        jpeg_thumbnail: bytes
        context_info: ContextInfo
        view_once: bool
        def __init__(self, url: _Optional[str] = ..., mimetype: _Optional[str] = ..., caption: _Optional[str] = ..., file_sha256: _Optional[bytes] = ..., file_length: _Optional[int] = ..., height: _Optional[int] = ..., width: _Optional[int] = ..., media_key: _Optional[bytes] = ..., file_enc_sha256: _Optional[bytes] = ..., direct_path: _Optional[str] = ..., media_key_timestamp: _Optional[int] = ..., jpeg_thumbnail: _Optional[bytes] = ..., context_info: _Optional[_Union[ContextInfo, _Mapping]] = ..., view_once: _Optional[bool] = ...) -> None: ...
    class ProtocolMessage(_message.Message):
        __slots__ = ("key", "type", "ephemeral_expiration", "ephemeral_setting_timestamp", "edited_message", "timestamp_ms")
        class Type(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
            __slots__ = ()
            REVOKE: _ClassVar[Message.ProtocolMessage.Type]
            EPHEMERAL_SETTING: _ClassVar[Message.ProtocolMessage.Type]
            EPHEMERAL_SYNC_RESPONSE: _ClassVar[Message.ProtocolMessage.Type]
            HISTORY_SYNC_NOTIFICATION: _ClassVar[Message.ProtocolMessage.Type]
            APP_STATE_SYNC_KEY_SHARE: _ClassVar[Message.ProtocolMessage.Type]
            APP_STATE_SYNC_KEY_REQUEST: _ClassVar[Message.ProtocolMessage.Type]
            MSG_FANOUT_BACKFILL_REQUEST: _ClassVar[Message.ProtocolMessage.Type]
            INITIAL_SECURITY_NOTIFICATION_SETTING_SYNC: _ClassVar[Message.ProtocolMessage.Type]
            APP_STATE_FATAL_EXCEPTION_NOTIFICATION: _ClassVar[Message.ProtocolMessage.Type]
            SHARE_PHONE_NUMBER: _ClassVar[Message.ProtocolMessage.Type]
            MESSAGE_EDIT: _ClassVar[Message.ProtocolMessage.Type]
        REVOKE: Message.ProtocolMessage.Type
        EPHEMERAL_SETTING: Message.ProtocolMessage.Type
        EPHEMERAL_SYNC_RESPONSE: Message.ProtocolMessage.Type
        HISTORY_SYNC_NOTIFICATION: Message.ProtocolMessage.Type
        APP_STATE_SYNC_KEY_SHARE: Message.ProtocolMessage.Type
        APP_STATE_SYNC_KEY_REQUEST: Message.ProtocolMessage.Type
        MSG_FANOUT_BACKFILL_REQUEST: Message.ProtocolMessage.Type
        INITIAL_SECURITY_NOTIFICATION_SETTING_SYNC: Message.ProtocolMessage.Type
        APP_STATE_FATAL_EXCEPTION_NOTIFICATION: Message.ProtocolMessage.Type
        SHARE_PHONE_NUMBER: Message.ProtocolMessage.Type
        MESSAGE_EDIT: Message.ProtocolMessage.Type
        KEY_FIELD_NUMBER: _ClassVar[int]
        TYPE_FIELD_NUMBER: _ClassVar[int]
        EPHEMERAL_EXPIRATION_FIELD_NUMBER: _ClassVar[int]
        EPHEMERAL_SETTING_TIMESTAMP_FIELD_NUMBER: _ClassVar[int]
        EDITED_MESSAGE_FIELD_NUMBER: _ClassVar[int]
        TIMESTAMP_MS_FIELD_NUMBER: _ClassVar[int]
        key: MessageKey
        type: Message.ProtocolMessage.Type
        ephemeral_expiration: int
        ephemeral_setting_timestamp: int
        edited_message: Message
        timestamp_ms: int
        def __init__(self, key: _Optional[_Union[MessageKey, _Mapping]] = ..., type: _Optional[_Union[Message.ProtocolMessage.Type, str]] = ..., ephemeral_expiration: _Optional[int] = ..., ephemeral_setting_timestamp: _Optional[int] = ..., edited_message: _Optional[_Union[Message, _Mapping]] = ..., timestamp_ms: _Optional[int] = ...) -> None: ...
    class DeviceSentMessage(_message.Message):
        __slots__ = ("destination_jid", "message", "phash")
        DESTINATION_JID_FIELD_NUMBER: _ClassVar[int]
        MESSAGE_FIELD_NUMBER: _ClassVar[int]
        PHASH_FIELD_NUMBER: _ClassVar[int]
        destination_jid: str
        message: Message
        phash: str
        def __init__(self, destination_jid: _Optional[str] = ..., message: _Optional[_Union[Message, _Mapping]] = ..., phash: _Optional[str] = ...) -> None: ...
    class ReactionMessage(_message.Message):
        __slots__ = ("key", "text", "grouping_key", "sender_timestamp_ms")
        KEY_FIELD_NUMBER: _ClassVar[int]
        TEXT_FIELD_NUMBER: _ClassVar[int]
        GROUPING_KEY_FIELD_NUMBER: _ClassVar[int]
        SENDER_TIMESTAMP_MS_FIELD_NUMBER: _ClassVar[int]
        key: MessageKey
        text: str
        grouping_key: str
        sender_timestamp_ms: int
        def __init__(self, key: _Optional[_Union[MessageKey, _Mapping]] = ..., text: _Optional[str] = ..., grouping_key: _Optional[str] = ..., sender_timestamp_ms: _Optional[int] = ...) -> None: ...
    class FutureProofMessage(_message.Message):
        __slots__ = ("message",)
        MESSAGE_FIELD_NUMBER: _ClassVar[int]
        message: Message
        def __init__(self, message: _Optional[_Union[Message, _Mapping]] = ...) -> None: ...
    CONVERSATION_FIELD_NUMBER: _ClassVar[int]
    SENDER_KEY_DISTRIBUTION_MESSAGE_FIELD_NUMBER: _ClassVar[int]
    IMAGE_MESSAGE_FIELD_NUMBER: _ClassVar[int]
    EXTENDED_TEXT_MESSAGE_FIELD_NUMBER: _ClassVar[int]
    PROTOCOL_MESSAGE_FIELD_NUMBER: _ClassVar[int]
    DEVICE_SENT_MESSAGE_FIELD_NUMBER: _ClassVar[int]
    MESSAGE_CONTEXT_INFO_FIELD_NUMBER: _ClassVar[int]
    VIEW_ONCE_MESSAGE_FIELD_NUMBER: _ClassVar[int]
    EPHEMERAL_MESSAGE_FIELD_NUMBER: _ClassVar[int]
    REACTION_MESSAGE_FIELD_NUMBER: _ClassVar[int]
    EDITED_MESSAGE_FIELD_NUMBER: _ClassVar[int]
    conversation: str
    sender_key_distribution_message: Message.SenderKeyDistributionMessage
    image_message: Message.ImageMessage
    extended_text_message: Message.ExtendedTextMessage
    protocol_message: Message.ProtocolMessage
    device_sent_message: Message.DeviceSentMessage
    message_context_info: MessageContextInfo
    view_once_message: Message.FutureProofMessage
    ephemeral_message: Message.FutureProofMessage
    reaction_message: Message.ReactionMessage
    edited_message: Message.FutureProofMessage
    def __init__(self, conversation: _Optional[str] = ..., sender_key_distribution_message: _Optional[_Union[Message.SenderKeyDistributionMessage, _Mapping]] = ..., image_message: _Optional[_Union[Message.ImageMessage, _Mapping]] = ..., extended_text_message: _Optional[_Union[Message.ExtendedTextMessage, _Mapping]] = ..., protocol_message: _Optional[_Union[Message.ProtocolMessage, _Mapping]] = ..., device_sent_message: _Optional[_Union[Message.DeviceSentMessage, _Mapping]] = ..., message_context_info: _Optional[_Union[MessageContextInfo, _Mapping]] = ..., view_once_message: _Optional[_Union[Message.FutureProofMessage, _Mapping]] = ..., ephemeral_message: _Optional[_Union[Message.FutureProofMessage, _Mapping]] = ..., reaction_message: _Optional[_Union[Message.ReactionMessage, _Mapping]] = ..., edited_message: _Optional[_Union[Message.FutureProofMessage, _Mapping]] = ...) -> None: ...
