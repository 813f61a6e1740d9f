"""Nobody changes the rules under a holder (DESIGN.md 11).

Reproduced on the old bounds: the venue's owner set maintenance margin 49.99%, the liquidation penalty at the
maintenance margin and the liquidator's share at 100% (all then inside the bounds) and liquidated a 3x token:
989,699.88 of its 989,699.88 USD in two transactions. Now the venue's hard bounds (maintenance <= 10%, penalty
<= 2%, liquidator share <= 50%) hold whatever the owner does, a raise is bounded per change, and the owner is
a Governance whose changes land only after a delay every holder can exit in.
"""

from __future__ import annotations

import pytest

from levtoken.governance import Change, deploy_governance, execute, hand_over, schedule
from levtoken.model.libraries.rebalance_logic import MAX_STREAMING_FEE_STEP
from levtoken.shapes import MarketConfig, Params
from levtoken.units import DAY
from tests.utils.chain import advance
from tests.utils.constants import BTC

DELAY = 2 * DAY
CONFISCATING = {"initial_margin_bps": 5_000, "maintenance_margin_bps": 4_999, "liquidation_penalty_bps": 4_999,
                "liquidator_share_bps": 10_000}
# The harshest the bounds allow, reached one bounded step at a time.
HARSHEST = {"initial_margin_bps": 1_500, "maintenance_margin_bps": 1_000, "liquidation_penalty_bps": 200,
            "liquidator_share_bps": 5_000}


@pytest.fixture
def held(create_token, deposit, whale, fish):
    token = create_token(3)
    deposit(token, whale, 1_000_000)
    deposit(token, fish, 10_000)
    return token


def _config(venue, **changes):
    config = MarketConfig.from_abi(venue.marketConfig(BTC))
    for name, value in changes.items():
        setattr(config, name, value)
    return config


def _step_to(venue, owner, target: dict):
    """Raises the market's margins and liquidation terms to `target` one allowed step at a time."""
    steps = {"initial_margin_bps": 500, "maintenance_margin_bps": 100, "liquidation_penalty_bps": 50,
             "liquidator_share_bps": 1_000}
    while True:
        current = MarketConfig.from_abi(venue.marketConfig(BTC))
        nxt = {f: min(v, getattr(current, f) + steps[f]) if v > getattr(current, f) else v for f, v in target.items()}
        if all(getattr(current, f) == v for f, v in nxt.items()):
            return
        venue.setMarketConfig(BTC, _config(venue, **nxt).to_abi(), sender=owner)


def test_confiscation__venue_owner_directly__out_of_bounds_and_the_harshest_bounds_cannot_liquidate(
    held, venue, gov, stranger, whale, fish, reverts
):
    claims = [held.convertToAssets(held.balanceOf(h)) for h in (whale, fish)]
    with reverts(venue.InvalidConfig, name="maintenanceMarginBps"):
        venue.setMarketConfig(BTC, _config(venue, **CONFISCATING).to_abi(), sender=gov)
    with reverts(venue.ConfigStepTooLarge, name="maintenanceMarginBps", current=300, proposed=1_000, maxStep=100):
        venue.setMarketConfig(BTC, _config(venue, **HARSHEST).to_abi(), sender=gov)
    _step_to(venue, gov, HARSHEST)
    # A 3x token holds about a third of its notional as equity: at a 10% maintenance margin it is far from
    # liquidation, and a liquidation could take at most the 2% penalty, half of it for the liquidator.
    with reverts(venue.NotLiquidatable):
        venue.liquidate(BTC, held, sender=gov)
    with reverts(venue.NotLiquidatable):
        venue.liquidate(BTC, held, sender=stranger)
    after = [held.convertToAssets(held.balanceOf(h)) for h in (whale, fish)]
    for before, now in zip(claims, after):
        assert now == pytest.approx(before, rel=1e-6)  # the funding of the minutes the steps took


def test_confiscation__through_the_governance__delayed_and_still_bounded(
    held, venue, gov, keeper, feed, chain, whale, reverts
):
    governance = deploy_governance(gov, 0, [gov.address])
    hand_over(governance, gov, ownables=[venue], tokens=[held])
    raise_delay = Change(governance, "updateDelay", (DELAY,))
    schedule(governance, gov, raise_delay)
    execute(governance, gov, raise_delay)
    maintenance = venue.marketConfig(BTC).maintenanceMarginBps
    # The confiscating config can be scheduled (the timelock does not read calldata) but never lands: it waits
    # the delay, and executing it then reverts on the venue's bounds.
    confiscate = Change(venue, "setMarketConfig", (BTC, _config(venue, **CONFISCATING).to_abi()))
    schedule(governance, gov, confiscate)
    with reverts(governance.TimelockUnexpectedOperationState):
        execute(governance, gov, confiscate)
    advance(chain, DELAY)
    feed.submit(feed.latestRoundData()[1], sender=gov)
    with reverts(venue.InvalidConfig, name="maintenanceMarginBps"):
        execute(governance, gov, confiscate)
    assert venue.marketConfig(BTC).maintenanceMarginBps == maintenance


def test_harmful_token_change__every_holder_exits_before_it_lands(
    held, gov, keeper, fish, whale, fee_recipient, stranger, feed, chain, settle, usd
):
    """The admin (a Governance with a two-day delay) schedules the largest streaming-fee rise one change may make
    and a new fee recipient; every holder asks to exit, the keeper settles them at the next round, they claim,
    and only then does the change land."""
    governance = deploy_governance(gov, 0, [gov.address])
    hand_over(governance, gov, tokens=[held])
    raise_delay = Change(governance, "updateDelay", (DELAY,))
    schedule(governance, gov, raise_delay)
    execute(governance, gov, raise_delay)
    params = Params.from_abi(held.params())
    params.streaming_fee_per_day += MAX_STREAMING_FEE_STEP  # the most one change raises it, to 0.035%/day
    params.fee_recipient = stranger.address
    change = Change(held, "setParams", (params.to_tuple(),))
    receipt = schedule(governance, gov, change)
    lands_at = receipt.timestamp + DELAY
    for holder in (whale, fish):
        held.requestRedeem(held.balanceOf(holder), holder, holder, sender=holder)
    (settled,) = settle(held)
    assert settled.timestamp < lands_at
    for holder in (whale, fish):
        assert held.pendingRedeemRequest(0, holder) == 0
        before = usd.balanceOf(holder)
        held.redeem(held.maxRedeem(holder), holder, holder, sender=holder)
        assert usd.balanceOf(holder) > before
    # The redeem fee went to the recipient of the rules they exited under.
    assert held.balanceOf(stranger) == 0 and held.balanceOf(fee_recipient) > 0
    advance(chain, DELAY)
    feed.submit(feed.latestRoundData()[1], sender=gov)
    execute(governance, gov, change)
    assert held.params().feeRecipient == stranger.address
