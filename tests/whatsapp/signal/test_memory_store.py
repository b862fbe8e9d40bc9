"""The in-memory store meets the store contract."""

from mautrix_whatsapp_py.whatsapp.signal.memory_store import MemorySignalStore

from .store_conformance import run_store_conformance


async def test_memory_store_conformance() -> None:
    await run_store_conformance(MemorySignalStore())
