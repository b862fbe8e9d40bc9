"""Per-address locks: operations on one session (or one sender key) of one store run one at a time.

Two concurrent decrypts for the same device must not both start from the same stored record, or
one's update would overwrite the other's. Entries live only while a task holds or awaits them.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable

# (id(store), key) -> [lock, number of tasks holding or waiting for it]
_locks: dict[tuple[int, str], list[asyncio.Lock | int]] = {}


class address_lock:
    """Hold the lock of ``key`` in ``store``; call ``on_error`` if the block raises."""

    __slots__ = ("_entry", "_key", "_on_error")

    def __init__(self, store: object, key: str, on_error: Callable[[], None] | None = None) -> None:
        self._key = (id(store), key)
        self._on_error = on_error

    async def __aenter__(self) -> None:
        entry = _locks.get(self._key)
        if entry is None:
            entry = _locks[self._key] = [asyncio.Lock(), 0]
        entry[1] += 1  # type: ignore[operator]
        self._entry = entry
        try:
            await entry[0].acquire()  # type: ignore[union-attr]
        except BaseException:
            self._leave()
            raise

    async def __aexit__(self, exc_type: type[BaseException] | None, *exc: object) -> None:
        if exc_type is not None and self._on_error is not None:
            self._on_error()
        self._entry[0].release()  # type: ignore[union-attr]
        self._leave()

    def _leave(self) -> None:
        self._entry[1] -= 1  # type: ignore[operator]
        if self._entry[1] == 0:
            del _locks[self._key]
