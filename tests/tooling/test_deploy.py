"""levtoken.deployment: config file in, deployment record out, idempotent, chain-checked."""

import json
from pathlib import Path
from dataclasses import replace

import pytest
from ape import project

from levtoken.deploy_config import DeployConfig, DeploymentError
from levtoken.deployment import LOCAL_FEE_ACCOUNT, Deployment, deploy
from levtoken.governance import DEFAULT_ADMIN_ROLE
from levtoken.shapes import MarketConfig
from levtoken.units import to_feed, to_units


@pytest.fixture
def config():
    return DeployConfig.load("config/local.toml")


def test_deploy__fresh_chain__record_has_every_part(config, gov, tmp_path, chain):
    record_path = tmp_path / "record.json"
    record = deploy(config, gov, record_path, log=lambda m: None)
    assert set(record.tokens) == {"BTC3L", "BTC3S", "BTC1S"}
    assert record.chain_id == chain.chain_id
    saved = Deployment.load(record_path)
    assert saved.venue == record.venue and saved.tokens["BTC3L"].address == record.tokens["BTC3L"].address
    venue = saved.venue_contract()
    assert venue.marketCount() == 1
    assert venue.poolCash() == 50_000_000 * 10**6
    for symbol, token in saved.token_contracts().items():
        assert token.symbol() == symbol
        assert token.targetLeverage() == saved.tokens[symbol].leverage_wad
        assert token.hasRole(token.KEEPER_ROLE(), gov)
    assert saved.parameters["token:BTC3L"]["mintFeeBps"] == 10
    # Every privileged role is the governance's: the deployer keeps none but proposing through it.
    governance = saved.governance_contract()
    assert venue.owner() == saved.factory_contract().owner() == saved.orders_contract().owner() == governance.address
    for token in saved.token_contracts().values():
        assert token.hasRole(DEFAULT_ADMIN_ROLE, governance.address) and not token.hasRole(DEFAULT_ADMIN_ROLE, gov)
    assert governance.hasRole(governance.PROPOSER_ROLE(), gov) and governance.getMinDelay() == config.governance_delay


def test_deploy__governance_with_a_delay__config_added_later_is_refused_with_one_line(config, gov, tmp_path):
    """With a delay, a market or token the config adds after the hand-over is the governance's to list: the
    deployment says so instead of failing on an owner check."""
    record_path = tmp_path / "record.json"
    first = deploy(replace(config, governance_delay=3_600), gov, record_path, log=lambda m: None)
    assert first.venue_contract().pendingOwner() == first.governance  # accepted once the hour passes
    config.tokens.append(type(config.tokens[0])("BTC", 2.0, {}))
    later = replace(config, governance_delay=3_600)
    # The deployer still owns the factory until the governance accepts: the token is created directly.
    second = deploy(later, gov, record_path, log=lambda m: None)
    assert "BTC2L" in second.tokens
    assert second.token("BTC2L").hasRole(DEFAULT_ADMIN_ROLE, second.governance)


def test_deploy__run_twice__deploys_nothing_the_second_time(config, gov, tmp_path):
    record_path = tmp_path / "record.json"
    first = deploy(config, gov, record_path, log=lambda m: None)
    nonce = gov.nonce
    second = deploy(config, gov, record_path, log=lambda m: None)
    assert gov.nonce == nonce
    assert second == first


def test_deploy__config_adds_a_token__only_that_token_is_created(config, gov, tmp_path):
    record_path = tmp_path / "record.json"
    first = deploy(config, gov, record_path, log=lambda m: None)
    config.tokens.append(type(config.tokens[0])("BTC", 2.0, {}))
    second = deploy(config, gov, record_path, log=lambda m: None)
    assert set(second.tokens) == set(first.tokens) | {"BTC2L"}
    assert second.venue == first.venue


def test_load__record_of_another_chain__refused(config, gov, tmp_path):
    record_path = tmp_path / "record.json"
    deploy(config, gov, record_path, log=lambda m: None)
    raw = json.loads(record_path.read_text())
    raw["chain_id"] = 11155111
    record_path.write_text(json.dumps(raw))
    with pytest.raises(DeploymentError, match="chain 11155111"):
        Deployment.load(record_path)
    with pytest.raises(DeploymentError, match="belongs to chain 11155111"):
        deploy(config, gov, record_path, log=lambda m: None)


def test_token__unknown_symbol__lists_known_ones(config, gov, tmp_path):
    record = deploy(config, gov, tmp_path / "record.json", log=lambda m: None)
    with pytest.raises(DeploymentError, match="unknown token 'ETH3L'.*BTC3L"):
        record.token("ETH3L")


# Error message fragment: a config text that must produce it.
MALFORMED_CONFIGS = {
    "missing or malformed entry": "[[markets]]\nsymbol = 'BTC'\ninitial_price = 1\n",
    "not valid TOML": "not toml [",
    "not among markets": "[[markets]]\nsymbol='BTC'\ninitial_price=1\n[tokens]\n[[tokens.list]]\nmarket='ETH'\nleverage=3\n",
    "unknown token setting": "[[markets]]\nsymbol='BTC'\ninitial_price=1\n[tokens]\nfoo=1\n[[tokens.list]]\nmarket='BTC'\nleverage=3\n",
}


@pytest.mark.parametrize("message, text", MALFORMED_CONFIGS.items())
def test_config__malformed__clear_error(written, text, message):
    with pytest.raises(DeploymentError, match=message):
        DeployConfig.load(written("bad.toml", text))


def test_config__unknown_market_setting__names_it(written):
    text = "[[markets]]\nsymbol='BTC'\ninitial_price=1\nfee_bps=5\n[tokens]\n[[tokens.list]]\nmarket='BTC'\nleverage=3\n"
    with pytest.raises(DeploymentError, match=r"missing or malformed entry .*\['fee_bps'\]"):
        DeployConfig.load(written("bad.toml", text))


def test_config__market_settings__human_units_over_the_shapes_defaults(config):
    feed = "0x" + "11" * 20
    (market,) = config.markets
    assert market.venue_config(feed, 6) == MarketConfig.defaults(feed, 6)  # config/local.toml states the defaults
    custom = replace(market, settings={"impact_depth": 2_000, "max_funding_rate_per_day": "0.0001"})
    assert custom.venue_config(feed, 18) == MarketConfig.defaults(
        feed, 18, impact_depth=2_000 * 10**18, max_funding_rate_per_day=10**14
    )


def test_deploy__stopped_half_way__record_says_incomplete_and_a_rerun_resumes(config, gov, tmp_path):
    """Ctrl-C once the market is listed (the deployment's own progress line raises it) leaves a record marked
    incomplete; the same command again resumes it."""
    def interrupt(message: str) -> None:
        if message.startswith("listed market BTC"):
            raise KeyboardInterrupt

    record_path = tmp_path / "record.json"
    with pytest.raises(KeyboardInterrupt):
        deploy(config, gov, record_path, log=interrupt)
    assert json.loads(record_path.read_text())["complete"] is False
    with pytest.raises(DeploymentError, match="is incomplete .* run `levtoken deploy` again"):
        Deployment.load(record_path)
    half = Deployment.load(record_path, require_complete=False)
    assert list(half.markets) == ["BTC"] and not half.tokens
    resumed = deploy(config, gov, record_path, log=lambda m: None)
    assert resumed.complete and resumed.venue == half.venue and set(resumed.tokens) == {"BTC3L", "BTC3S", "BTC1S"}
    assert Deployment.load(record_path) == resumed


def test_deploy__local_chain__fees_go_to_test_8_not_the_default_account(config, gov, accounts, tmp_path):
    """On a local chain the fee recipient is test:8, not the deployer (test:0, every command's default account),
    so that account's `redeem ... all` takes only what it minted; the config's fee_recipient overrides it."""
    record = deploy(config, gov, tmp_path / "record.json", log=lambda m: None)
    for token in record.token_contracts().values():
        assert token.params().feeRecipient == accounts[LOCAL_FEE_ACCOUNT].address != gov.address
    config.tokens.append(type(config.tokens[0])("BTC", 2.0, {"fee_recipient": accounts[5].address}))
    again = deploy(config, gov, tmp_path / "record.json", log=lambda m: None)
    assert again.token("BTC2L").params().feeRecipient == accounts[5].address


def live_feed(gov, answer: int | None = 30_000):
    """A PriceFeed deployed apart from `deploy` (the chain's own feed, as far as a deployment can tell), with a
    first round at `answer` unless it is None."""
    feed = gov.deploy(project.PriceFeed, 8, "BTC / USD", gov)
    if answer is not None:
        feed.submit(to_feed(answer), sender=gov)
    return feed


def on_feed(config, feed: str):
    """The config with its one market priced by the existing feed at `feed` instead of a new PriceFeed."""
    config.markets[0] = replace(config.markets[0], initial_price=None, feed=feed)
    return config


def test_deploy__market_names_an_existing_feed__venue_reads_it_and_record_says_so(config, gov, tmp_path):
    feed = live_feed(gov)
    nonce = gov.nonce
    record = deploy(on_feed(config, feed.address), gov, tmp_path / "record.json", log=lambda m: None)
    assert record.feeds["BTC"] == feed.address
    assert record.venue_contract().marketConfig(record.markets["BTC"]).feed == feed.address
    assert record.parameters["market:BTC"]["feed_deployed"] is False and "initial_price" not in record.parameters["market:BTC"]
    # The test stablecoin; the venue and the deployer's registration; logic, token implementation, factory and the
    # factory as the venue's registrar; DelayedOrders, named on the venue, with its keeper; the listing; the pool
    # seed (mint, approve, add) and three tokens; no feed; the governance, the three ownerships handed to it and
    # accepted in one operation (scheduled, executed), and each token's admin role (granted, renounced).
    assert gov.nonce - nonce == 1 + 2 + 4 + 3 + 1 + 3 + 3 + 1 + 3 + 2 + 3 * 2


@pytest.mark.parametrize("problem", ["not a contract", "not a feed", "no complete round", "stale"])
def test_deploy__existing_feed_the_venue_cannot_use__one_clear_error_before_anything_is_sent(config, gov, tmp_path, chain,
                                                                                   problem):
    if problem == "not a contract":
        address, message = "0x" + "12" * 20, " is not a contract on chain"
    elif problem == "not a feed":
        address, message = gov.deploy(project.TestStablecoin).address, r" does not answer decimals\(\) and latestRoundData"
    elif problem == "no complete round":
        address, message = live_feed(gov, None).address, r" has no complete round yet \(round 0\)"
    else:
        address, message = live_feed(gov).address, r": its latest round is 259200 s old, older than the market's heartbeat"
        chain.mine(timestamp=chain.pending_timestamp + 3 * 86_400)
    record_path = tmp_path / "record.json"
    nonce = gov.nonce
    with pytest.raises(DeploymentError, match=f"market BTC: feed {address}{message}"):
        deploy(on_feed(config, address), gov, record_path, log=lambda m: None)
    assert gov.nonce == nonce and not record_path.exists()


@pytest.mark.parametrize("keys", ["initial_price = 1\nfeed = '0x" + "12" * 20 + "'\n", ""])
def test_config__market_with_both_or_neither_price_source__clear_error(written, keys):
    text = f"[[markets]]\nsymbol='BTC'\n{keys}[tokens]\n[[tokens.list]]\nmarket='BTC'\nleverage=3\n"
    with pytest.raises(DeploymentError, match="needs either initial_price .* or feed .*, not both"):
        DeployConfig.load(written("bad.toml", text))


def test_deploy__existing_collateral_short_of_pool_seed__refused_before_anything_is_deployed(config, gov, usd, tmp_path):
    config.collateral_address = usd.address
    usd.mint(gov, to_units(config.pool_seed) - 1, sender=gov)
    nonce = gov.nonce
    with pytest.raises(DeploymentError, match=r"pool_seed is 50,000,000 tUSD but the deployer 0x\w+ holds "
                                              r"49,999,999.999999: fund it or lower \[collateral\] pool_seed"):
        deploy(config, gov, tmp_path / "record.json", log=lambda m: None)
    assert gov.nonce == nonce and not (tmp_path / "record.json").exists()


def test_deploy__existing_collateral__pool_seeded_from_the_deployers_balance(config, gov, usd, tmp_path):
    config.collateral_address = usd.address
    usd.mint(gov, to_units(config.pool_seed) + 5, sender=gov)
    record = deploy(config, gov, tmp_path / "record.json", log=lambda m: None)
    assert not record.collateral_is_test and record.collateral == usd.address
    assert record.venue_contract().poolCash() == to_units(config.pool_seed)
    assert usd.balanceOf(gov) == 5


def test_deploy__values_the_contracts_refuse__each_named_in_the_files_units_before_anything_is_sent(written, gov,
                                                                                                 tmp_path):
    """Every bad value of a config is one line (the table it sits in, the setting as written, what it must be),
    found before the first transaction: nothing is sent and no record is written."""
    text = (Path("config/local.toml").read_text()
            .replace("initial_price = 30_000", "initial_price = 0")
            .replace("taker_fee_bps = 5 ", "taker_fee_bps = 500 ")
            .replace("mint_fee_bps = 10\n", "mint_fee_bps = -10\n")
            .replace("leverage = -1\n", "leverage = -1\nredeem_fee_bps = 20000\n")
            .replace("leverage = -3\n", "leverage = -12\n"))
    nonce = gov.nonce
    with pytest.raises(DeploymentError) as raised:
        deploy(DeployConfig.load(written("bad.toml", text)), gov, tmp_path / "record.json", log=lambda m: None)
    assert str(raised.value).splitlines() == [f"{tmp_path}/bad.toml: {line}" for line in (
        "market BTC: initial_price = 0 must be a positive price in dollars",
        "market BTC: taker_fee_bps = 500 must be at most 100 bps",
        "[tokens]: mint_fee_bps = -10 must not be negative",
        "token BTC 12x short: leverage = -12 must be from -10 to 10 (a token's hard cap, twice its target, is at most "
        "20x)",
    )]
    assert gov.nonce == nonce and not (tmp_path / "record.json").exists()
    fixed = text.replace("initial_price = 0", "initial_price = 30_000").replace("taker_fee_bps = 500 ", "taker_fee_bps = 5 ")
    fixed = fixed.replace("mint_fee_bps = -10\n", "mint_fee_bps = 10\n").replace("leverage = -12\n", "leverage = -3\n")
    with pytest.raises(DeploymentError, match=r"bad.toml: token BTC 1x short: redeem_fee_bps = 20000 must be at most 100 bps$"):
        deploy(DeployConfig.load(written("bad.toml", fixed)), gov, tmp_path / "record.json", log=lambda m: None)
    assert gov.nonce == nonce and not (tmp_path / "record.json").exists()


def test_deploy__config_differs_from_the_deployed_one__refused_with_what_differs(config, written, gov, tmp_path):
    """A second deploy on a record whose markets and tokens the config sets otherwise is refused, naming each
    difference, instead of exiting 0 with the file ignored; nothing is sent and the record is unchanged."""
    record_path = tmp_path / "record.json"
    deploy(config, gov, record_path, log=lambda m: None)
    saved, nonce = record_path.read_text(), gov.nonce
    text = (Path("config/local.toml").read_text().replace("taker_fee_bps = 5 ", "taker_fee_bps = 6 ")
            .replace("leverage = -1\n", "leverage = -1\nmint_fee_bps = 20\n"))
    with pytest.raises(DeploymentError) as raised:
        deploy(DeployConfig.load(written("other.toml", text)), gov, record_path, log=lambda m: None)
    assert str(raised.value) == (
        f"{tmp_path}/other.toml differs from the deployment in {record_path}: market BTC taker_fee_bps 5 bps deployed, "
        "6 bps in the file; BTC1S mint_fee_bps 10 bps deployed, 20 bps in the file. Change a deployed setting through "
        "the governance (`levtoken governance propose SYMBOL setting=value`), or deploy this config beside it with "
        "another --record")
    assert gov.nonce == nonce and record_path.read_text() == saved
