"""Fixtures for the attack tests: a strict revert check, time pinning, feed-storage writes, and a record
of everything an attack could move (to show a failed attack left the chain as it was)."""

from __future__ import annotations

from contextlib import contextmanager

import ape
import pytest
from ape_ethereum.trace import Trace
from eth_abi import decode
from eth_utils import keccak

BTC = 1
ROUNDS_SLOT = 3  # PriceFeed: _roles (0), description (1), latestRound (2), rounds (3)


def _error_signature(error) -> str:
    return f"{error.abi.name}({','.join(i.canonical_type for i in error.abi.inputs)})"


@contextmanager
def strict_reverts(error, **inputs):
    """ape.reverts(error, **inputs) that also checks the selector and inputs of a revert ape could not
    decode (an error raised in a nested call, such as the venue's StalePrice inside a token call), which
    ape.reverts alone would accept whatever it was (same approach as tests/unit/token/conftest.py)."""
    show = Trace.show
    Trace.show = lambda self, *args, **kwargs: None
    try:
        # Any revert is caught here and identified below: ape may decode a shared error (such as
        # ReentrancyGuardReentrantCall) with another contract's class than the one passed.
        with ape.reverts() as info:
            yield info
    finally:
        Trace.show = show
    exc = info.value
    if isinstance(exc, ape.exceptions.CustomError):
        assert type(exc).__name__ == error.abi.name, f"expected {error.abi.name}, got {type(exc).__name__}"
        for name, expected in inputs.items():
            assert exc.inputs[name] == expected, f"{error.abi.name}.{name}: expected {expected}, got {exc.inputs[name]}"
        return
    data = str(exc.revert_message or "")
    if data.startswith("custom error "):
        data = "0x" + data.removeprefix("custom error ").replace(":", "").replace(" ", "").removeprefix("0x")
    selector = "0x" + keccak(text=_error_signature(error)).hex()[:8]
    assert data.startswith(selector), f"expected {error.abi.name} ({selector}), got {data!r}"
    if inputs:
        names = [i.name for i in error.abi.inputs]
        values = decode([i.canonical_type for i in error.abi.inputs], bytes.fromhex(data[10:]))
        actual = dict(zip(names, values))
        for name, expected in inputs.items():
            assert actual[name] == expected, f"{error.abi.name}.{name}: expected {expected}, got {actual[name]}"


@pytest.fixture(scope="session")
def reverts():
    return strict_reverts


@pytest.fixture(scope="session")
def pin(chain):
    """pin(): the next transaction is mined at the head block's timestamp, so no streaming fee or funding
    accrues between it and what was read before it."""

    def _pin():
        chain.pending_timestamp = chain.provider.web3.eth.get_block("latest")["timestamp"]

    return _pin


@pytest.fixture(scope="session")
def deposit(fund):
    """deposit(token, account, usd) -> receipt: mints the dollars, approves, deposits."""

    def _deposit(token, account, amount):
        assets = fund(account, amount, token)
        return token.deposit(assets, account, sender=account)

    return _deposit


def round_slot(round_id):
    return int.from_bytes(keccak(round_id.to_bytes(32, "big") + ROUNDS_SLOT.to_bytes(32, "big")), "big")


@pytest.fixture(scope="session")
def write_round(chain):
    """write_round(feed, round_id, answer, updated_at): overwrites a round in the feed's storage, as a
    faulty or compromised feed would serve it (the PriceFeed itself refuses such answers)."""

    def _write(feed, round_id, answer, updated_at):
        packed = (answer & (2**192 - 1)) | (updated_at << 192)
        chain.provider.set_storage(feed.address, round_slot(round_id), packed.to_bytes(32, "big"))

    return _write


@pytest.fixture(scope="session")
def state_of(usd, venue):
    """state_of(token, *accounts): every balance and position an attack on `token` could move."""

    def _state(token, *accounts):
        position = venue.position(BTC, token)
        holders = list(accounts)
        return {
            "supply": token.totalSupply(),
            "shares": [token.balanceOf(a) for a in holders],
            "usd": [usd.balanceOf(a) for a in holders],
            "token_idle": usd.balanceOf(token),
            "position": (position.margin, position.size, position.openNotional),
            "pool_cash": venue.poolCash(),
            "venue_usd": usd.balanceOf(venue),
            "last_rebalance": token.lastRebalance(),
            "last_fee_accrual": token.lastFeeAccrual(),
        }

    return _state


@pytest.fixture(scope="session", autouse=True)
def _attacks_session(
    gov, keeper, lp, whale, fish, stranger, fee_recipient, usd, feed, venue, factory, creation_code, create_token,
    fund, set_price, reverts, pin, deposit, write_round, state_of,
):
    """Sets up the session fixtures before any test's snapshot, so ape need not rebase its isolation
    (a session fixture first used inside a module fixture otherwise breaks the next module's isolation)."""
