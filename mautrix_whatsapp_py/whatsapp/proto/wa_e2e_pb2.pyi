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
        __slots__ = ("key", "type", "ephemeral_expiration", "ephemeral_setting_timestamp", "history_sync_notification", "app_state_sync_key_share", "edited_message", "timestamp_ms")
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
        HISTORY_SYNC_NOTIFICATION_FIELD_NUMBER: _ClassVar[int]
        APP_STATE_SYNC_KEY_SHARE_FIELD_NUMBER: _ClassVar[int]
        EDITED_MESSAGE_FIELD_NUMBER: _ClassVar[int]
        TIMESTAMP_MS_FIELD_NUMBER: _ClassVar[int]
        key: MessageKey
        type: Message.ProtocolMessage.Type
        ephemeral_expiration: int
        ephemeral_setting_timestamp: int
        history_sync_notification: Message.HistorySyncNotification
        app_state_sync_key_share: Message.AppStateSyncKeyShare
        edited_message: Message
        timestamp_ms: int
        def __init__(self, key: _Optional[_Union[MessageKey, _Mapping]] = ..., type: _Optional[_Union[Message.ProtocolMessage.Type, str]] = ..., ephemeral_expiration: _Optional[int] = ..., ephemeral_setting_timestamp: _Optional[int] = ..., history_sync_notification: _Optional[_Union[Message.HistorySyncNotification, _Mapping]] = ..., app_state_sync_key_share: _Optional[_Union[Message.AppStateSyncKeyShare, _Mapping]] = ..., edited_message: _Optional[_Union[Message, _Mapping]] = ..., timestamp_ms: _Optional[int] = ...) -> None: ...
    class HistorySyncNotification(_message.Message):
        __slots__ = ("file_sha256", "file_length", "media_key", "file_enc_sha256", "direct_path", "sync_type", "chunk_order", "original_message_id", "progress")
        FILE_SHA256_FIELD_NUMBER: _ClassVar[int]
        FILE_LENGTH_FIELD_NUMBER: _ClassVar[int]
        MEDIA_KEY_FIELD_NUMBER: _ClassVar[int]
        FILE_ENC_SHA256_FIELD_NUMBER: _ClassVar[int]
        DIRECT_PATH_FIELD_NUMBER: _ClassVar[int]
        SYNC_TYPE_FIELD_NUMBER: _ClassVar[int]
        CHUNK_ORDER_FIELD_NUMBER: _ClassVar[int]
        ORIGINAL_MESSAGE_ID_FIELD_NUMBER: _ClassVar[int]
        PROGRESS_FIELD_NUMBER: _ClassVar[int]
        file_sha256: bytes
        file_length: int
        media_key: bytes
        file_enc_sha256: bytes
        direct_path: str
        sync_type: HistorySync.HistorySyncType
        chunk_order: int
        original_message_id: str
        progress: int
        def __init__(self, file_sha256: _Optional[bytes] = ..., file_length: _Optional[int] = ..., media_key: _Optional[bytes] = ..., file_enc_sha256: _Optional[bytes] = ..., direct_path: _Optional[str] = ..., sync_type: _Optional[_Union[HistorySync.HistorySyncType, str]] = ..., chunk_order: _Optional[int] = ..., original_message_id: _Optional[str] = ..., progress: _Optional[int] = ...) -> None: ...
    class AppStateSyncKeyId(_message.Message):
        __slots__ = ("key_id",)
        KEY_ID_FIELD_NUMBER: _ClassVar[int]
        key_id: bytes
        def __init__(self, key_id: _Optional[bytes] = ...) -> None: ...
    class AppStateSyncKeyFingerprint(_message.Message):
        __slots__ = ("raw_id", "current_index", "device_indexes")
        RAW_ID_FIELD_NUMBER: _ClassVar[int]
        CURRENT_INDEX_FIELD_NUMBER: _ClassVar[int]
        DEVICE_INDEXES_FIELD_NUMBER: _ClassVar[int]
        raw_id: int
        current_index: int
        device_indexes: _containers.RepeatedScalarFieldContainer[int]
        def __init__(self, raw_id: _Optional[int] = ..., current_index: _Optional[int] = ..., device_indexes: _Optional[_Iterable[int]] = ...) -> None: ...
    class AppStateSyncKeyData(_message.Message):
        __slots__ = ("key_data", "fingerprint", "timestamp")
        KEY_DATA_FIELD_NUMBER: _ClassVar[int]
        FINGERPRINT_FIELD_NUMBER: _ClassVar[int]
        TIMESTAMP_FIELD_NUMBER: _ClassVar[int]
        key_data: bytes
        fingerprint: Message.AppStateSyncKeyFingerprint
        timestamp: int
        def __init__(self, key_data: _Optional[bytes] = ..., fingerprint: _Optional[_Union[Message.AppStateSyncKeyFingerprint, _Mapping]] = ..., timestamp: _Optional[int] = ...) -> None: ...
    class AppStateSyncKey(_message.Message):
        __slots__ = ("key_id", "key_data")
        KEY_ID_FIELD_NUMBER: _ClassVar[int]
        KEY_DATA_FIELD_NUMBER: _ClassVar[int]
        key_id: Message.AppStateSyncKeyId
        key_data: Message.AppStateSyncKeyData
        def __init__(self, key_id: _Optional[_Union[Message.AppStateSyncKeyId, _Mapping]] = ..., key_data: _Optional[_Union[Message.AppStateSyncKeyData, _Mapping]] = ...) -> None: ...
    class AppStateSyncKeyShare(_message.Message):
        __slots__ = ("keys",)
        KEYS_FIELD_NUMBER: _ClassVar[int]
        keys: _containers.RepeatedCompositeFieldContainer[Message.AppStateSyncKey]
        def __init__(self, keys: _Optional[_Iterable[_Union[Message.AppStateSyncKey, _Mapping]]] = ...) -> None: ...
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

class WebMessageInfo(_message.Message):
    __slots__ = ("key", "message", "message_timestamp", "status", "participant", "push_name")
    KEY_FIELD_NUMBER: _ClassVar[int]
    MESSAGE_FIELD_NUMBER: _ClassVar[int]
    MESSAGE_TIMESTAMP_FIELD_NUMBER: _ClassVar[int]
    STATUS_FIELD_NUMBER: _ClassVar[int]
    PARTICIPANT_FIELD_NUMBER: _ClassVar[int]
    PUSH_NAME_FIELD_NUMBER: _ClassVar[int]
    key: MessageKey
    message: Message
    message_timestamp: int
    status: int
    participant: str
    push_name: str
    def __init__(self, key: _Optional[_Union[MessageKey, _Mapping]] = ..., message: _Optional[_Union[Message, _Mapping]] = ..., message_timestamp: _Optional[int] = ..., status: _Optional[int] = ..., participant: _Optional[str] = ..., push_name: _Optional[str] = ...) -> None: ...

class HistorySyncMsg(_message.Message):
    __slots__ = ("message", "msg_order_id")
    MESSAGE_FIELD_NUMBER: _ClassVar[int]
    MSG_ORDER_ID_FIELD_NUMBER: _ClassVar[int]
    message: WebMessageInfo
    msg_order_id: int
    def __init__(self, message: _Optional[_Union[WebMessageInfo, _Mapping]] = ..., msg_order_id: _Optional[int] = ...) -> None: ...

class Conversation(_message.Message):
    __slots__ = ("id", "messages", "last_msg_timestamp", "unread_count", "conversation_timestamp", "name")
    ID_FIELD_NUMBER: _ClassVar[int]
    MESSAGES_FIELD_NUMBER: _ClassVar[int]
    LAST_MSG_TIMESTAMP_FIELD_NUMBER: _ClassVar[int]
    UNREAD_COUNT_FIELD_NUMBER: _ClassVar[int]
    CONVERSATION_TIMESTAMP_FIELD_NUMBER: _ClassVar[int]
    NAME_FIELD_NUMBER: _ClassVar[int]
    id: str
    messages: _containers.RepeatedCompositeFieldContainer[HistorySyncMsg]
    last_msg_timestamp: int
    unread_count: int
    conversation_timestamp: int
    name: str
    def __init__(self, id: _Optional[str] = ..., messages: _Optional[_Iterable[_Union[HistorySyncMsg, _Mapping]]] = ..., last_msg_timestamp: _Optional[int] = ..., unread_count: _Optional[int] = ..., conversation_timestamp: _Optional[int] = ..., name: _Optional[str] = ...) -> None: ...

class Pushname(_message.Message):
    __slots__ = ("id", "pushname")
    ID_FIELD_NUMBER: _ClassVar[int]
    PUSHNAME_FIELD_NUMBER: _ClassVar[int]
    id: str
    pushname: str
    def __init__(self, id: _Optional[str] = ..., pushname: _Optional[str] = ...) -> None: ...

class HistorySync(_message.Message):
    __slots__ = ("sync_type", "conversations", "chunk_order", "progress", "pushnames")
    class HistorySyncType(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
        __slots__ = ()
        INITIAL_BOOTSTRAP: _ClassVar[HistorySync.HistorySyncType]
        INITIAL_STATUS_V3: _ClassVar[HistorySync.HistorySyncType]
        FULL: _ClassVar[HistorySync.HistorySyncType]
        RECENT: _ClassVar[HistorySync.HistorySyncType]
        PUSH_NAME: _ClassVar[HistorySync.HistorySyncType]
        NON_BLOCKING_DATA: _ClassVar[HistorySync.HistorySyncType]
        ON_DEMAND: _ClassVar[HistorySync.HistorySyncType]
    INITIAL_BOOTSTRAP: HistorySync.HistorySyncType
    INITIAL_STATUS_V3: HistorySync.HistorySyncType
    FULL: HistorySync.HistorySyncType
    RECENT: HistorySync.HistorySyncType
    PUSH_NAME: HistorySync.HistorySyncType
    NON_BLOCKING_DATA: HistorySync.HistorySyncType
    ON_DEMAND: HistorySync.HistorySyncType
    SYNC_TYPE_FIELD_NUMBER: _ClassVar[int]
    CONVERSATIONS_FIELD_NUMBER: _ClassVar[int]
    CHUNK_ORDER_FIELD_NUMBER: _ClassVar[int]
    PROGRESS_FIELD_NUMBER: _ClassVar[int]
    PUSHNAMES_FIELD_NUMBER: _ClassVar[int]
    sync_type: HistorySync.HistorySyncType
    conversations: _containers.RepeatedCompositeFieldContainer[Conversation]
    chunk_order: int
    progress: int
    pushnames: _containers.RepeatedCompositeFieldContainer[Pushname]
    def __init__(self, sync_type: _Optional[_Union[HistorySync.HistorySyncType, str]] = ..., conversations: _Optional[_Iterable[_Union[Conversation, _Mapping]]] = ..., chunk_order: _Optional[int] = ..., progress: _Optional[int] = ..., pushnames: _Optional[_Iterable[_Union[Pushname, _Mapping]]] = ...) -> None: ...
