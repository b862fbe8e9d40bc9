"""The engine's tests run against the test network; reuse its fixtures."""

from tests.testnet.conftest import admin, pair_baileys, testnet

__all__ = ["admin", "pair_baileys", "testnet"]
