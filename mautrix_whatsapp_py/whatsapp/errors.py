"""Errors of the client engine that its modules share (the client, sending, prekeys ...)."""

from __future__ import annotations

from .binary import Node


class IQError(Exception):
    """The server answered a query with an error."""

    def __init__(self, code: int, text: str, node: Node) -> None:
        super().__init__(f"{code} {text}")
        self.code = code
        self.text = text
        self.node = node


class NotConnectedError(RuntimeError):
    """There is no logged-in connection to send on."""
