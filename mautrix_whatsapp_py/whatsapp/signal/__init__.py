"""The Signal protocol as WhatsApp speaks it: X3DH, the Double Ratchet and sender keys.

Pure computation over bytes lives in :mod:`.keys`, :mod:`.kdf`, :mod:`.wire`, :mod:`.ratchet`,
:mod:`.session`, :mod:`.sender_key` and :mod:`.padding`; :mod:`.cipher`, :mod:`.builder` and
:mod:`.group` are thin async layers that load from and save to a :class:`.store.SignalStore`.
"""

from .address import ProtocolAddress, SenderKeyName
from .cipher import DecryptResult, EncryptResult, SessionCipher
from .errors import SignalError
from .group import GroupCipher, GroupSessionBuilder
from .keys import IdentityKeyPair, KeyPair, PreKeyBundle, PreKeyRecord, SignedPreKeyRecord
from .memory_store import MemorySignalStore
from .store import SignalStore

__all__ = [
    "DecryptResult",
    "EncryptResult",
    "GroupCipher",
    "GroupSessionBuilder",
    "IdentityKeyPair",
    "KeyPair",
    "MemorySignalStore",
    "PreKeyBundle",
    "PreKeyRecord",
    "ProtocolAddress",
    "SenderKeyName",
    "SessionCipher",
    "SignalError",
    "SignalStore",
    "SignedPreKeyRecord",
]
