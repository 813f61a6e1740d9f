"""Exits never freeze: a long token in a sustained rise, paying funding and trading costs out of its venue
margin while its gains stay unrealised, can reach margin < 0 < equity. A pro-rata exit then withdraws against
the account's value (the venue realises the rest of its profit into margin) instead of against realised margin
only, and a settlement whose redemptions cannot settle with the deposits tries each side alone."""

import pytest

from levtoken.shapes import Action, MarketConfig
from levtoken.units import DAY, WAD
from tests.utils.chain import head_time
from tests.utils.constants import BTC

P0 = 30_000


def _rise(token, venue, feed, chain, gov, keeper, days, daily_pct):
    """`days` days of +`daily_pct`% a day, with the keeper rebalancing whenever one is due."""
    price = P0
    for _ in range(days):
        price = price * (100 + daily_pct) / 100
        chain.pending_timestamp = head_time(chain) + DAY
        feed.submit(round(price * 10**8), sender=gov)
        while token.rebalanceStatus().action != Action.NONE:
            token.rebalance(sender=keeper)
    return price


@pytest.mark.parametrize("funding_per_day, daily_pct", [(0.01, 10)], ids=["1%/day funding, +10%/day"])
def test_long_in_a_sustained_rise__margin_below_zero__every_redemption_settles(
    create_token, deposit, venue, feed, chain, gov, keeper, whale, fish, funding_per_day, daily_pct
):
    config = MarketConfig.from_abi(venue.marketConfig(BTC))
    while config.max_funding_rate_per_day < int(funding_per_day * WAD):  # raised one step (0.1%/day) at a time
        config.max_funding_rate_per_day = min(config.max_funding_rate_per_day + 10**15, int(funding_per_day * WAD))
        venue.setMarketConfig(BTC, config.to_abi(feed=feed.address), sender=gov)
    token = create_token(3)
    deposit(token, whale, 1_000_000)
    deposit(token, fish, 10_000)
    _rise(token, venue, feed, chain, gov, keeper, 10, daily_pct)
    position = venue.position(BTC, token)
    equity = venue.accountValue(BTC, token)
    assert position.margin < 0 < equity  # the state that froze exits

    for holder, fraction in [(fish, 1), (whale, 2)]:  # all of the fish's shares, half of the whale's
        shares = token.balanceOf(holder) // fraction
        token.requestRedeem(shares, holder, holder, sender=holder)
    chain.pending_timestamp = head_time(chain) + 1
    feed.submit(feed.latestRoundData()[1], sender=gov)
    token.settle(sender=keeper)
    assert token.maxRedeem(fish) > 0 and token.maxRedeem(whale) > 0
    paid = token.redeem(token.maxRedeem(fish), fish, fish, sender=fish).events.filter(token.Withdraw)[0].assets
    assert paid > 0
