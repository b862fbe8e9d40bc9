"""The storage interface of the Signal layer, which SQL and in-memory stores implement.

One object, a :class:`SignalStore`, holds everything the Signal layer persists for ONE local
device (our identity key pair and registration id, remote identities, one-time prekeys, signed
prekeys, 1:1 sessions and group sender keys). A store instance is bound to one local device; a
SQL implementation scopes every row by its own device key (e.g. our JID) that this interface
does not see.

Contract for implementers
=========================

Values
------
* Session records and sender key records cross this boundary as opaque ``bytes`` produced by
  :meth:`SessionRecord.serialize` / :meth:`SenderKeyRecord.serialize` (versioned by their first
  byte). Store them verbatim (``BYTEA`` / ``BLOB``) and return them verbatim as ``bytes`` (not
  ``memoryview``/``bytearray``: convert with ``bytes(...)`` if the driver hands back another
  type); never parse them. The engine caches parsed records and reuses one only while the store
  returns bytes equal to those it last wrote, so returning what was stored is all it needs.
* Addresses are passed as :class:`ProtocolAddress` objects. Use ``str(address)`` (``"name.device"``)
  as the key, or ``address.name`` and ``address.device_id`` as two columns; both are fine as long
  as :meth:`delete_all_sessions` can find every device of one ``name``.
* Sender keys are keyed by :class:`SenderKeyName`: ``(name.group_id, str(name.sender))``.
* Identity keys are 33-byte public keys (``0x05`` prefix). Prekeys are :class:`PreKeyRecord` and
  :class:`SignedPreKeyRecord`; store ``key_id``, ``key_pair.private`` (32 bytes) and, for signed
  prekeys, ``signature`` (64 bytes) and ``timestamp``. ``key_pair.public`` may be stored too or
  recomputed with :meth:`KeyPair.from_private`.
* A ``load_*`` method returns ``None`` for a missing row; it never raises for absence.
  ``remove_*``/``delete_*`` of a missing row is a no-op, not an error. ``store_*`` is an upsert
  (insert or replace).

Transactions (atomicity of one decrypt)
---------------------------------------
A decrypt that fails must change NO stored state, and a decrypt that succeeds must persist the
new session, the consumed one-time prekey removal and the remote identity together. The engine
achieves this as follows:

1. it reads what it needs (``load_session``, ``load_prekey``, ``get_identity`` ...) with no
   transaction open, computes on private copies, and raises before step 2 on any failure;
2. on success only, it performs all writes inside ``async with store.transaction():``.

So :meth:`transaction` must return an async context manager such that every write method called
inside the block (by the same task) is applied all-or-nothing: if the block exits with an
exception, none of its writes are visible afterwards; if it exits normally, all of them are
committed before ``__aexit__`` returns. A SQL store maps this to one database transaction (e.g.
``async with conn.transaction()`` on a connection acquired for the block and used by the write
methods through a ``contextvars.ContextVar``). Reads inside the block must see the block's own
earlier writes (the natural behaviour of a DB transaction). The engine never nests
``transaction()`` blocks, but a nested call should simply join the outer transaction. Write
methods called outside any transaction apply immediately (autocommit).

Concurrency: the engine serialises operations on one address (and on one sender key name) with
its own locks, so the store needs no locking beyond what its database already gives. Different
addresses may be worked on concurrently from different tasks.

Identity changes
----------------
WhatsApp trusts every identity key (trust on first use, then always accept the new one), so there
is no ``is_trusted_identity``. :meth:`save_identity` returns ``True`` when it REPLACED a different,
previously stored key for that address, and ``False`` when there was none or the same one. The
cipher also compares before saving and reports ``identity_changed`` in its decrypt result, so the
client can emit an event.

Conformance
-----------
``tests/whatsapp/signal/store_conformance.py`` holds reusable async checks
(:func:`run_store_conformance`) that any implementation can be run against; the in-memory store
(:mod:`.memory_store`) passes them.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from contextlib import AbstractAsyncContextManager

from .address import ProtocolAddress, SenderKeyName
from .keys import IdentityKeyPair, PreKeyRecord, SignedPreKeyRecord


class IdentityKeyStore(ABC):
    """Our own identity and the identity keys of remote addresses."""

    @abstractmethod
    async def get_identity_key_pair(self) -> IdentityKeyPair:
        """Our long-term identity key pair. Always present for a set-up device."""

    @abstractmethod
    async def get_local_registration_id(self) -> int:
        """Our registration id (14-bit, 1..16380). Always present for a set-up device."""

    @abstractmethod
    async def get_identity(self, address: ProtocolAddress) -> bytes | None:
        """The stored 33-byte identity key of ``address``, or ``None``."""

    @abstractmethod
    async def save_identity(self, address: ProtocolAddress, identity_key: bytes) -> bool:
        """Store ``identity_key`` for ``address`` (upsert).

        Returns ``True`` iff a different key was stored before for this address (the identity
        changed), ``False`` if there was none or it was byte-identical.
        """

    @abstractmethod
    async def delete_identity(self, address: ProtocolAddress) -> None:
        """Forget the identity key of ``address`` (no-op if absent)."""


class PreKeyStore(ABC):
    """Our one-time prekeys."""

    @abstractmethod
    async def load_prekey(self, prekey_id: int) -> PreKeyRecord | None:
        """The one-time prekey with this id, or ``None`` if unknown or already consumed."""

    @abstractmethod
    async def store_prekey(self, record: PreKeyRecord) -> None:
        """Insert or replace one prekey (keyed by ``record.key_id``)."""

    @abstractmethod
    async def remove_prekey(self, prekey_id: int) -> None:
        """Delete one prekey after a prekey message consumed it (no-op if absent)."""


class SignedPreKeyStore(ABC):
    """Our signed prekeys (usually one current and a few older ones)."""

    @abstractmethod
    async def load_signed_prekey(self, signed_prekey_id: int) -> SignedPreKeyRecord | None:
        """The signed prekey with this id, or ``None``."""

    @abstractmethod
    async def store_signed_prekey(self, record: SignedPreKeyRecord) -> None:
        """Insert or replace one signed prekey (keyed by ``record.key_id``)."""

    @abstractmethod
    async def remove_signed_prekey(self, signed_prekey_id: int) -> None:
        """Delete one signed prekey (no-op if absent)."""


class SessionStore(ABC):
    """1:1 session records, one per remote device, as opaque serialized bytes."""

    @abstractmethod
    async def load_session(self, address: ProtocolAddress) -> bytes | None:
        """The serialized :class:`SessionRecord` for ``address``, or ``None``."""

    @abstractmethod
    async def store_session(self, address: ProtocolAddress, record: bytes) -> None:
        """Insert or replace the serialized session record of ``address``."""

    @abstractmethod
    async def delete_session(self, address: ProtocolAddress) -> None:
        """Delete the session record of ``address`` (no-op if absent)."""

    @abstractmethod
    async def delete_all_sessions(self, name: str) -> None:
        """Delete the session records of every device of user ``name``."""


class SenderKeyStore(ABC):
    """Group sender key records, one per (group, sender device), as opaque serialized bytes."""

    @abstractmethod
    async def load_sender_key(self, name: SenderKeyName) -> bytes | None:
        """The serialized :class:`SenderKeyRecord` for ``name``, or ``None``."""

    @abstractmethod
    async def store_sender_key(self, name: SenderKeyName, record: bytes) -> None:
        """Insert or replace the serialized sender key record of ``name``."""

    @abstractmethod
    async def delete_sender_key(self, name: SenderKeyName) -> None:
        """Delete the sender key record of ``name`` (no-op if absent)."""


class SignalStore(IdentityKeyStore, PreKeyStore, SignedPreKeyStore, SessionStore, SenderKeyStore):
    """Everything the Signal layer persists for one local device, plus transactions."""

    @abstractmethod
    def transaction(self) -> AbstractAsyncContextManager[None]:
        """An async context manager making the writes inside it atomic (see module docstring)."""
