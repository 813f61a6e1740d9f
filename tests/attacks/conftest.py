"""Fixtures for the attack tests: a record of everything an attack could move (to show a failed attack
left the chain as it was)."""

from __future__ import annotations

import pytest

from tests.utils.constants import BTC


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
    gov, keeper, lp, whale, fish, stranger, fee_recipient, usd, feed, venue, factory, create_token,
    fund, set_price, set_params, reverts, pin, deposit, state_of, orders, outsiders,
):
    """Sets up the session fixtures before any test's snapshot, so ape need not rebase its isolation
    (a session fixture first used inside a module fixture otherwise breaks the next module's isolation)."""
