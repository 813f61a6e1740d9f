"""A listed money market's settings under its owner (the governance, after its delay): MoneyMarketVenue.
setMarketConfig changes the heartbeat, the swap's bound, maxLtv and the pool, each rise within a step; the feed and
the two lending markets, where the tokens' loops are, stay as listed."""

from __future__ import annotations

import pytest

from levtoken.shapes import MoneyMarketConfig

STEP_BPS, STEP_LTV = 50, 5 * 10**16  # MoneyMarketVenue's MAX_SLIPPAGE_STEP_BPS and MAX_LTV_STEP
BUY = 50 * 10**18  # 50 BTC: past the 1% bound in the seeded pool, within 1.5%


def _config(mm) -> MoneyMarketConfig:
    return MoneyMarketConfig.from_abi(mm.venue.marketConfig(mm.market_id))


def _quote(mm, stranger) -> tuple:
    """quoteModify of a 50 BTC long opened with its whole notional as margin."""
    margin = 50 * 31_000 * 10**6
    return tuple(mm.venue.quoteModify(mm.market_id, stranger.address, margin, BUY))


def test_set_market_config__a_wider_bound_takes_the_swap_it_refused__logged(mm, gov, stranger, reverts):
    """A 50 BTC buy is refused at the listed 1% bound; after the owner raises it to 1.5% the same quote fills, and
    MarketConfigUpdated carries the whole new config."""
    with reverts(mm.venue.SwapBeyondBound):
        _quote(mm, stranger)
    config = _config(mm)
    config.max_slippage_bps += STEP_BPS
    receipt = mm.venue.setMarketConfig(mm.market_id, config.to_tuple(), sender=gov)
    assert _config(mm) == config
    [event] = receipt.decode_logs(mm.venue.MarketConfigUpdated)
    assert event.marketId == mm.market_id
    assert str(MoneyMarketConfig.from_abi(event.config)).lower() == str(config).lower()  # event addresses: lower case
    before, after, _ = _quote(mm, stranger)
    assert before == 0 and after > 0


@pytest.mark.parametrize("field", ["feed", "long_market", "short_market"])
def test_set_market_config__the_feed_and_lending_markets_stay(mm, gov, field, reverts):
    """A config naming another feed or another lending market is refused by the field's name: the tokens' loops
    are in those markets, priced by that feed."""
    config = _config(mm)
    other = {"feed": mm.pool.address, "long_market": config.short_market, "short_market": config.long_market}
    setattr(config, field, other[field])
    with reverts(mm.venue.InvalidConfig, name=MoneyMarketConfig.sol_name(field)):
        mm.venue.setMarketConfig(mm.market_id, config.to_tuple(), sender=gov)


@pytest.mark.parametrize("field, step", [("max_slippage_bps", STEP_BPS), ("max_ltv", STEP_LTV)])
def test_set_market_config__a_rise_past_its_step_is_refused__a_fall_is_not(mm, gov, field, step, reverts):
    """maxSlippageBps and maxLtv rise by at most their step in one change (ConfigStepTooLarge names it); lowering
    them is never limited."""
    config = _config(mm)
    current = getattr(config, field)
    setattr(config, field, current + step + 1)
    with reverts(mm.venue.ConfigStepTooLarge, name=MoneyMarketConfig.sol_name(field), current=current,
                 proposed=current + step + 1, maxStep=step):
        mm.venue.setMarketConfig(mm.market_id, config.to_tuple(), sender=gov)
    setattr(config, field, current // 4)
    mm.venue.setMarketConfig(mm.market_id, config.to_tuple(), sender=gov)
    assert getattr(_config(mm), field) == current // 4


@pytest.mark.parametrize("pool", ["usd", "stranger"])
def test_set_market_config__a_pool_that_is_no_pool__refused_by_name(request, mm, gov, pool, reverts):
    """A "pool" that is a token (it has no token0) or an account without code is refused as
    InvalidConfig("pool"), as a listing is, not with a bare revert."""
    config = MoneyMarketConfig(**{**vars(_config(mm)), "pool": request.getfixturevalue(pool).address})
    with reverts(mm.venue.InvalidConfig, name="pool"):
        mm.venue.setMarketConfig(mm.market_id, config.to_tuple(), sender=gov)


def test_set_market_config__checked_as_a_listing_is__owner_only(mm, gov, stranger, reverts):
    """The new settings meet the listing's checks (maxLtv below the LLTV, a heartbeat), the market must exist, and
    only the owner changes it."""
    config = _config(mm)
    lltv = config.long_market[4]
    with reverts(mm.venue.InvalidConfig, name="maxLtv"):
        mm.venue.setMarketConfig(mm.market_id, MoneyMarketConfig(**{**vars(config), "max_ltv": lltv}).to_tuple(),
                                 sender=gov)
    with reverts(mm.venue.InvalidConfig, name="heartbeat"):
        mm.venue.setMarketConfig(mm.market_id, MoneyMarketConfig(**{**vars(config), "heartbeat": 0}).to_tuple(),
                                 sender=gov)
    with reverts(mm.venue.UnknownMarket, marketId=mm.market_id + 1):
        mm.venue.setMarketConfig(mm.market_id + 1, config.to_tuple(), sender=gov)
    with reverts(mm.venue.OwnableUnauthorizedAccount, account=stranger.address):
        mm.venue.setMarketConfig(mm.market_id, config.to_tuple(), sender=stranger)
