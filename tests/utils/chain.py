"""Chain helpers: block time, pinning and moving the next block's time, mining, and writing a feed round
straight into storage (as a faulty or compromised feed would serve it).

Every function takes ape's `chain` (the pytest fixture or `ape.chain`).
"""

from __future__ import annotations

from typing import Any

from eth_utils import keccak

# PriceFeed's storage: _roles (0), description (1), latestRound (2), rounds (3).
ROUNDS_SLOT = 3


def head_time(chain: Any) -> int:
    """Timestamp of the latest mined block (read from the node, not ape's cache)."""
    return chain.provider.web3.eth.get_block("latest")["timestamp"]


def block_time(chain: Any, receipt: Any = None) -> int:
    """Timestamp of the block that mined `receipt`, or of the head block."""
    if receipt is None:
        return chain.blocks.head.timestamp
    return chain.blocks[receipt.block_number].timestamp


def pin(chain: Any) -> None:
    """The next transaction is mined at the head block's timestamp, so it sees exactly what a view call
    made now sees (no funding or streaming fee accrues in between)."""
    chain.pending_timestamp = head_time(chain)


def advance(chain: Any, seconds: int) -> None:
    """Moves the next block's timestamp `seconds` further (nothing is mined)."""
    chain.pending_timestamp += seconds


def mine_at(chain: Any, timestamp: int) -> None:
    """Mines an empty block at `timestamp`, so views see that time."""
    chain.mine(timestamp=timestamp)


def round_slot(round_id: int) -> int:
    """Storage slot of PriceFeed's `rounds[round_id]`."""
    return int.from_bytes(keccak(round_id.to_bytes(32, "big") + ROUNDS_SLOT.to_bytes(32, "big")), "big")


def write_round(chain: Any, feed: Any, round_id: int, answer: int, updated_at: int) -> None:
    """Overwrites round `round_id` of `feed` with (answer, updatedAt), packed as the Round struct: answers
    the PriceFeed itself refuses (zero, negative, no timestamp) as a faulty feed would serve them."""
    packed = (answer & (2**192 - 1)) | (updated_at << 192)
    chain.provider.set_storage(feed.address, round_slot(round_id), packed.to_bytes(32, "big"))
