"""DESIGN.md section 5's worked examples, on chain: a 3x long and a 3x short rebalanced after every
daily step. With mint, redeem and streaming fees at zero, the NAV ratio is prod(1 + L * r_i) less
what the venue charged (trading fee, impact and funding), which the venue's own events report."""

from math import prod

import pytest

from levtoken.shapes import Action
from levtoken.units import DAY, WAD

# Price paths from 10,000, the published result for a 3x daily-reset long (no fees) and the
# precision it was published with.
EXAMPLES = {
    "up_then_back": ([11_000, 10_000], 1 - 0.0545, 0.0005),
    "up_up": ([11_000, 12_100], 1.69, 0.005),
    "down_down": ([9_500, 9_000], 1 - 0.284, 0.0005),
    "plus_10_four_days": ([11_000, 12_100, 13_310, 14_641], 2.856, 0.0005),
    "minus_10_four_days": ([9_000, 8_100, 7_290, 6_561], 1 - 0.76, 0.005),
    "plus_minus_alternating": ([11_000, 9_900, 10_890, 9_801], 1 - 0.17, 0.005),
    "article_plus_20": ([12_000], 1.6, 0.05),
}


def _returns(path):
    prices = [10_000, *path]
    return [prices[i + 1] / prices[i] - 1 for i in range(len(path))]


@pytest.mark.parametrize("name", EXAMPLES)
def test_ideal_product__3x_long__matches_published_examples(name):
    path, published, precision = EXAMPLES[name]
    assert prod(1 + 3 * r for r in _returns(path)) == pytest.approx(published, abs=precision)


@pytest.mark.parametrize("leverage", [3, -3])
@pytest.mark.parametrize("name", EXAMPLES)
def test_daily_rebalanced_token__worked_example__nav_is_product_less_venue_costs(
    create_token, deposit, whale, keeper, set_price, chain, venue, leverage, name
):
    path, _, _ = EXAMPLES[name]
    set_price(10_000)
    token = create_token(leverage, mintFeeBps=0, redeemFeeBps=0, streamingFeePerDay=0)
    deposit(token, whale, 10_000)  # requested, settled at a later round of the same price, claimed
    supply = token.totalSupply()
    equity0 = token.equity()
    assert abs(token.leverage() - leverage * WAD) <= abs(leverage) * WAD // 10**8

    returns = _returns(path)
    model = float(equity0)  # equity after each step: moved by L * r, less what the venue charged
    charged = []
    for price, r in zip(path, returns):
        chain.pending_timestamp += DAY
        set_price(price)
        status = token.rebalanceStatus()
        assert status.action != Action.NONE, "a daily step of 5% or more is always due"
        tx = token.rebalance(sender=keeper)
        trade_cost = tx.events.filter(token.Rebalanced)[0].cost
        funding = sum(e.amount for e in tx.events.filter(venue.FundingSettled) if e.account == token.address)
        # A step that reaches the ripcord limit (e.g. a 3x short after +10%) pays the ripcord bounty.
        bounty = sum(e.amount for e in tx.events.filter(token.RipcordBountyPaid))
        model = model * (1 + leverage * r) - funding - trade_cost - bounty
        charged.append(funding + trade_cost + bounty)
        assert abs(token.leverage() - leverage * WAD) <= abs(leverage) * WAD // 10**9
        assert token.totalSupply() == supply  # no fee shares: the ratio of NAVs is the ratio of equities

    ratio = token.equity() / equity0
    ideal = prod(1 + leverage * r for r in returns)
    # The token follows the model of its own charges to a millionth ...
    assert token.equity() == pytest.approx(model, rel=1e-6)
    # ... so its shortfall from the ideal product is what the venue charged, carried by later steps.
    carried = sum(c * prod(1 + leverage * r for r in returns[i + 1 :]) for i, c in enumerate(charged)) / equity0
    assert carried > 0
    assert ideal - ratio == pytest.approx(carried, rel=1e-3, abs=1e-7)
    assert carried < 0.01 * len(path)  # per step: basis points of fee and impact, a day's funding
