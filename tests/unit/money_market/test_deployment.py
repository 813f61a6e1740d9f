"""`levtoken deploy` of config/money-market.toml: the market listed on the money-market venue (Morpho Blue and
Uniswap v3 deployed from their packages, its lending markets and pool opened at the feed's price and seeded), its
tokens created by that venue's factory and recorded with their venue kind; holders' mints settle into loops whose
equity is the protocols' to the unit. Deploying the same config again changes nothing; a file that differs from
what is deployed is refused with what differs."""

from __future__ import annotations

from pathlib import Path

import pytest

from levtoken.deploy_config import MORPHO, DeployConfig, DeploymentError
from levtoken.deployment import Deployment, deploy, mint_for
from levtoken.governance import GovernanceError, execute_pending, pending_changes, propose_settings
from levtoken.money_market import position_from_protocols
from levtoken.shapes import MoneyMarketConfig
from levtoken.units import to_units
from tests.utils.checks import LEVERAGE_TOLERANCE, rel

CONFIG = Path("config/money-market.toml")


@pytest.fixture(scope="module")
def record(gov, tmp_path_factory) -> Path:
    """config/money-market.toml deployed by gov; the record's path."""
    path = tmp_path_factory.mktemp("money-market") / "deployment.json"
    deploy(DeployConfig.load(CONFIG), gov, path, log=lambda line: None)
    return path


def test_deploy__tokens_on_the_money_market__mints_settle_into_loops(record, fish, chain):
    """Every token of the file is on the money-market venue (its record says so, and the token names that venue),
    and a $10,000 mint of each settles into a loop at its target leverage, its equity the protocols' to the unit."""
    deployment = Deployment.load(record)
    assert deployment.venue_kind("BTC") == MORPHO
    market = deployment.money_market_of("BTC")
    assert set(deployment.tokens) == {"BTC3L", "BTC3S", "BTC1S"}
    mint_for(deployment, [(fish, symbol, to_units(10_000)) for symbol in deployment.tokens])
    for symbol, entry in deployment.tokens.items():
        token = deployment.token(symbol)
        assert entry.venue == MORPHO and token.venue() == market.venue.address
        value, size, _ = market.venue.accountState(market.market_id, token.address)
        assert (value, size) == position_from_protocols(market, token.address, chain.blocks.head.timestamp)
        # The hedge is sized net of its quoted fee and impact, whose shape only approximates a pool's cost curve.
        assert rel(token.leverage(), entry.leverage_wad) < 10 * LEVERAGE_TOLERANCE


def test_deploy_again__same_file_adds_nothing__a_changed_lltv_is_refused(record, gov, tmp_path):
    """The same file deploys nothing more; one whose LLTV differs from the deployed market's is refused, naming
    both values, before anything is sent."""
    before = record.read_text()
    deploy(DeployConfig.load(CONFIG), gov, record, log=lambda line: None)
    assert record.read_text().replace('"complete": true', "") == before.replace('"complete": true', "")
    changed = tmp_path / "changed.toml"
    changed.write_text(CONFIG.read_text().replace("lltv = 0.86", "lltv = 0.915"))
    with pytest.raises(DeploymentError, match="market BTC lltv 0.86 deployed, 0.915 in the file"):
        deploy(DeployConfig.load(changed), gov, record, log=lambda line: None)


@pytest.mark.parametrize("setting, line", [
    ("max_ltv = 0.80", "max_ltv = 0.9 must be below lltv = 0.86"),
    ("max_slippage_bps = 100", "max_slippage_bps = 5000 must be from 1 to 1000 bps"),
    ('venue = "morpho"', "venue = 'aave' is not one of perp, morpho"),
])
def test_config__a_bad_money_market_setting__one_line_in_the_files_units(tmp_path, setting, line):
    """A money-market setting the venue or Morpho would refuse is one line naming the bound, found before anything
    is sent."""
    bad = {"max_ltv = 0.80": "max_ltv = 0.9", "max_slippage_bps = 100": "max_slippage_bps = 5000",
           'venue = "morpho"': 'venue = "aave"'}[setting]
    path = tmp_path / "bad.toml"
    path.write_text(CONFIG.read_text().replace(setting, bad))
    with pytest.raises(DeploymentError, match=line.replace("(", r"\(").replace(")", r"\)")):
        DeployConfig.load(path).check(6, "0x" + "1" * 40)


def test_governance__a_market_setting_proposed_in_its_units__lands_on_the_venue(record, gov):
    """`propose_settings` on a money market (as `levtoken governance propose BTC ...` calls it) schedules the
    venue's setMarketConfig, described in the settings' units and affecting the market's tokens; executed, the
    venue has it. Its feed and lending markets are refused in one line before anything is sent."""
    deployment = Deployment.load(record)
    venue, market = deployment.venue_contract("BTC"), deployment.markets["BTC"]
    pending, _ = propose_settings(deployment, gov, "BTC", {"maxSlippageBps": "150", "max_ltv": "0.85"})
    assert pending.description == "market BTC: maxSlippageBps 100 bps -> 150 bps, maxLtv 0.8 -> 0.85"
    assert set(pending.tokens) == set(deployment.tokens)
    assert [p.id for p in pending_changes(deployment)] == [pending.id]
    execute_pending(deployment, gov, pending.id)
    config = MoneyMarketConfig.from_abi(venue.marketConfig(market))
    assert (config.max_slippage_bps, config.max_ltv) == (150, 85 * 10**16)
    for name in ("feed", "longMarket", "short_market"):
        with pytest.raises(GovernanceError, match=f"market BTC's {MoneyMarketConfig.sol_name(name)} holds its "
                                                  "tokens' loops and stays as listed"):
            propose_settings(deployment, gov, "BTC", {name: gov.address})
