"""An in-memory :class:`SignalStore`, for tests, benchmarks and throwaway clients.

Transactions keep an undo log: each write inside ``transaction()`` remembers the previous value
of the key it touches, and an exception unwinds the log, so a failed block leaves no trace.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from typing import Any

from .address import ProtocolAddress, SenderKeyName
from .keys import (
    IdentityKeyPair,
    KeyPair,
    PreKeyRecord,
    SignedPreKeyRecord,
    generate_registration_id,
)
from .store import SignalStore

_MISSING: Any = object()


class MemorySignalStore(SignalStore):
    """All state in dicts; see :mod:`.store` for the contract."""

    def __init__(
        self, identity: IdentityKeyPair | None = None, registration_id: int | None = None
    ) -> None:
        self.identity = identity or KeyPair.generate()
        self.registration_id = registration_id or generate_registration_id()
        self.identities: dict[str, bytes] = {}
        self.prekeys: dict[int, PreKeyRecord] = {}
        self.signed_prekeys: dict[int, SignedPreKeyRecord] = {}
        self.sessions: dict[str, bytes] = {}
        self.sender_keys: dict[str, bytes] = {}
        self._undo: list[tuple[dict[Any, Any], Any, Any]] | None = None

    def __repr__(self) -> str:
        return f"<MemorySignalStore sessions={len(self.sessions)} prekeys={len(self.prekeys)}>"

    def _set(self, table: dict[Any, Any], key: Any, value: Any) -> None:
        if self._undo is not None:
            self._undo.append((table, key, table.get(key, _MISSING)))
        if value is _MISSING:
            table.pop(key, None)
        else:
            table[key] = value

    def snapshot(self) -> dict[str, Any]:
        """A comparable copy of every table (tests use it to prove nothing changed)."""
        return {
            "identities": dict(self.identities),
            "prekeys": dict(self.prekeys),
            "signed_prekeys": dict(self.signed_prekeys),
            "sessions": dict(self.sessions),
            "sender_keys": dict(self.sender_keys),
        }

    def transaction(self) -> AbstractAsyncContextManager[None]:
        return self._transaction()

    @asynccontextmanager
    async def _transaction(self) -> AsyncIterator[None]:
        if self._undo is not None:  # nested: join the outer transaction
            yield
            return
        self._undo = []
        try:
            yield
        except BaseException:
            for table, key, old in reversed(self._undo):
                if old is _MISSING:
                    table.pop(key, None)
                else:
                    table[key] = old
            raise
        finally:
            self._undo = None

    async def get_identity_key_pair(self) -> IdentityKeyPair:
        return self.identity

    async def get_local_registration_id(self) -> int:
        return self.registration_id

    async def get_identity(self, address: ProtocolAddress) -> bytes | None:
        return self.identities.get(str(address))

    async def save_identity(self, address: ProtocolAddress, identity_key: bytes) -> bool:
        key = str(address)
        old = self.identities.get(key)
        self._set(self.identities, key, identity_key)
        return old is not None and old != identity_key

    async def delete_identity(self, address: ProtocolAddress) -> None:
        self._set(self.identities, str(address), _MISSING)

    async def load_prekey(self, prekey_id: int) -> PreKeyRecord | None:
        return self.prekeys.get(prekey_id)

    async def store_prekey(self, record: PreKeyRecord) -> None:
        self._set(self.prekeys, record.key_id, record)

    async def remove_prekey(self, prekey_id: int) -> None:
        self._set(self.prekeys, prekey_id, _MISSING)

    async def load_signed_prekey(self, signed_prekey_id: int) -> SignedPreKeyRecord | None:
        return self.signed_prekeys.get(signed_prekey_id)

    async def store_signed_prekey(self, record: SignedPreKeyRecord) -> None:
        self._set(self.signed_prekeys, record.key_id, record)

    async def remove_signed_prekey(self, signed_prekey_id: int) -> None:
        self._set(self.signed_prekeys, signed_prekey_id, _MISSING)

    async def load_session(self, address: ProtocolAddress) -> bytes | None:
        return self.sessions.get(str(address))

    async def store_session(self, address: ProtocolAddress, record: bytes) -> None:
        self._set(self.sessions, str(address), record)

    async def delete_session(self, address: ProtocolAddress) -> None:
        self._set(self.sessions, str(address), _MISSING)

    async def delete_all_sessions(self, name: str) -> None:
        prefix = name + "."
        doomed = [k for k in self.sessions if k.startswith(prefix) and k[len(prefix) :].isdigit()]
        for key in doomed:
            self._set(self.sessions, key, _MISSING)

    async def load_sender_key(self, name: SenderKeyName) -> bytes | None:
        return self.sender_keys.get(str(name))

    async def store_sender_key(self, name: SenderKeyName, record: bytes) -> None:
        self._set(self.sender_keys, str(name), record)

    async def delete_sender_key(self, name: SenderKeyName) -> None:
        self._set(self.sender_keys, str(name), _MISSING)
