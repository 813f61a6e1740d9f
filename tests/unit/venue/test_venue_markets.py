"""Listing markets and setting their parameters: owner only, hard bounds, unknown ids."""

import pytest
from ape import project

from levtoken.units import DAY, WAD, to_feed, to_wad

ZERO_ADDRESS = "0x" + "00" * 20

# (overrides, the MarketConfig field InvalidConfig names: the first out of bounds in struct order)
OUT_OF_BOUNDS = [
    ({"feed": ZERO_ADDRESS}, "feed"),
    ({"heartbeat": 59}, "heartbeat"),
    ({"heartbeat": 7 * DAY + 1}, "heartbeat"),
    ({"takerFeeBps": 101}, "takerFeeBps"),
    ({"maxImpactBps": 501}, "maxImpactBps"),
    ({"maintenanceMarginBps": 49, "liquidationPenaltyBps": 49}, "maintenanceMarginBps"),
    ({"maintenanceMarginBps": 1000}, "maintenanceMarginBps"),
    ({"maintenanceMarginBps": 1001, "initialMarginBps": 2000}, "maintenanceMarginBps"),
    ({"initialMarginBps": 5001}, "initialMarginBps"),
    ({"liquidationPenaltyBps": 301}, "liquidationPenaltyBps"),
    ({"liquidationPenaltyBps": 201, "maintenanceMarginBps": 500}, "liquidationPenaltyBps"),
    ({"liquidatorShareBps": 5_001}, "liquidatorShareBps"),
    ({"impactDepth": 0}, "impactDepth"),
    ({"maxFundingRatePerDay": 10**16 + 1}, "maxFundingRatePerDay"),
    ({"maxOpenInterest": 0}, "maxOpenInterest"),
]

AT_BOUNDS = [
    {"heartbeat": 60},
    {"heartbeat": 7 * DAY},
    {"takerFeeBps": 100, "maxImpactBps": 500},
    {"maintenanceMarginBps": 50, "initialMarginBps": 51, "liquidationPenaltyBps": 50},
    {"maintenanceMarginBps": 1000, "initialMarginBps": 5000, "liquidationPenaltyBps": 200},
    {"liquidatorShareBps": 5_000, "liquidationPenaltyBps": 0},
    {"impactDepth": 1, "maxFundingRatePerDay": 10**16, "maxOpenInterest": 1},
]


@pytest.fixture(scope="module")
def eth_feed(gov):
    feed = gov.deploy(project.PriceFeed, 8, "ETH / USD", gov)
    feed.submit(to_feed(2_000), sender=gov)
    return feed


def normalized(values):
    """Config values with addresses in one case (event structs decode them lower-case)."""
    return tuple(v.lower() if isinstance(v, str) else v for v in values)


def config_with(cfg, **overrides):
    config = dict(cfg)
    config.update(overrides)
    return config


def test_listMarket__owner__assigns_next_id_stores_config_and_emits(venue, gov, cfg, eth_feed, block_time):
    config = config_with(cfg, feed=eth_feed.address, takerFeeBps=7)

    receipt = venue.listMarket("ETH", config, sender=gov)

    assert venue.marketCount() == 2
    assert venue.marketSymbol(2) == "ETH"
    assert normalized(venue.marketConfig(2)) == normalized(config.values())
    assert venue.marketState(2).lastFundingTime == block_time(receipt)
    assert venue.indexPrice(2) == 2_000 * WAD
    listed = receipt.events.filter(venue.MarketListed)
    assert len(listed) == 1
    assert listed[0].marketId == 2 and listed[0].symbol == "ETH" and listed[0].feed == eth_feed.address
    updated = receipt.events.filter(venue.MarketConfigUpdated)
    assert len(updated) == 1 and updated[0].marketId == 2
    assert normalized(updated[0].config) == normalized(config.values())


@pytest.mark.parametrize("decimals", [6, 18])
def test_listMarket__feed_decimals__scales_price_to_wad(venue, gov, cfg, decimals):
    feed = gov.deploy(project.PriceFeed, decimals, "X / USD", gov)
    feed.submit(1_234_567 * 10**decimals // 1000, sender=gov)
    venue.listMarket("X", config_with(cfg, feed=feed.address), sender=gov)

    assert venue.indexPrice(2) == to_wad("1234.567")


def test_listMarket__non_owner__reverts(venue, stranger, cfg, reverts):
    with reverts(venue.OwnableUnauthorizedAccount, account=stranger):
        venue.listMarket("ETH", cfg, sender=stranger)


@pytest.mark.parametrize("overrides, field", OUT_OF_BOUNDS, ids=[",".join(o) for o, _ in OUT_OF_BOUNDS])
def test_listMarket__out_of_bounds__reverts_InvalidConfig_naming_the_field(venue, gov, cfg, overrides, field, reverts):
    with reverts(venue.InvalidConfig, name=field):
        venue.listMarket("ETH", config_with(cfg, **overrides), sender=gov)


def test_listMarket__at_bounds__accepted(venue, gov, cfg):
    for overrides in AT_BOUNDS:
        config = config_with(cfg, **overrides)
        receipt = venue.listMarket("ETH", config, sender=gov)
        market_id = receipt.events.filter(venue.MarketListed)[0].marketId
        assert normalized(venue.marketConfig(market_id)) == normalized(config.values()), overrides


def test_setMarketConfig__owner__replaces_config_and_emits(venue, gov, cfg):
    config = config_with(cfg, takerFeeBps=9, maxOpenInterest=to_wad(5))

    receipt = venue.setMarketConfig(1, config, sender=gov)

    assert normalized(venue.marketConfig(1)) == normalized(config.values())
    assert venue.marketCount() == 1
    updated = receipt.events.filter(venue.MarketConfigUpdated)
    assert len(updated) == 1 and updated[0].marketId == 1
    assert normalized(updated[0].config) == normalized(config.values())


STEPS = [("takerFeeBps", 5), ("maxImpactBps", 50), ("initialMarginBps", 500), ("maintenanceMarginBps", 100),
         ("liquidationPenaltyBps", 50), ("liquidatorShareBps", 1000), ("maxFundingRatePerDay", 10**15)]


@pytest.mark.parametrize("field, step", STEPS, ids=[f for f, _ in STEPS])
def test_setMarketConfig__raise_past_its_step__reverts_ConfigStepTooLarge_lowering_is_free(
    venue, gov, cfg, field, step, reverts
):
    """A raise of a margin, the liquidation penalty or share, a fee or the funding cap is bounded per change:
    reaching a harmful value takes many changes, each behind the governance delay. Lowering is not bounded."""
    base = config_with(cfg, initialMarginBps=1500, maintenanceMarginBps=400, liquidatorShareBps=2000)
    venue.setMarketConfig(1, base, sender=gov)  # each raise within its step
    current = base[field]
    with reverts(venue.ConfigStepTooLarge, name=field, current=current, proposed=current + step + 1, maxStep=step):
        venue.setMarketConfig(1, config_with(base, **{field: current + step + 1}), sender=gov)
    venue.setMarketConfig(1, config_with(base, **{field: current + step}), sender=gov)
    venue.setMarketConfig(1, config_with(base, **{field: current // 2}), sender=gov)
    assert dict(zip(cfg, venue.marketConfig(1)))[field] == current // 2


def test_setMarketConfig__non_owner__reverts(venue, stranger, cfg, reverts):
    with reverts(venue.OwnableUnauthorizedAccount, account=stranger):
        venue.setMarketConfig(1, cfg, sender=stranger)


def test_setMarketConfig__out_of_bounds__reverts_InvalidConfig_naming_the_field(venue, gov, cfg, reverts):
    for overrides, field in OUT_OF_BOUNDS:
        with reverts(venue.InvalidConfig, name=field):
            venue.setMarketConfig(1, config_with(cfg, **overrides), sender=gov)
    assert normalized(venue.marketConfig(1)) == normalized(cfg.values())


@pytest.mark.parametrize("market_id", [0, 2])
def test_setMarketConfig__unknown_market__reverts_UnknownMarket(venue, gov, cfg, market_id, reverts):
    with reverts(venue.UnknownMarket, marketId=market_id):
        venue.setMarketConfig(market_id, cfg, sender=gov)


def test_setMarketConfig__open_interest__accrues_funding_at_old_rate_first(
    venue, gov, cfg, whale, open_account, block_time, chain, model, price0
):
    size = to_wad(2)
    open_account(whale, 100_000)
    opened = block_time(venue.trade(1, size, 0, sender=whale))

    chain.pending_timestamp = opened + 3_600
    receipt = venue.setMarketConfig(1, config_with(cfg, maxFundingRatePerDay=0), sender=gov)
    elapsed = block_time(receipt) - opened

    index = model.index_delta(cfg["maxFundingRatePerDay"], price0, elapsed)
    state = venue.marketState(1)
    assert index > 0
    assert state.fundingIndex == index
    assert state.lastFundingTime == block_time(receipt)
    # At the new (zero) rate nothing more accrues.
    chain.mine(timestamp=block_time(receipt) + 3_600)
    assert venue.fundingOwed(1, whale) == model.owed(size, index)


@pytest.mark.parametrize(
    "call",
    [
        lambda v, a: v.depositMargin(2, a, 1, sender=a),
        lambda v, a: v.withdrawMargin(2, 1, a, sender=a),
        lambda v, a: v.trade(2, 1, 0, sender=a),
        lambda v, a: v.modifyPosition(2, 0, 1, a, sender=a),
        lambda v, a: v.liquidate(2, a, sender=a),
        lambda v, a: v.indexPrice.transact(2, sender=a),
        lambda v, a: v.accountState.transact(2, a, sender=a),
        lambda v, a: v.fundingOwed.transact(2, a, sender=a),
        lambda v, a: v.quoteTrade.transact(2, 1, sender=a),
        lambda v, a: v.quoteModify.transact(2, a, 0, 1, sender=a),
    ],
    ids=[
        "depositMargin",
        "withdrawMargin",
        "trade",
        "modifyPosition",
        "liquidate",
        "indexPrice",
        "accountState",
        "fundingOwed",
        "quoteTrade",
        "quoteModify",
    ],
)
def test_market_entry_points__unknown_market__revert_UnknownMarket(venue, fish, call, reverts):
    with reverts(venue.UnknownMarket, marketId=2):
        call(venue, fish)
