"""Finding a message's key on a symmetric-key chain, for the Double Ratchet and sender keys alike.

Both chains derive one message seed per position with :func:`.kdf.chain_step`. A message ahead
of the chain makes us step over the positions in between, whose seeds are kept for messages that
arrive late; a message behind the chain can only use such a kept seed. Nothing is changed until
the caller has verified the message: :func:`seek` only computes, :func:`keep` commits.
"""

from __future__ import annotations

from dataclasses import dataclass

from .errors import DuplicateMessageError, TooFarInFutureError
from .kdf import chain_step


@dataclass(slots=True)
class Seek:
    """Where a message sits on a chain, and what reaching it would change."""

    seed: bytes
    position: int
    #: The chain key after the message; ``None`` when the seed was a kept (skipped) one and the
    #: chain itself does not move.
    next_chain_key: bytes | None
    #: Seeds of the positions stepped over, oldest first.
    skipped: list[tuple[int, bytes]]


def seek(
    chain_key: bytes,
    chain_position: int,
    position: int,
    skipped: dict[int, bytes],
    max_jump: int,
    what: str,
) -> Seek:
    """The seed for ``position`` on a chain now at ``chain_position``, changing nothing.

    ``what`` names the position in errors ("message counter", "sender key iteration").
    """
    if position < chain_position:
        seed = skipped.get(position)
        if seed is None:
            raise DuplicateMessageError(f"{what} {position} was already used")
        return Seek(seed, position, None, [])
    if position - chain_position > max_jump:
        raise TooFarInFutureError(
            f"{what} {position} is over {max_jump} messages ahead of {chain_position}"
        )
    stepped: list[tuple[int, bytes]] = []
    key = chain_key
    for index in range(chain_position, position):
        skipped_seed, key = chain_step(key)
        stepped.append((index, skipped_seed))
    seed, key = chain_step(key)
    return Seek(seed, position, key, stepped)


def keep(skipped: dict[int, bytes], found: Seek, max_skipped: int) -> None:
    """Commit a verified :class:`Seek` to the chain's kept seeds: use up the one it came from,
    or keep the ones it stepped over, dropping the oldest beyond ``max_skipped``. Moving the
    chain to :attr:`Seek.next_chain_key` is the caller's part."""
    if found.next_chain_key is None:
        del skipped[found.position]
        return
    skipped.update(found.skipped)
    excess = len(skipped) - max_skipped
    if excess > 0:
        for old in list(skipped)[:excess]:
            del skipped[old]
