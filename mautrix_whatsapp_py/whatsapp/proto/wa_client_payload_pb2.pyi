from google.protobuf.internal import enum_type_wrapper as _enum_type_wrapper
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class ClientPayload(_message.Message):
    __slots__ = ("username", "passive", "user_agent", "web_info", "push_name", "session_id", "short_connect", "connect_type", "connect_reason", "connect_attempt_count", "device", "device_pairing_data", "product", "oc", "lc", "pull")
    class ConnectType(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
        __slots__ = ()
        CELLULAR_UNKNOWN: _ClassVar[ClientPayload.ConnectType]
        WIFI_UNKNOWN: _ClassVar[ClientPayload.ConnectType]
    CELLULAR_UNKNOWN: ClientPayload.ConnectType
    WIFI_UNKNOWN: ClientPayload.ConnectType
    class ConnectReason(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
        __slots__ = ()
        PUSH: _ClassVar[ClientPayload.ConnectReason]
        USER_ACTIVATED: _ClassVar[ClientPayload.ConnectReason]
        SCHEDULED: _ClassVar[ClientPayload.ConnectReason]
        ERROR_RECONNECT: _ClassVar[ClientPayload.ConnectReason]
        NETWORK_SWITCH: _ClassVar[ClientPayload.ConnectReason]
        PING_RECONNECT: _ClassVar[ClientPayload.ConnectReason]
        UNKNOWN: _ClassVar[ClientPayload.ConnectReason]
    PUSH: ClientPayload.ConnectReason
    USER_ACTIVATED: ClientPayload.ConnectReason
    SCHEDULED: ClientPayload.ConnectReason
    ERROR_RECONNECT: ClientPayload.ConnectReason
    NETWORK_SWITCH: ClientPayload.ConnectReason
    PING_RECONNECT: ClientPayload.ConnectReason
    UNKNOWN: ClientPayload.ConnectReason
    class Product(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
        __slots__ = ()
        WHATSAPP: _ClassVar[ClientPayload.Product]
        MESSENGER: _ClassVar[ClientPayload.Product]
    WHATSAPP: ClientPayload.Product
    MESSENGER: ClientPayload.Product
    class UserAgent(_message.Message):
        __slots__ = ("platform", "app_version", "mcc", "mnc", "os_version", "manufacturer", "device", "os_build_number", "release_channel", "locale_language_iso_639_1", "locale_country_iso_3166_1_alpha_2")
        class Platform(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
            __slots__ = ()
            ANDROID: _ClassVar[ClientPayload.UserAgent.Platform]
            IOS: _ClassVar[ClientPayload.UserAgent.Platform]
            WEB: _ClassVar[ClientPayload.UserAgent.Platform]
            MACOS: _ClassVar[ClientPayload.UserAgent.Platform]
        ANDROID: ClientPayload.UserAgent.Platform
        IOS: ClientPayload.UserAgent.Platform
        WEB: ClientPayload.UserAgent.Platform
        MACOS: ClientPayload.UserAgent.Platform
        class ReleaseChannel(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
            __slots__ = ()
            RELEASE: _ClassVar[ClientPayload.UserAgent.ReleaseChannel]
            BETA: _ClassVar[ClientPayload.UserAgent.ReleaseChannel]
            ALPHA: _ClassVar[ClientPayload.UserAgent.ReleaseChannel]
            DEBUG: _ClassVar[ClientPayload.UserAgent.ReleaseChannel]
        RELEASE: ClientPayload.UserAgent.ReleaseChannel
        BETA: ClientPayload.UserAgent.ReleaseChannel
        ALPHA: ClientPayload.UserAgent.ReleaseChannel
        DEBUG: ClientPayload.UserAgent.ReleaseChannel
        class AppVersion(_message.Message):
            __slots__ = ("primary", "secondary", "tertiary", "quaternary", "quinary")
            PRIMARY_FIELD_NUMBER: _ClassVar[int]
            SECONDARY_FIELD_NUMBER: _ClassVar[int]
            TERTIARY_FIELD_NUMBER: _ClassVar[int]
            QUATERNARY_FIELD_NUMBER: _ClassVar[int]
            QUINARY_FIELD_NUMBER: _ClassVar[int]
            primary: int
            secondary: int
            tertiary: int
            quaternary: int
            quinary: int
            def __init__(self, primary: _Optional[int] = ..., secondary: _Optional[int] = ..., tertiary: _Optional[int] = ..., quaternary: _Optional[int] = ..., quinary: _Optional[int] = ...) -> None: ...
        PLATFORM_FIELD_NUMBER: _ClassVar[int]
        APP_VERSION_FIELD_NUMBER: _ClassVar[int]
        MCC_FIELD_NUMBER: _ClassVar[int]
        MNC_FIELD_NUMBER: _ClassVar[int]
        OS_VERSION_FIELD_NUMBER: _ClassVar[int]
        MANUFACTURER_FIELD_NUMBER: _ClassVar[int]
        DEVICE_FIELD_NUMBER: _ClassVar[int]
        OS_BUILD_NUMBER_FIELD_NUMBER: _ClassVar[int]
        RELEASE_CHANNEL_FIELD_NUMBER: _ClassVar[int]
        LOCALE_LANGUAGE_ISO_639_1_FIELD_NUMBER: _ClassVar[int]
        LOCALE_COUNTRY_ISO_3166_1_ALPHA_2_FIELD_NUMBER: _ClassVar[int]
        platform: ClientPayload.UserAgent.Platform
        app_version: ClientPayload.UserAgent.AppVersion
        mcc: str
        mnc: str
        os_version: str
        manufacturer: str
        device: str
        os_build_number: str
        release_channel: ClientPayload.UserAgent.ReleaseChannel
        locale_language_iso_639_1: str
        locale_country_iso_3166_1_alpha_2: str
        def __init__(self, platform: _Optional[_Union[ClientPayload.UserAgent.Platform, str]] = ..., app_version: _Optional[_Union[ClientPayload.UserAgent.AppVersion, _Mapping]] = ..., mcc: _Optional[str] = ..., mnc: _Optional[str] = ..., os_version: _Optional[str] = ..., manufacturer: _Optional[str] = ..., device: _Optional[str] = ..., os_build_number: _Optional[str] = ..., release_channel: _Optional[_Union[ClientPayload.UserAgent.ReleaseChannel, str]] = ..., locale_language_iso_639_1: _Optional[str] = ..., locale_country_iso_3166_1_alpha_2: _Optional[str] = ...) -> None: ...
    class WebInfo(_message.Message):
        __slots__ = ("ref_token", "version", "web_sub_platform")
        class WebSubPlatform(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
            __slots__ = ()
            WEB_BROWSER: _ClassVar[ClientPayload.WebInfo.WebSubPlatform]
            APP_STORE: _ClassVar[ClientPayload.WebInfo.WebSubPlatform]
            WIN_STORE: _ClassVar[ClientPayload.WebInfo.WebSubPlatform]
            DARWIN: _ClassVar[ClientPayload.WebInfo.WebSubPlatform]
            WIN32: _ClassVar[ClientPayload.WebInfo.WebSubPlatform]
        WEB_BROWSER: ClientPayload.WebInfo.WebSubPlatform
        APP_STORE: ClientPayload.WebInfo.WebSubPlatform
        WIN_STORE: ClientPayload.WebInfo.WebSubPlatform
        DARWIN: ClientPayload.WebInfo.WebSubPlatform
        WIN32: ClientPayload.WebInfo.WebSubPlatform
        REF_TOKEN_FIELD_NUMBER: _ClassVar[int]
        VERSION_FIELD_NUMBER: _ClassVar[int]
        WEB_SUB_PLATFORM_FIELD_NUMBER: _ClassVar[int]
        ref_token: str
        version: str
        web_sub_platform: ClientPayload.WebInfo.WebSubPlatform
        def __init__(self, ref_token: _Optional[str] = ..., version: _Optional[str] = ..., web_sub_platform: _Optional[_Union[ClientPayload.WebInfo.WebSubPlatform, str]] = ...) -> None: ...
    class DevicePairingRegistrationData(_message.Message):
        __slots__ = ("e_regid", "e_keytype", "e_ident", "e_skey_id", "e_skey_val", "e_skey_sig", "build_hash", "device_props")
        E_REGID_FIELD_NUMBER: _ClassVar[int]
        E_KEYTYPE_FIELD_NUMBER: _ClassVar[int]
        E_IDENT_FIELD_NUMBER: _ClassVar[int]
        E_SKEY_ID_FIELD_NUMBER: _ClassVar[int]
        E_SKEY_VAL_FIELD_NUMBER: _ClassVar[int]
        E_SKEY_SIG_FIELD_NUMBER: _ClassVar[int]
        BUILD_HASH_FIELD_NUMBER: _ClassVar[int]
        DEVICE_PROPS_FIELD_NUMBER: _ClassVar[int]
        e_regid: bytes
        e_keytype: bytes
        e_ident: bytes
        e_skey_id: bytes
        e_skey_val: bytes
        e_skey_sig: bytes
        build_hash: bytes
        device_props: bytes
        def __init__(self, e_regid: _Optional[bytes] = ..., e_keytype: _Optional[bytes] = ..., e_ident: _Optional[bytes] = ..., e_skey_id: _Optional[bytes] = ..., e_skey_val: _Optional[bytes] = ..., e_skey_sig: _Optional[bytes] = ..., build_hash: _Optional[bytes] = ..., device_props: _Optional[bytes] = ...) -> None: ...
    USERNAME_FIELD_NUMBER: _ClassVar[int]
    PASSIVE_FIELD_NUMBER: _ClassVar[int]
    USER_AGENT_FIELD_NUMBER: _ClassVar[int]
    WEB_INFO_FIELD_NUMBER: _ClassVar[int]
    PUSH_NAME_FIELD_NUMBER: _ClassVar[int]
    SESSION_ID_FIELD_NUMBER: _ClassVar[int]
    SHORT_CONNECT_FIELD_NUMBER: _ClassVar[int]
    CONNECT_TYPE_FIELD_NUMBER: _ClassVar[int]
    CONNECT_REASON_FIELD_NUMBER: _ClassVar[int]
    CONNECT_ATTEMPT_COUNT_FIELD_NUMBER: _ClassVar[int]
    DEVICE_FIELD_NUMBER: _ClassVar[int]
    DEVICE_PAIRING_DATA_FIELD_NUMBER: _ClassVar[int]
    PRODUCT_FIELD_NUMBER: _ClassVar[int]
    OC_FIELD_NUMBER: _ClassVar[int]
    LC_FIELD_NUMBER: _ClassVar[int]
    PULL_FIELD_NUMBER: _ClassVar[int]
    username: int
    passive: bool
    user_agent: ClientPayload.UserAgent
    web_info: ClientPayload.WebInfo
    push_name: str
    session_id: int
    short_connect: bool
    connect_type: ClientPayload.ConnectType
    connect_reason: ClientPayload.ConnectReason
    connect_attempt_count: int
    device: int
    device_pairing_data: ClientPayload.DevicePairingRegistrationData
    product: ClientPayload.Product
    oc: bool
    lc: int
    pull: bool
    def __init__(self, username: _Optional[int] = ..., passive: _Optional[bool] = ..., user_agent: _Optional[_Union[ClientPayload.UserAgent, _Mapping]] = ..., web_info: _Optional[_Union[ClientPayload.WebInfo, _Mapping]] = ..., push_name: _Optional[str] = ..., session_id: _Optional[int] = ..., short_connect: _Optional[bool] = ..., connect_type: _Optional[_Union[ClientPayload.ConnectType, str]] = ..., connect_reason: _Optional[_Union[ClientPayload.ConnectReason, str]] = ..., connect_attempt_count: _Optional[int] = ..., device: _Optional[int] = ..., device_pairing_data: _Optional[_Union[ClientPayload.DevicePairingRegistrationData, _Mapping]] = ..., product: _Optional[_Union[ClientPayload.Product, str]] = ..., oc: _Optional[bool] = ..., lc: _Optional[int] = ..., pull: _Optional[bool] = ...) -> None: ...

class DeviceProps(_message.Message):
    __slots__ = ("os", "version", "platform_type", "require_full_sync", "history_sync_config")
    class PlatformType(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
        __slots__ = ()
        UNKNOWN: _ClassVar[DeviceProps.PlatformType]
        CHROME: _ClassVar[DeviceProps.PlatformType]
        FIREFOX: _ClassVar[DeviceProps.PlatformType]
        SAFARI: _ClassVar[DeviceProps.PlatformType]
        EDGE: _ClassVar[DeviceProps.PlatformType]
        DESKTOP: _ClassVar[DeviceProps.PlatformType]
    UNKNOWN: DeviceProps.PlatformType
    CHROME: DeviceProps.PlatformType
    FIREFOX: DeviceProps.PlatformType
    SAFARI: DeviceProps.PlatformType
    EDGE: DeviceProps.PlatformType
    DESKTOP: DeviceProps.PlatformType
    class AppVersion(_message.Message):
        __slots__ = ("primary", "secondary", "tertiary", "quaternary", "quinary")
        PRIMARY_FIELD_NUMBER: _ClassVar[int]
        SECONDARY_FIELD_NUMBER: _ClassVar[int]
        TERTIARY_FIELD_NUMBER: _ClassVar[int]
        QUATERNARY_FIELD_NUMBER: _ClassVar[int]
        QUINARY_FIELD_NUMBER: _ClassVar[int]
        primary: int
        secondary: int
        tertiary: int
        quaternary: int
        quinary: int
        def __init__(self, primary: _Optional[int] = ..., secondary: _Optional[int] = ..., tertiary: _Optional[int] = ..., quaternary: _Optional[int] = ..., quinary: _Optional[int] = ...) -> None: ...
    class HistorySyncConfig(_message.Message):
        __slots__ = ("full_sync_days_limit", "full_sync_size_mb_limit", "storage_quota_mb", "inline_initial_payload_in_e2ee_msg", "recent_sync_days_limit")
        FULL_SYNC_DAYS_LIMIT_FIELD_NUMBER: _ClassVar[int]
        FULL_SYNC_SIZE_MB_LIMIT_FIELD_NUMBER: _ClassVar[int]
        STORAGE_QUOTA_MB_FIELD_NUMBER: _ClassVar[int]
        INLINE_INITIAL_PAYLOAD_IN_E2EE_MSG_FIELD_NUMBER: _ClassVar[int]
        RECENT_SYNC_DAYS_LIMIT_FIELD_NUMBER: _ClassVar[int]
        full_sync_days_limit: int
        full_sync_size_mb_limit: int
        storage_quota_mb: int
        inline_initial_payload_in_e2ee_msg: bool
        recent_sync_days_limit: int
        def __init__(self, full_sync_days_limit: _Optional[int] = ..., full_sync_size_mb_limit: _Optional[int] = ..., storage_quota_mb: _Optional[int] = ..., inline_initial_payload_in_e2ee_msg: _Optional[bool] = ..., recent_sync_days_limit: _Optional[int] = ...) -> None: ...
    OS_FIELD_NUMBER: _ClassVar[int]
    VERSION_FIELD_NUMBER: _ClassVar[int]
    PLATFORM_TYPE_FIELD_NUMBER: _ClassVar[int]
    REQUIRE_FULL_SYNC_FIELD_NUMBER: _ClassVar[int]
    HISTORY_SYNC_CONFIG_FIELD_NUMBER: _ClassVar[int]
    os: str
    version: DeviceProps.AppVersion
    platform_type: DeviceProps.PlatformType
    require_full_sync: bool
    history_sync_config: DeviceProps.HistorySyncConfig
    def __init__(self, os: _Optional[str] = ..., version: _Optional[_Union[DeviceProps.AppVersion, _Mapping]] = ..., platform_type: _Optional[_Union[DeviceProps.PlatformType, str]] = ..., require_full_sync: _Optional[bool] = ..., history_sync_config: _Optional[_Union[DeviceProps.HistorySyncConfig, _Mapping]] = ...) -> None: ...
