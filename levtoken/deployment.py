"""Deploying the protocol and reading it back: config file in, deployment record (JSON) out.

The record is what every other command reads: addresses, chain id, block and parameters.
Deploying again against the same record and chain reuses what is there and adds only what is missing.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import Any, Iterable

from ape import chain, project
from eth_utils import is_address, to_checksum_address

from levtoken.deploy_config import GOVERNANCE_DELAY, MORPHO, PERP, DeployConfig, DeploymentError, token_params
from levtoken.governance import DEFAULT_ADMIN_ROLE, Change, deploy_governance, execute, hand_over, schedule
from levtoken.money_market import MarketSettings, MoneyMarket, deploy_venue, market_config, open_markets, seed_liquidity
from levtoken.protocols import Protocols, artifact, deploy_protocols
from levtoken.shapes import MarketConfig, Params
from levtoken.units import COLLATERAL_DECIMALS, from_units, to_feed, to_units, to_wad

DEFAULT_RECORD = Path("deployments/local.json")
# The test account (test:N) that collects the tokens' fees on local chains, unless the config or --fee-recipient
# names another: not test:0, the deployer and every command's default account, so that account's holding is its
# own and `redeem ... all` takes only what it minted.
LOCAL_FEE_ACCOUNT = 8

# The venue's DelayedOrders on a new deployment: the keeper's fee per order (whole collateral units) and how long
# keepers have to execute an order before its requester may cancel it (seconds).
ORDER_EXECUTION_FEE = 1
ORDER_WINDOW = 600


@dataclass
class TokenRecord:
    """A deployed token."""

    address: str
    symbol: str
    name: str
    market: str
    market_id: int
    leverage_wad: int
    venue: str = PERP  # the config's venue kind of its market (PERP or MORPHO)


@dataclass
class Deployment:
    """The deployment record: what was deployed where. Saved as JSON."""

    chain_id: int
    network: str
    block: int
    deployer: str
    collateral: str
    collateral_is_test: bool
    venue: str
    factory: str
    feeds: dict[str, str]
    markets: dict[str, int]
    tokens: dict[str, TokenRecord]
    parameters: dict[str, Any] = field(default_factory=dict)
    # The venue's DelayedOrders: ordinary accounts' trades and LP flows, executed by keepers.
    orders: str = ""
    # The Governance that owns the venue, the factory and DelayedOrders and administers every token.
    governance: str = ""
    # False while `deploy` is under way: a record it left behind when it failed (re-running it resumes).
    complete: bool = True
    # The money-market venue, once a market asks for it (`venue = "morpho"`): "venue", "factory", "dex_quoter",
    # "protocols" (levtoken.protocols.Protocols.addresses) and "markets" (the symbols listed on it).
    money_market: dict[str, Any] = field(default_factory=dict)

    # --- persistence ---------------------------------------------------------------
    def save(self, path: Path | str) -> None:
        """Writes the record atomically (never a half-written file)."""
        path = Path(path)
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_suffix(".tmp")
        tmp.write_text(json.dumps(asdict(self), indent=2, default=str) + "\n")
        tmp.replace(path)

    @classmethod
    def load(cls, path: Path | str = DEFAULT_RECORD, check_chain: bool = True,
             require_complete: bool = True) -> "Deployment":
        """Reads a record; with check_chain, fails unless it belongs to the connected chain; with
        require_complete, fails on the record of a deployment that stopped half-way."""
        path = Path(path)
        if not path.is_file():
            raise DeploymentError(f"deployment record {path} not found; run `levtoken deploy` first")
        try:
            raw = json.loads(path.read_text())
            raw["tokens"] = {k: TokenRecord(**v) for k, v in raw["tokens"].items()}
            record = cls(**raw)
        except (json.JSONDecodeError, TypeError, KeyError) as err:
            raise DeploymentError(f"deployment record {path} is malformed: {err}") from err
        if require_complete and not record.complete:
            raise DeploymentError(
                f"deployment record {path} is incomplete (`levtoken deploy` stopped before it finished); "
                "run `levtoken deploy` again with the same --record to resume it"
            )
        if check_chain:
            record.check_chain()
        return record

    def check_chain(self) -> None:
        """Fails if the connected chain is not the record's, or the contracts are not there."""
        if chain.chain_id != self.chain_id:
            raise DeploymentError(
                f"the deployment record is for chain {self.chain_id} but the connected chain is {chain.chain_id}; "
                "pass the right --network or --record"
            )
        if not chain.provider.get_code(self.venue):
            raise DeploymentError(
                f"no contract at the recorded venue {self.venue} on chain {self.chain_id}: the chain was reset; deploy again"
            )

    # --- contract handles ----------------------------------------------------------
    def venue_kind(self, market: str | None = None) -> str:
        """The venue kind market `market` is listed on: MORPHO for the money-market venue, else PERP."""
        return MORPHO if market in self.money_market.get("markets", []) else PERP

    def venue_contract(self, market: str | None = None):
        """The venue market `market` is listed on: the MoneyMarketVenue or the PerpVenue (without a market, the
        PerpVenue)."""
        if self.venue_kind(market) == MORPHO:
            return project.MoneyMarketVenue.at(self.money_market["venue"])
        return project.PerpVenue.at(self.venue)

    def factory_contract(self, market: str | None = None):
        """The LeveragedTokenFactory of market `market`'s venue (without a market, the PerpVenue's)."""
        if self.venue_kind(market) == MORPHO:
            return project.LeveragedTokenFactory.at(self.money_market["factory"])
        return project.LeveragedTokenFactory.at(self.factory)

    def money_market_of(self, market: str) -> MoneyMarket:
        """Market `market` of the money-market venue, with the protocols under it."""
        return MoneyMarket.at(Protocols.at(self.money_market["protocols"]), self.money_market["venue"],
                              self.markets[market])

    def collateral_contract(self):
        """The collateral ERC-20 (TestStablecoin ABI, which is a superset of ERC-20)."""
        return project.TestStablecoin.at(self.collateral)

    def feed_contract(self, market: str):
        """The feed of a market symbol, with PriceFeed's ABI (AggregatorV3's and the updater's: an existing
        feed answers the AggregatorV3 part)."""
        return self.feed_contract_at(self.feeds[market])

    @staticmethod
    def feed_contract_at(address: str):
        """The feed at `address`, with PriceFeed's ABI (its AggregatorV3 part answers for any feed)."""
        return project.PriceFeed.at(address)

    def token(self, symbol: str):
        """A token by its symbol (e.g. BTC3L); raises DeploymentError listing the known ones."""
        if symbol not in self.tokens:
            same = [known for known in self.tokens if known.lower() == symbol.lower()]
            if same:
                raise DeploymentError(f"unknown token {symbol!r} (symbols are case-sensitive: {same[0]})")
            raise DeploymentError(f"unknown token {symbol!r}; deployed tokens: {', '.join(self.tokens) or 'none'}")
        return token_at(self.tokens[symbol].address)

    def orders_contract(self):
        """The venue's DelayedOrders."""
        return project.DelayedOrders.at(self.orders)

    def governance_contract(self):
        """The Governance (DeploymentError when the record has none)."""
        if not self.governance:
            raise DeploymentError("this deployment has no governance yet; run `levtoken deploy` again to put it in place")
        return project.Governance.at(self.governance)

    def token_contracts(self) -> dict[str, Any]:
        """Every token, by symbol."""
        return {symbol: self.token(symbol) for symbol in self.tokens}


def check_feed(symbol: str, address: str, heartbeat: int) -> None:
    """Fails with one line unless `address` is an AggregatorV3 feed the venue accepts for a market of this
    `heartbeat`: a contract with at most 18 decimals whose latest round is complete, positive and fresh."""
    where = f"market {symbol}: feed {address}"
    if not chain.provider.get_code(address):
        raise DeploymentError(f"{where} is not a contract on chain {chain.chain_id}")
    feed = project.AggregatorV3Interface.at(address)
    try:
        decimals = feed.decimals()
        round_id, answer, _, updated_at, answered_in_round = feed.latestRoundData()
    except Exception:
        raise DeploymentError(f"{where} does not answer decimals() and latestRoundData() (AggregatorV3)") from None
    age = chain.blocks.head.timestamp - updated_at
    if decimals > 18:
        raise DeploymentError(f"{where} has {decimals} decimals; the venue reads feeds of at most 18")
    if updated_at == 0 or answered_in_round < round_id:
        raise DeploymentError(f"{where} has no complete round yet (round {round_id})")
    if answer <= 0:
        raise DeploymentError(f"{where} answers {answer}, not a positive price")
    if age > heartbeat:
        raise DeploymentError(f"{where}: its latest round is {age} s old, older than the market's heartbeat "
                              f"({heartbeat} s); use a live feed or a longer heartbeat")


def _check_seed_funds(collateral, deployer, pool_seed: float) -> None:
    """Fails with one line unless the deployer holds `pool_seed` (human units) of an existing collateral, the
    LP pool's seed it provides on a chain without the test stablecoin."""
    decimals = collateral.decimals()
    held = collateral.balanceOf(deployer)
    if held < to_units(pool_seed, decimals):
        raise DeploymentError(
            f"pool_seed is {pool_seed:,} {collateral.symbol()} but the deployer {deployer.address} holds "
            f"{from_units(held, decimals):,}: fund it or lower [collateral] pool_seed"
        )


def deploy(
    config: DeployConfig,
    deployer,
    record_path: Path | str = DEFAULT_RECORD,
    keeper: str | None = None,
    guardian: str | None = None,
    fee_recipient: str | None = None,
    log=print,
) -> Deployment:
    """Deploys collateral (local only), venue, factory, a PriceFeed for each market that names no existing
    feed, and the config's tokens, and seeds the LP pool with `pool_seed` (minted on local chains, from the
    deployer's collateral elsewhere). Reuses a record for the same chain: nothing is deployed twice.
    New tokens' fees go to the config's `fee_recipient`, else `fee_recipient`, else test:LOCAL_FEE_ACCOUNT on
    a local chain and the deployer elsewhere."""
    record_path = Path(record_path)
    record = None
    if record_path.is_file():
        record = Deployment.load(record_path, check_chain=False, require_complete=False)
        if record.chain_id != chain.chain_id:
            raise DeploymentError(
                f"{record_path} belongs to chain {record.chain_id}, not the connected chain {chain.chain_id}; "
                "use another --record path"
            )
        if not chain.provider.get_code(record.venue):
            log(f"{record_path}: contracts are gone from this chain (it was reset); deploying afresh")
            record = None
        else:
            record.complete = False  # until whatever the config adds is deployed
    keeper = keeper or deployer.address
    guardian = guardian or deployer.address
    is_local = chain.chain_id in (1337, 31337)
    if not is_local and config.governance_delay < GOVERNANCE_DELAY:
        raise DeploymentError(f"[governance] delay is {config.governance_delay} s; chain {chain.chain_id} is not a "
                              f"local one, where the governance waits at least {GOVERNANCE_DELAY} s (2 days)")
    if fee_recipient is None:
        from ape import accounts

        fee_recipient = accounts.test_accounts[LOCAL_FEE_ACCOUNT].address if is_local else deployer.address
    # Nothing is sent before the whole config is known to be one the contracts take (and, on a record, the one
    # it deployed).
    decimals = COLLATERAL_DECIMALS  # the test stablecoin's
    if record is not None:
        decimals = record.collateral_contract().decimals()
    elif config.collateral_address:
        address = config.collateral_address
        if not (is_address(address) and chain.provider.get_code(address)):
            raise DeploymentError(f"{config.path}: [collateral] address {address} is not a contract on chain "
                                  f"{chain.chain_id}")
        decimals = project.TestStablecoin.at(address).decimals()
    config.check(decimals, fee_recipient)
    deploys_protocols = [m.symbol for m in config.markets
                         if m.venue == MORPHO and not m.money_market_settings().existing]
    if deploys_protocols and not is_local:
        raise DeploymentError(f"{config.path}: market(s) {', '.join(deploys_protocols)} set venue = \"morpho\" "
                              f"without naming the chain's own protocols; on chain {chain.chain_id} give each "
                              "morpho, long_market, short_market and pool (only a local chain gets its own)")
    if record is not None:
        _check_matches(config, record, record_path)
    for market in config.markets:  # an existing feed the venue could not read
        if market.feed and (record is None or market.symbol not in record.markets):
            heartbeat = (market.money_market_settings().heartbeat if market.venue == MORPHO
                         else market.venue_config(market.feed, decimals).heartbeat)
            check_feed(market.symbol, market.feed, heartbeat)

    if record is None:
        if config.collateral_address:
            collateral = project.TestStablecoin.at(config.collateral_address)
            collateral_is_test = False
            _check_seed_funds(collateral, deployer, config.pool_seed)  # before anything is deployed
        elif is_local:
            collateral = deployer.deploy(project.TestStablecoin)
            collateral_is_test = True
            log(f"deployed TestStablecoin (tUSD) at {collateral.address}")
        else:
            raise DeploymentError("on a non-local chain set [collateral] address in the config (a real stablecoin)")
        venue = deployer.deploy(project.PerpVenue, collateral.address, deployer.address)
        log(f"deployed PerpVenue at {venue.address}")
        venue.register(deployer.address, True, sender=deployer)  # the operator seeds the pool in one step
        factory = deploy_factory(deployer, venue.address, deployer.address)
        log(f"deployed LeveragedTokenFactory at {factory.address} (tokens are clones of {factory.implementation()})")
        fee = ORDER_EXECUTION_FEE * 10 ** collateral.decimals()
        orders = deploy_orders(deployer, venue.address, keeper, fee)
        log(f"deployed DelayedOrders at {orders.address} (keeper {keeper}, execution fee {ORDER_EXECUTION_FEE} "
            f"{collateral.symbol()}, window {ORDER_WINDOW} s)")
        record = Deployment(
            chain_id=chain.chain_id,
            network=f"{chain.provider.network.choice}:{chain.provider.name}",
            block=chain.blocks.height,
            deployer=deployer.address,
            collateral=collateral.address,
            collateral_is_test=collateral_is_test,
            venue=venue.address,
            factory=factory.address,
            orders=orders.address,
            feeds={},
            markets={},
            tokens={},
            complete=False,
        )
        record.save(record_path)
    venue = record.venue_contract()
    factory = record.factory_contract()
    collateral = record.collateral_contract()
    decimals = collateral.decimals()

    seed = to_units(config.pool_seed, decimals) if venue.totalLpShares() == 0 else 0
    if seed and not record.collateral_is_test:
        _check_seed_funds(collateral, deployer, config.pool_seed)

    for market in config.markets:
        if market.symbol in record.markets:
            continue
        if market.feed:
            feed = to_checksum_address(market.feed)
            source = {"feed_deployed": False}
        else:
            deployed = deployer.deploy(project.PriceFeed, 8, f"{market.symbol} / USD", deployer.address)
            deployed.submit(to_feed(market.initial_price), sender=deployer)
            feed = deployed.address
            source = {"feed_deployed": True, "initial_price": market.initial_price}
        record.feeds[market.symbol] = feed
        if market.venue == MORPHO:
            settings = market.money_market_settings()
            record.markets[market.symbol] = _list_on_money_market(record, record_path, market.symbol, feed, settings,
                                                                  deployer, log)
            record.parameters[f"market:{market.symbol}"] = {**source, "venue": MORPHO, **vars(settings)}
        else:
            config_struct = market.venue_config(feed, decimals)
            _as_owner(record, deployer, venue, "listMarket", market.symbol, config_struct.to_tuple())
            record.markets[market.symbol] = venue.marketCount()
            record.parameters[f"market:{market.symbol}"] = {**source, **config_struct.to_abi()}
        record.save(record_path)
        log(f"listed market {market.symbol} (id {record.markets[market.symbol]})"
            f"{' on the money-market venue' if market.venue == MORPHO else ''} with "
            f"{'its own' if market.feed else 'a new'} feed {feed}")

    if seed:
        if record.collateral_is_test:
            collateral.mint(deployer, seed, sender=deployer)
        collateral.approve(venue.address, seed, sender=deployer)
        venue.addLiquidity(seed, 0, sender=deployer)
        log(f"seeded the LP pool with {config.pool_seed:,} {collateral.symbol()} from the deployer")

    for spec in config.tokens:
        market_id = record.markets[spec.market]
        leverage = to_wad(spec.leverage)
        factory = record.factory_contract(spec.market)
        address = factory.tokenFor(market_id, leverage)
        if int(address, 16) == 0:
            params = token_params(spec, fee_recipient, decimals)
            token_spec = (market_id, leverage, 0, params.to_tuple(), keeper, guardian)
            _as_owner(record, deployer, factory, "createToken", token_spec)
            address = factory.tokenFor(market_id, leverage)
            log(f"created token at {address} (fees to {params.fee_recipient})")
        token = token_at(address)
        symbol = token.symbol()
        if symbol not in record.tokens:
            record.tokens[symbol] = TokenRecord(address, symbol, token.name(), spec.market, market_id, leverage,
                                                record.venue_kind(spec.market))
            record.parameters[f"token:{symbol}"] = Params.abi_dict(token.params())
            record.save(record_path)
    _put_governance_in_place(record, record_path, config.governance_delay, deployer, guardian, log)
    record.complete = True
    record.save(record_path)
    return record


def _list_on_money_market(record: Deployment, record_path: Path, symbol: str, feed_address: str,
                          settings: MarketSettings, deployer, log) -> int:
    """Lists `symbol` on the record's money-market venue, deploying the venue and its factory the first time. On a
    local chain the protocols under it are deployed (once) and a test asset, its lending markets and pool are
    opened at the feed's price and seeded by `deployer`; on a chain with its own (`settings.existing`) they are
    the chain's, named by the settings. Returns the venue's market id."""
    collateral = record.collateral_contract()
    if not record.money_market:
        addresses = ({"morpho": to_checksum_address(settings.morpho)} if settings.existing
                     else deploy_protocols(deployer, collateral.address).addresses())
        venue = deploy_venue(deployer, collateral, addresses["morpho"])
        factory = deploy_factory(deployer, venue.address, deployer.address)
        record.money_market = {"venue": venue.address, "factory": factory.address, "dex_quoter": venue.quoter(),
                               "protocols": addresses, "markets": []}
        record.save(record_path)
        log(f"deployed MoneyMarketVenue at {venue.address} on Morpho Blue at {addresses['morpho']}, and its "
            f"LeveragedTokenFactory at {factory.address}")
    venue = project.MoneyMarketVenue.at(record.money_market["venue"])
    feed = record.feed_contract_at(feed_address)
    if settings.existing:
        morpho = artifact("Morpho").at(venue.morpho())
        long_market, short_market = (tuple(morpho.idToMarketParams(bytes.fromhex(id_[2:])))
                                     for id_ in (settings.long_market, settings.short_market))
        _as_owner(record, deployer, venue, "listMarket", symbol,
                  market_config(feed.address, to_checksum_address(settings.pool), long_market, short_market, settings))
        record.money_market["markets"].append(symbol)
        log(f"listed {symbol} on the chain's Morpho markets {settings.long_market[:10]}… and "
            f"{settings.short_market[:10]}… and its pool {settings.pool}")
        return venue.marketCount()
    protocols = Protocols.at(record.money_market["protocols"])
    price = Decimal(feed.latestRoundData()[1]) / 10 ** feed.decimals()
    asset = deployer.deploy(project.TestAsset, f"Test {symbol}", f"t{symbol}")
    long_market, short_market, pool = open_markets(protocols, collateral, asset, feed, price, deployer, settings)
    _as_owner(record, deployer, venue, "listMarket", symbol,
              market_config(feed.address, pool.address, long_market, short_market, settings))
    market = MoneyMarket(protocols, venue, asset, pool, long_market, short_market, venue.marketCount())
    seed_liquidity(market, collateral, price, deployer, deployer, settings)
    record.money_market["markets"].append(symbol)
    log(f"opened {symbol}'s Morpho markets (LLTV {settings.lltv:.0%}, ${settings.lend:,} lent on each side, borrowed at "
        f"{settings.stable_rate:.1%} and {settings.asset_rate:.1%} a year) and its pool at ${price:,.2f} "
        f"(${2 * settings.pool_depth:,} of each token)")
    return market.market_id


def _check_matches(config: DeployConfig, record: Deployment, record_path: Path) -> None:
    """DeploymentError unless every market and token the config shares with the deployment of `record` stands at
    the config's settings now (the venue's and the tokens' own values), and the collateral and the governance's
    delay are the config's: a config that differs is refused with what differs, never ignored. Markets and
    tokens only the config names are what a second deploy adds."""
    decimals = record.collateral_contract().decimals()
    differs = []
    if config.collateral_address and to_checksum_address(config.collateral_address) != record.collateral:
        differs.append(f"[collateral] address {record.collateral} deployed, {config.collateral_address} in the file")
    if record.governance:
        delay = record.governance_contract().getMinDelay()
        if delay != config.governance_delay:
            differs.append(f"[governance] delay {delay} s deployed, {config.governance_delay} s in the file")
    venue = record.venue_contract()
    for market in config.markets:
        if market.symbol in record.markets and (market.venue == MORPHO) != (record.venue_kind(market.symbol) == MORPHO):
            differs.append(f"market {market.symbol} on the {record.venue_kind(market.symbol)} venue deployed, "
                           f"venue = {market.venue!r} in the file")
        elif market.symbol in record.markets and market.venue == MORPHO:
            current = record.venue_contract(market.symbol).marketConfig(record.markets[market.symbol])
            wanted = market.money_market_settings()
            pairs = (("heartbeat", current.heartbeat, wanted.heartbeat),
                     ("max_slippage_bps", current.maxSlippageBps, wanted.max_slippage_bps),
                     ("max_ltv", current.maxLtv / 1e18, wanted.max_ltv),
                     *(() if wanted.existing else (("lltv", current.longMarket[4] / 1e18, wanted.lltv),)))
            differs += [f"market {market.symbol} {name} {have:g} deployed, {want:g} in the file"
                        for name, have, want in pairs if have != want]
        elif market.symbol in record.markets:
            current = MarketConfig.from_abi(venue.marketConfig(record.markets[market.symbol]))
            wanted = market.venue_config(to_checksum_address(market.feed) if market.feed else current.feed, decimals)
            differs += _differences(f"market {market.symbol}", current, wanted, decimals)
    symbols = {(token.market, token.leverage_wad): symbol for symbol, token in record.tokens.items()}
    for spec in config.tokens:
        symbol = symbols.get((spec.market, to_wad(spec.leverage)))
        if symbol is not None:
            current = Params.from_abi(record.token(symbol).params())
            # the fee recipient differs only when the file names one
            differs += _differences(symbol, current, token_params(spec, current.fee_recipient, decimals), decimals)
    if differs:
        raise DeploymentError(
            f"{config.path} differs from the deployment in {record_path}: {'; '.join(differs)}. Change a deployed "
            "setting through the governance (`levtoken governance propose SYMBOL setting=value`), or deploy this "
            "config beside it with another --record"
        )


def _differences(where: str, current, wanted, decimals: int) -> list[str]:
    """Each field of two structs of one shape that differs, in a reader's words."""
    return [f"{where} {name} {current.human(name, getattr(current, name), decimals)} deployed, "
            f"{current.human(name, getattr(wanted, name), decimals)} in the file"
            for name, _, _ in current.table() if getattr(current, name) != getattr(wanted, name)]


def _put_governance_in_place(record: Deployment, record_path, delay: int, deployer, guardian: str, log) -> None:
    """Deploys the Governance (once) and hands it every privileged role the deployer still holds: the
    ownership of the venue, the factory and DelayedOrders (accepted by the governance at once when its delay is 0,
    otherwise scheduled to be accepted when the delay has passed: `levtoken governance execute`), and each
    token's admin role."""
    if not record.governance:
        governance = deploy_governance(deployer, delay, [deployer.address], guardians=[guardian])
        record.governance = governance.address
        record.save(record_path)
        log(f"deployed Governance at {governance.address} (delay {delay} s; proposer {deployer.address}, "
            f"guardian {guardian})")
    governance = record.governance_contract()
    ready = governance.getMinDelay() == 0
    contracts = [record.venue_contract(), record.factory_contract(), record.orders_contract()]
    for market in record.money_market.get("markets", [])[:1]:  # the money-market venue and its factory, once
        contracts += [record.venue_contract(market), record.factory_contract(market)]
    ownables = [c for c in contracts if governance.address not in (c.owner(), c.pendingOwner())]
    if ownables:
        hand_over(governance, deployer, ownables=ownables, accept_now=ready)
        names = ", ".join(c.contract_type.name for c in ownables)
        log(f"{names} handed to the governance" +
            ("" if ready else "; it accepts them once the delay has passed (anyone may execute the acceptance)"))
    for symbol, token in record.token_contracts().items():
        if token.hasRole(DEFAULT_ADMIN_ROLE, deployer.address):
            hand_over(governance, deployer, tokens=[token])
            log(f"{symbol} administered by the governance")


def _as_owner(record: Deployment, deployer, contract, method: str, *args) -> None:
    """Calls an owner-only `method` of `contract`: directly when the deployer owns it, through the governance
    (scheduled and executed at once) when the governance owns it with no delay; otherwise one line on why not."""
    owner = contract.owner()
    if owner == deployer.address:
        getattr(contract, method)(*args, sender=deployer)
        return
    if record.governance and owner == record.governance:
        governance = record.governance_contract()
        delay = governance.getMinDelay()
        if delay == 0:
            change = Change(contract, method, args)
            schedule(governance, deployer, change)
            execute(governance, deployer, change)
            return
        raise DeploymentError(f"{contract.contract_type.name}.{method} is the governance's, which waits {delay} s: "
                              "propose it through the governance instead of deploying it")
    raise DeploymentError(f"{contract.contract_type.name} at {contract.address} is owned by {owner}, not the deployer "
                          f"{deployer.address} or the record's governance")


def token_at(address: str):
    """The LeveragedToken at `address`. A token is an EIP-1167 clone, which ape would follow to its implementation
    and whatever contract type its caches hold for that address (from another chain that reused it); the token's
    own type is given, and nothing cached is read."""
    return chain.contracts.instance_at(address, contract_type=project.LeveragedToken.contract_type,
                                       fetch_from_explorer=False, fetch_from_disk=False, detect_proxy=False,
                                       replace=True)


def deploy_factory(deployer, venue: str, owner: str):
    """Deploys the shared LeveragedTokenLogic, the LeveragedToken implementation every token is a clone of
    (locked by its constructor) and a LeveragedTokenFactory on `venue` owned by `owner`, and makes the factory the
    venue's registrar (its tokens trade in one step) when `deployer` owns the venue (otherwise the venue's owner
    must call `setRegistrar`); returns the factory."""
    logic = deployer.deploy(project.LeveragedTokenLogic)
    implementation = deployer.deploy(project.LeveragedToken, logic.address)
    factory = deployer.deploy(project.LeveragedTokenFactory, venue, implementation.address, owner)
    market = project.PerpVenue.at(venue)
    if market.owner() == deployer.address:
        market.setRegistrar(factory.address, sender=deployer)
    return factory


def deploy_orders(deployer, venue: str, keeper: str, execution_fee: int, window: int = ORDER_WINDOW):
    """Deploys the venue's DelayedOrders (owned by `deployer`, `execution_fee` in collateral units, `window`
    seconds), names it on the venue (the deployer must own it) and lets `keeper` execute; returns it."""
    orders = deployer.deploy(project.DelayedOrders, venue, deployer.address, execution_fee, window)
    project.PerpVenue.at(venue).setOrders(orders.address, sender=deployer)
    orders.setKeeper(keeper, True, sender=deployer)
    return orders


def local_account(address: str):
    """The ape test account with `address` (a local chain's deployer or keeper); DeploymentError if none is."""
    from ape import accounts

    for account in accounts.test_accounts:
        if account.address.lower() == address.lower():
            return account
    raise DeploymentError(f"{address} is not one of the local test accounts: pass the account that signs for it")


def updatable_feed(deployment: Deployment, market: str, updater) -> Any:
    """The market's feed; DeploymentError unless `updater` may publish its prices (UPDATER_ROLE)."""
    feed = deployment.feed_contract(market)
    if not feed.hasRole(feed.UPDATER_ROLE(), updater):
        raise DeploymentError(f"{updater.address} may not publish {market} prices (no UPDATER_ROLE on {feed.address})")
    return feed


def publish_newer_round(deployment: Deployment, market: str, updater) -> Any:
    """Publishes the feed's latest answer again one second after the head block, so every request made so far
    qualifies (a round in the same second as a request never prices it); returns the receipt. Local chains
    only (the next block's time is set with evm_setNextBlockTimestamp); `updater` holds the feed's
    UPDATER_ROLE."""
    feed = updatable_feed(deployment, market, updater)
    head = chain.provider.web3.eth.get_block("latest")["timestamp"]
    chain.provider.make_request("evm_setNextBlockTimestamp", [head + 1])
    return feed.submit(feed.latestRoundData()[1], sender=updater)


def check_settle_now(deployment: Deployment, symbols: Iterable[str], updater, keeper) -> None:
    """Raises DeploymentError unless `updater` may publish the prices of the markets of `symbols` (the feeds'
    UPDATER_ROLE) and `keeper` may settle those tokens (KEEPER_ROLE)."""
    for symbol in symbols:
        updatable_feed(deployment, deployment.tokens[symbol].market, updater)
        token = deployment.token(symbol)
        if not token.hasRole(token.KEEPER_ROLE(), keeper):
            raise DeploymentError(f"{keeper.address} may not settle {symbol} (no KEEPER_ROLE)")


def settle_now(deployment: Deployment, symbols: Iterable[str], updater, keeper) -> list[Any]:
    """Publishes a newer round on each market of `symbols` (see publish_newer_round) and settles each token as
    `keeper` (KEEPER_ROLE): the requests waiting on them are priced; returns the settle() receipts. Checks the
    roles first (check_settle_now), so a refusal changes nothing."""
    symbols = list(dict.fromkeys(symbols))
    check_settle_now(deployment, symbols, updater, keeper)
    for market in dict.fromkeys(deployment.tokens[symbol].market for symbol in symbols):
        publish_newer_round(deployment, market, updater)
    return [deployment.token(symbol).settle(sender=keeper) for symbol in symbols]


def mint_for(deployment: Deployment, holders: Iterable[tuple[Any, str, int]], updater=None, keeper=None,
             faucet_sender=None) -> list[int]:
    """Mints tokens for (account, token symbol, collateral units) holders on a local chain: funds them from the
    test stablecoin's faucet, requests their deposits, publishes a newer round with `updater`, settles each
    token with `keeper` (both default to the deployer's test account) and claims for each holder. Returns the
    shares each holder claimed, in order; nothing is left waiting."""
    holders = list(holders)
    updater = updater or local_account(deployment.deployer)
    keeper = keeper or updater
    collateral = deployment.collateral_contract()
    for account, symbol, amount in holders:
        token = deployment.token(symbol)
        if deployment.collateral_is_test:
            collateral.mint(account, amount, sender=faucet_sender or account)
        collateral.approve(token.address, amount, sender=account)
        token.requestDeposit(amount, account, account, sender=account)
    settle_now(deployment, [symbol for _, symbol, _ in holders], updater, keeper)
    claimed = []
    for account, symbol, _ in holders:
        token = deployment.token(symbol)
        if token.pendingDepositRequest(0, account):
            raise DeploymentError(f"{symbol} deferred the deposit of {account.address} (paused, supply cap or venue)")
        claimable = token.maxDeposit(account)
        shares = 0
        if claimable:  # zero when an earlier entry of the same holder and token claimed it all
            receipt = token.deposit(claimable, account, sender=account)
            shares = receipt.decode_logs(token.Deposit)[0].shares
        claimed.append(shares)
    return claimed
