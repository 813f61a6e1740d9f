"""Within one governance delay, no sequence of privileged calls changes a holder's claim by more than the
documented bounds (DESIGN.md 11).

A 3x long with the whale's 100,000 USD, its admin role and the venue's ownership handed to a Governance with a
two-day delay, and funding set to zero so that, with the price unchanged, the holder's claim moves only by the
streaming fee in force. Hypothesis draws short sequences of what every privileged role can do in less than the
delay: the proposer schedules harmful changes (the highest fees and a new fee recipient, a harsher market, a
shorter delay), anyone tries to execute them, the former owner tries them directly, the guardian pauses and
unpauses, the keeper settles another holder's deposit, and time passes. After every step the token's parameters
and the market's configuration are those of the start, and the whale's claim is at least its start less the
streaming fee at the start's rate for the time elapsed (and 2 units of rounding)."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from levtoken.governance import Change, deploy_governance, execute, hand_over, schedule
from levtoken.shapes import MarketConfig, Params
from levtoken.units import DAY, WAD
from tests.utils import chain as chain_helpers
from tests.utils.constants import BTC
from tests.utils.reverts import attempt
from tests.utils.strategies import HEALTH

DELAY = 2 * DAY

step = st.one_of(
    st.tuples(st.just("schedule"), st.sampled_from(["fees", "market", "delay"])),
    st.tuples(st.just("execute"), st.integers(0, 5)),
    st.tuples(st.just("direct"), st.sampled_from(["fees", "market"])),
    st.tuples(st.just("pause"), st.booleans()),
    st.tuples(st.just("deposit"), st.integers(1, 50_000)),
    st.tuples(st.just("settle"), st.just(0)),
    st.tuples(st.just("time"), st.integers(60, 8 * 3_600)),
)


@pytest.fixture(scope="module")
def governed(create_token, deposit, fund, venue, gov, whale, fish):
    """The token and the venue under a Governance with a two-day delay; funding at zero."""
    config = MarketConfig.from_abi(venue.marketConfig(BTC))
    config.max_funding_rate_per_day = 0
    venue.setMarketConfig(BTC, config.to_abi(), sender=gov)
    token = create_token(3)
    deposit(token, whale, 100_000)
    fund(fish, 10_000_000, token)
    governance = deploy_governance(gov, 0, [gov.address])
    hand_over(governance, gov, ownables=[venue], tokens=[token])
    raise_delay = Change(governance, "updateDelay", (DELAY,))
    schedule(governance, gov, raise_delay)
    execute(governance, gov, raise_delay)
    return governance, token


def _harmful(kind, governance, token, venue, stranger) -> Change:
    if kind == "fees":
        params = Params.from_abi(token.params())
        params.mint_fee_bps = params.redeem_fee_bps = 100
        params.streaming_fee_per_day = 10**15
        params.fee_recipient = stranger.address
        return Change(token, "setParams", (params.to_tuple(),))
    if kind == "market":
        config = MarketConfig.from_abi(venue.marketConfig(BTC))
        config.maintenance_margin_bps += 100
        config.max_funding_rate_per_day += 10**15
        return Change(venue, "setMarketConfig", (BTC, config.to_abi()))
    return Change(governance, "updateDelay", (0,))


@settings(max_examples=6, deadline=None, suppress_health_check=HEALTH)
@given(steps=st.lists(step, min_size=4, max_size=10))
def test_privileged_calls_within_one_delay__claims_within_the_documented_bounds(
    governed, steps, chain, gov, keeper, whale, fish, stranger, venue, feed
):
    governance, token = governed
    snapshot = chain.snapshot()
    try:
        params, config = token.params(), venue.marketConfig(BTC)
        start, claim = chain_helpers.head_time(chain), token.convertToAssets(token.balanceOf(whale))
        fee_per_day = params.streamingFeePerDay
        scheduled: list[Change] = []
        for kind, arg in steps:
            if kind == "schedule":
                change = _harmful(arg, governance, token, venue, stranger)
                if attempt(governance, lambda: schedule(governance, gov, change), "TimelockUnexpectedOperationState"):
                    scheduled.append(change)
            elif kind == "execute" and scheduled:
                change = scheduled[arg % len(scheduled)]
                attempt(governance, lambda: execute(governance, stranger, change), "TimelockUnexpectedOperationState")
            elif kind == "direct":
                change = _harmful(arg, governance, token, venue, stranger)
                target = token if arg == "fees" else venue
                error = "AccessControlUnauthorizedAccount" if arg == "fees" else "OwnableUnauthorizedAccount"
                attempt(target, lambda: getattr(change.target, change.method)(*change.args, sender=gov), error)
            elif kind == "pause":
                (token.pause if arg else token.unpause)(sender=gov) if token.paused() != arg else None
            elif kind == "deposit":
                attempt(token, lambda: token.requestDeposit(arg * 10**6, fish, fish, sender=fish),
                        "EnforcedPause", "EarlierRequestPending")
            elif kind == "settle":
                chain_helpers.advance(chain, 1)
                feed.submit(feed.latestRoundData()[1], sender=gov)
                attempt(token, lambda: token.settle(sender=keeper), "NothingToSettle", "NoNewerPrice")
            elif kind == "time" and chain_helpers.head_time(chain) + arg < start + DELAY - 3_600:
                chain_helpers.advance(chain, arg)
                feed.submit(feed.latestRoundData()[1], sender=gov)
            assert token.params() == params and venue.marketConfig(BTC) == config
            elapsed = chain_helpers.head_time(chain) - start
            bound = claim - claim * fee_per_day * (elapsed + 60) // (DAY * WAD) - 2
            assert token.convertToAssets(token.balanceOf(whale)) >= bound
    finally:
        chain.restore(snapshot)
