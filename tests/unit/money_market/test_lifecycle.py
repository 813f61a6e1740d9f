"""A leveraged token's life on the money-market venue, as on the perpetual one: requests settled into a Morpho loop
through the pool, claims, a rebalance back to target after a move, a ripcord, interest in place of funding, and a
liquidation by Morpho itself at its LLTV. After each step the token's equity is its position read from the protocols
(collateral at the oracle price minus debt, Morpho's rounding) to the unit."""

from __future__ import annotations

import pytest

from levtoken.money_market import LLTV, position_from_protocols
from levtoken.protocols import market_id
from levtoken.shapes import Action, Reason
from levtoken.units import DAY, WAD, to_units
from tests.utils import chain as chain_helpers
from tests.utils.checks import LEVERAGE_TOLERANCE, rel
from tests.utils.constants import INITIAL_PRICE

SIDES = pytest.mark.parametrize("leverage", [3, -1], ids=["3x long", "1x short"])


def _check_equity(mm, token, chain) -> int:
    """The venue's value of the token equals its position read from Morpho, the feed and the venue's cash, to the
    unit, and its size is the collateral (long) or minus the debt (short); returns the value."""
    value, size, _ = mm.venue.accountState(mm.market_id, token.address)
    assert (value, size) == position_from_protocols(mm, token.address, chain.blocks.head.timestamp)
    return value


@pytest.fixture
def held(mm_token, deposit, fish, request):
    """A token with $10,000 of fish's deposit, settled into its loop and claimed."""
    token = mm_token(request.param)
    deposit(token, fish, 10_000)
    return token


@pytest.mark.parametrize("held", [3, -1], ids=["3x long", "1x short"], indirect=True)
def test_deposit_and_redeem__loop_opens_and_unwinds__equity_from_the_protocols(held, mm, fish, usd, redeem, chain):
    """A $10,000 deposit settles into a loop at the target leverage (the long's BTC collateral against a USD debt,
    the short's USD collateral against a BTC debt), worth the deposit less the mint fee's shares and the swap's cost;
    redeeming every share unwinds it and pays fish back all but the fees and the two swaps' costs."""
    token = held
    value = _check_equity(mm, token, chain)
    assert 9_950 * 10**6 < value < 10_000 * 10**6  # the swap's 0.05% fee on 3x, and impact
    assert rel(token.leverage(), token.targetLeverage()) < LEVERAGE_TOLERANCE
    book = mm.venue.book(mm.market_id, token.address)
    assert book.side == (1 if token.targetLeverage() > 0 else 2) and book.debt > 0
    shares = token.balanceOf(fish)
    before = usd.balanceOf(fish)
    redeem(token, fish, shares)
    paid = usd.balanceOf(fish) - before
    assert 9_880 * 10**6 < paid < 10_000 * 10**6
    # What stays is the fee recipient's: the mint and redemption fees' shares (0.1% each).
    assert token.totalSupply() == token.balanceOf(token.params().feeRecipient)
    assert _check_equity(mm, token, chain) < 25 * 10**6


@pytest.mark.parametrize("held", [3, -1], ids=["3x long", "1x short"], indirect=True)
def test_rebalance__a_day_and_a_move_later__back_to_target_through_the_pool(held, mm, keeper, move, chain):
    """After a day and a 6% rise, the keeper's time rebalance trades through the pool back to the target: the
    holders bear exactly what the account's value lost, and the equity is still the protocols' to the unit."""
    token = held
    chain_helpers.advance(chain, DAY)
    move(INITIAL_PRICE * 1.06)
    status = token.rebalanceStatus()
    assert (status.action, status.reason) == (Action.REBALANCE, Reason.TIME)
    tx = token.rebalance(sender=keeper)
    event = tx.events.filter(token.Rebalanced)[0]
    trade = tx.events.filter(mm.venue.PositionModified)[0]
    assert event.cost == trade.valueBefore - trade.valueAfter > 0
    assert token.equity() == status.equity - event.cost
    assert rel(token.leverage(), token.targetLeverage()) < LEVERAGE_TOLERANCE
    _check_equity(mm, token, chain)


def test_ripcord__past_the_limit__anyone_brings_it_back_inside_morphos_lltv(mm, mm_token, deposit, fish, stranger, usd,
                                                                          move, chain):
    """A 15% fall takes the 3x long past its 4.5x ripcord (debt at 78% of collateral, Morpho's LLTV 86%): a
    stranger's ripcord sells through the pool, repays, earns the bounty, and leaves the loop at target."""
    token = mm_token(3)
    deposit(token, fish, 10_000)
    move(INITIAL_PRICE * 0.85)
    status = token.rebalanceStatus()
    assert status.action == Action.RIPCORD
    tx = token.ripcord(sender=stranger)
    assert usd.balanceOf(stranger) == to_units(10)
    event = tx.events.filter(token.Rebalanced)[0]
    assert token.equity() == status.equity - event.cost - to_units(10)
    assert rel(token.leverage(), 3 * WAD) < 0.01
    _check_equity(mm, token, chain)


@pytest.mark.parametrize("held", [3, -1], ids=["3x long", "1x short"], indirect=True)
def test_interest__thirty_days__the_debt_grows_as_morpho_accrues_it(held, mm, chain, set_price, feed):
    """Thirty days at the same price: the loop's value falls by exactly the interest Morpho accrues on its debt
    (the borrow rate in place of funding; Morpho's collateral earns nothing)."""
    token = held
    before = _check_equity(mm, token, chain)
    debt_before = mm.venue.book(mm.market_id, token.address).debt
    chain_helpers.advance(chain, 30 * DAY)
    set_price(feed.latestRoundData()[1] / 10**8)
    after = _check_equity(mm, token, chain)
    debt_after = mm.venue.book(mm.market_id, token.address).debt
    assert debt_after > debt_before
    if token.targetLeverage() > 0:
        assert before - after == debt_after - debt_before
    else:
        assert before > after


def test_liquidation__by_morpho_past_its_lltv__the_token_keeps_what_is_left(mm, mm_token, deposit, redeem, fish, whale,
                                                                           usd, btc, move, chain, gov):
    """A 24% fall with no keeper acting takes the 3x long past 7.14x, Morpho's LLTV: anyone liquidates its account in Morpho itself, seizing collateral at Morpho's incentive. The token's
    equity is what Morpho left, to the unit, and its holders still redeem it."""
    token = mm_token(3)
    deposit(token, fish, 10_000)
    move(INITIAL_PRICE * 0.76)
    account = mm.venue.accountOf(token.address)
    params = mm.long_market
    morpho = mm.protocols.morpho
    position = morpho.position(market_id(params), account)
    debt = mm.venue.book(mm.market_id, token.address).debt
    lendable = position.collateral * (INITIAL_PRICE * 76 // 100) * LLTV // 10**18 // 10**12  # USD units at LLTV
    assert debt > lendable
    seized = position.collateral // 2
    usd.mint(whale, 10**12, sender=whale)
    usd.approve(morpho.address, 10**12, sender=whale)
    equity_before = token.equity()
    morpho.liquidate(params, account, seized, 0, b"", sender=whale)
    assert btc.balanceOf(whale) >= seized
    after = _check_equity(mm, token, chain)
    assert 0 < after < equity_before
    before = usd.balanceOf(fish)
    redeem(token, fish, token.balanceOf(fish))
    assert usd.balanceOf(fish) > before
