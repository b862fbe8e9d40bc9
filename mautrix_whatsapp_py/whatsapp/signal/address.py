"""Signal protocol addresses: one device of one user, and a group sender.

A :class:`ProtocolAddress` is written ``name.device`` (the form libsignal uses as a store key);
a :class:`SenderKeyName` is a (group, sender address) pair naming one sender key record.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class ProtocolAddress:
    """One device of one user: ``name`` is the user part, ``device_id`` the device number."""

    name: str
    device_id: int

    def __str__(self) -> str:
        return f"{self.name}.{self.device_id}"

    @classmethod
    def parse(cls, value: str) -> ProtocolAddress:
        """Parse the ``name.device`` form produced by :meth:`__str__`."""
        name, sep, device = value.rpartition(".")
        if not sep or not name or not device.isdigit():
            raise ValueError(f"not a protocol address: {value!r}")
        return cls(name, int(device))


@dataclass(frozen=True, slots=True)
class SenderKeyName:
    """The sender key of ``sender`` in group ``group_id``."""

    group_id: str
    sender: ProtocolAddress

    def __str__(self) -> str:
        return f"{self.group_id}::{self.sender}"
