"""levtoken.keeper.reverts: a revert in one line, the error by name, its arguments in the user's units."""

from __future__ import annotations

import pytest
from ape.exceptions import ContractLogicError

from levtoken.keeper.reverts import describe_revert, format_error, revert_name


@pytest.mark.parametrize("name, inputs, text", [
    ("LeverageOutOfRange", {"targetLeverage": 100 * 10**18}, "LeverageOutOfRange(targetLeverage=100x)"),
    ("LeverageOutOfRange", {"targetLeverage": -3 * 10**18}, "LeverageOutOfRange(targetLeverage=-3x)"),
    ("InsufficientMargin", {"value": -1, "required": 1_500_000},
     "InsufficientMargin(value=-0.000001 collateral, required=1.500000 collateral)"),
    ("InsufficientShares", {"balance": 10**18, "needed": 2 * 10**18},
     "InsufficientShares(balance=1.000000 tokens, needed=2.000000 tokens)"),
    ("InvalidPrice", {"answer": -5 * 10**8}, "InvalidPrice(answer=$-5.00)"),
    ("CancelTooEarly", {"allowedAt": 2**256 - 1}, "CancelTooEarly(allowedAt=never yet)"),
    ("FallbackNotOpen", {"opensAt": 1_700_000_000}, "FallbackNotOpen(opensAt=2023-11-14 22:13:20 UTC)"),
    ("StalePrice", {"updatedAt": 1_700_000_000, "heartbeat": 3_600},
     "StalePrice(updatedAt=2023-11-14 22:13:20 UTC, heartbeat=3600 s)"),
    ("NothingToSettle", {}, "NothingToSettle()"),
    ("SwapBeyondBound", {"limitPriceX96": 2**96, "oraclePrice": 30_600 * 10**18},
     f"SwapBeyondBound(limitPriceX96={2**96}, oraclePrice=$30,600.00)"),
])
def test_format_error__arguments_in_the_users_units(name, inputs, text):
    assert format_error(name, inputs) == text


def test_describe_revert__a_real_revert__named_with_its_arguments(funded_token, keeper):
    token = funded_token(3)
    with pytest.raises(ContractLogicError) as caught:
        token.rebalance.estimate_gas_cost(sender=keeper)
    assert revert_name(caught.value) == "RebalanceNotDue"
    assert describe_revert(caught.value) == "RebalanceNotDue()"


def test_describe_revert__stale_price_from_a_view__named(funded_token, chain):
    """A view that reads the oracle through the venue reverts StalePrice once the feed is older than its
    heartbeat: the error comes out of a nested call and is still named, with its arguments."""
    from tests.utils.chain import advance, mine_at, head_time

    token = funded_token(3)
    advance(chain, 0)
    mine_at(chain, head_time(chain) + 3 * 86_400)
    with pytest.raises(ContractLogicError) as caught:
        token.equity()
    assert describe_revert(caught.value).startswith("StalePrice(updatedAt=")

