"""The engine's tests run against the test network; reuse its fixtures."""

from tests.testnet.conftest import admin, link_companion, pair_baileys, testnet

__all__ = ["admin", "link_companion", "pair_baileys", "testnet"]
