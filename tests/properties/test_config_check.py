"""`levtoken deploy` checks a config before it sends anything; the check must agree with the contracts. For any
token and market settings drawn around every bound (values a config file can hold: numbers in its units, within
their Solidity types), `DeployConfig.problems` finds nothing exactly when the chain accepts the very call the
deployment would make (a dry run of the factory's `createToken`, the venue's `listMarket`), and when it finds
something, the call reverts with the error of the first field it names."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

from hypothesis import given, settings
from hypothesis import strategies as st

from levtoken.deploy_config import DeployConfig, MarketEntry, TokenEntry, token_params
from levtoken.units import DAY, to_wad
from levtoken.keeper.reverts import decode_revert
from tests.utils.constants import BTC
from tests.utils.strategies import HEALTH

# Multiples of |target| a leverage setting is drawn at: on, just inside and just outside each bound.
AROUND = ["0", "0.5", "0.99", "1", "1.01", "1.333333", "1.5", "1.99", "2", "2.01"]


@st.composite
def token_entries(draw) -> TokenEntry:
    """A token of a leverage inside or beyond the factory's cap, with some of its settings drawn around their
    bounds (the leverage settings relative to its target)."""
    leverage = draw(st.sampled_from([1, 2, 3, -1, -3, 0.5, 10, -10, 10.5]))
    target = Decimal(str(abs(leverage)))
    def times(multiples):
        return st.sampled_from(multiples).map(lambda m: float((target * Decimal(m)).quantize(Decimal("0.000001"))))

    around = times(AROUND)
    drift = times(["0", "0.003333", "0.166667", "0.333333", "0.5"])  # of |target|: none, 0.01 of 3x, ... beyond
    optional = {
        "leverage_max": around, "leverage_min": around, "ripcord_leverage": around, "min_drift": drift,
        "rebalance_interval": st.sampled_from([0, 59, 60, DAY, 7 * DAY, 7 * DAY + 1]),
        "settlement_window": st.sampled_from([0, 299, 300, DAY, DAY + 1]),
        "mint_fee_bps": st.sampled_from([0, 10, 100, 101, 2_000]),
        "redeem_fee_bps": st.sampled_from([0, 100, 101]),
        "streaming_fee_per_day": st.sampled_from([0, 0.0001, 0.001, 0.0010001, 0.01]),
        "max_trade_notional": st.sampled_from([0, 0.000001, 1_000_000]),
        "ripcord_bounty": st.sampled_from([0, 10, 1_000, 1_000.000001]),
        "supply_cap": st.sampled_from([0, 1, 1e9]),
    }
    settings_ = draw(st.fixed_dictionaries({}, optional=optional))
    return TokenEntry("BTC", float(leverage), settings_)


market_settings = st.fixed_dictionaries({}, optional={
    "heartbeat": st.sampled_from([0, 59, 60, 7 * DAY, 7 * DAY + 1]),
    "taker_fee_bps": st.sampled_from([0, 100, 101]),
    "max_impact_bps": st.sampled_from([0, 500, 501]),
    "initial_margin_bps": st.sampled_from([0, 300, 1_000, 5_000, 5_001]),
    "maintenance_margin_bps": st.sampled_from([0, 49, 50, 300, 1_000, 1_001]),
    "liquidation_penalty_bps": st.sampled_from([0, 100, 200, 201]),
    "liquidator_share_bps": st.sampled_from([0, 5_000, 5_001]),
    "impact_depth": st.sampled_from([0, 1_000]),
    "max_funding_rate_per_day": st.sampled_from([0, 0.01, 0.010001]),
    "max_open_interest": st.sampled_from([0, 1]),
})


def refusal(call) -> tuple | None:
    """The custom error (name, arguments) a dry run of `call` reverts with; None when it would succeed."""
    from ape.exceptions import ContractLogicError

    try:
        call()
    except ContractLogicError as err:
        return decode_revert(err) or (str(err), {})
    return None


def config_of(markets: list[MarketEntry], tokens: list[TokenEntry]) -> DeployConfig:
    """A config as `DeployConfig.load` would build it from a file with these markets and tokens."""
    return DeployConfig("", 0, markets, tokens, 0, Path("drawn.toml"))


@settings(max_examples=30, deadline=None, suppress_health_check=HEALTH)
@given(token=token_entries())
def test_token_settings__check_finds_nothing_exactly_when_the_factory_creates_it(factory, gov, keeper,
                                                                                  fee_recipient, token):
    found = config_of([MarketEntry("BTC", 30_000.0)], [token]).problems(6, fee_recipient.address)
    if any("is too large for its field" in line for line in found):
        return  # a leverage beyond uint64's 18.4x: no call could carry it, and the check said so
    params = token_params(token, fee_recipient.address, 6)
    spec = (BTC, to_wad(token.leverage), 0, params.to_tuple(), keeper.address, gov.address)
    error = refusal(lambda: factory.createToken.call(spec, sender=gov))
    if not found:
        assert error is None, f"the check passed {token} but createToken reverted with {error}"
    elif ": leverage = " in found[0]:
        assert error and error[0] == "LeverageOutOfRange", (found, error)
    else:
        field = found[0].split(": ", 1)[1].split(" = ")[0]
        assert error == ("InvalidParameter", {"name": params.sol_name(field)}), (found, error)


@settings(max_examples=30, deadline=None, suppress_health_check=HEALTH)
@given(settings_=market_settings)
def test_market_settings__check_finds_nothing_exactly_when_the_venue_lists_it(venue, feed, gov, settings_):
    market = MarketEntry("ETH", 2_000.0, settings_)
    found = config_of([market], []).problems(6, gov.address)
    config = market.venue_config(feed.address, 6)
    error = refusal(lambda: venue.listMarket.call("ETH", config.to_tuple(), sender=gov))
    if not found:
        assert error is None, f"the check passed {settings_} but listMarket reverted with {error}"
    else:
        field = found[0].split(": ", 1)[1].split(" = ")[0]
        assert error == ("InvalidConfig", {"name": config.sol_name(field)}), (found, error)
