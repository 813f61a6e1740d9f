"""Shared fixtures: accounts named by role and factory fixtures that build exactly the state a test needs.

ape isolates every test in a chain snapshot, so module- and session-scoped deployments are cheap.
Helpers that need no fixture live in tests/utils (reverts, chain, checks, constants).
"""

from __future__ import annotations

from typing import Any, Callable

import pytest

# Before tests.utils is imported: its assertions then report their operands as a test's own do.
pytest.register_assert_rewrite("tests.utils")

from ape import project  # noqa: E402

from levtoken.deployment import deploy_factory, deploy_orders, token_at  # noqa: E402
from levtoken.shapes import UINT256_MAX, MarketConfig, Params  # noqa: E402
from levtoken.units import to_feed, to_units, to_wad  # noqa: E402
from tests.utils import chain as chain_helpers  # noqa: E402
from tests.utils.constants import BTC, INITIAL_PRICE  # noqa: E402
from tests.utils.reverts import reverts as strict_reverts  # noqa: E402

@pytest.hookimpl(tryfirst=True)
def pytest_collection_modifyitems(config, items):
    """`make test` runs on pytest-xdist workers with --dist loadgroup: a module's tests stay together, in order, on
    one worker (they share module fixtures, a node or a deployment, and some build on each other's chain); a module
    marked PROJECT_FOLDER (tests.utils.cli) runs in that group instead. Before xdist reads the groups."""
    for item in items:
        if next(item.iter_markers("xdist_group"), None) is None:
            item.add_marker(pytest.mark.xdist_group(item.module.__name__))


@pytest.fixture(scope="session", autouse=True)
def chain_clock(chain):
    """Chain time moves only when a test moves it: every new block takes its parent's timestamp
    (anvil_setBlockTimestampInterval 0) unless a test sets the next one (`pin`, `advance`,
    `chain.pending_timestamp`, `chain.mine(timestamp=...)`). A view and the transaction after it then see
    the same time whatever the wall clock does, so amounts that accrue per second (funding, the
    streaming fee) compare to the unit."""
    chain.provider.make_request("anvil_setBlockTimestampInterval", [0])
    yield
    chain.provider.make_request("anvil_removeBlockTimestampInterval", [])


# Accounts by role, in the order of ape's test accounts.
ROLES = {
    "gov": "Deployer, venue owner, factory owner, token admin and guardian.",
    "keeper": "Holds KEEPER_ROLE on every token the factory creates.",
    "lp": "Provides the venue's pool liquidity.",
    "whale": "A large holder or trader.",
    "fish": "A small holder or trader (the victim in the attack tests).",
    "stranger": "Holds no role (the attacker in the attack tests).",
    "fee_recipient": "Receives the tokens' fees.",
}


def _role_fixture(index: int, name: str, doc: str) -> Callable:
    """A session fixture `name` giving ape's test account `index`."""

    def account(accounts):
        return accounts[index]

    account.__doc__ = doc
    return pytest.fixture(scope="session", name=name)(account)


for _index, (_name, _doc) in enumerate(ROLES.items()):
    globals()[_name] = _role_fixture(_index, _name, _doc)


@pytest.fixture(scope="session")
def usd(gov):
    """The 6-decimal test stablecoin."""
    return gov.deploy(project.TestStablecoin)


@pytest.fixture(scope="session")
def feed(gov):
    """BTC / USD price feed at 30,000."""
    feed = gov.deploy(project.PriceFeed, 8, "BTC / USD", gov)
    feed.submit(to_feed(INITIAL_PRICE), sender=gov)
    return feed


@pytest.fixture(scope="session")
def make_venue(gov, usd, feed, accounts):
    """make_venue(liquidity=0, provider=None, collateral=usd, **config_overrides) -> a new PerpVenue with BTC as
    market 1 (the project's default config, overrides by field name) and `liquidity` (in dollars) of
    `provider`'s collateral in its pool. The role accounts are registered (they trade and move liquidity in one
    step, as the venue's mechanics tests need); the test accounts after them (`outsider`s) are not."""

    def _make(liquidity: float = 0, provider=None, collateral=None, **overrides: Any):
        collateral = collateral or usd
        market = gov.deploy(project.PerpVenue, collateral, gov)
        config = MarketConfig.defaults(feed.address, collateral.decimals(), **overrides).to_abi()
        market.listMarket("BTC", config, sender=gov)
        for index in range(len(ROLES)):
            market.register(accounts[index], True, sender=gov)
        if liquidity:
            units = to_units(liquidity, collateral.decimals())
            collateral.mint(provider, units, sender=provider)
            collateral.approve(market, units, sender=provider)
            market.addLiquidity(units, 0, sender=provider)
        return market

    return _make


@pytest.fixture(scope="session")
def venue(make_venue, lp):
    """PerpVenue with one BTC market (id 1) and 10M tUSD of LP liquidity."""
    return make_venue(10_000_000, lp)


@pytest.fixture(scope="session")
def outsiders(accounts):
    """Test accounts that hold no role and are not registered on the venues: they trade and provide liquidity
    only through DelayedOrders."""
    return [accounts[index] for index in range(len(ROLES) + 1, len(ROLES) + 3)]


@pytest.fixture(scope="session")
def orders(gov, keeper, venue, usd):
    """The venue's DelayedOrders: 1 USD execution fee, a 10-minute window, `keeper` executes."""
    return deploy_orders(gov, venue.address, keeper.address, to_units(1, usd.decimals()), 600)


@pytest.fixture(scope="session")
def factory(gov, venue):
    """LeveragedTokenFactory on the venue, owned by gov, with its own logic and token implementation."""
    return deploy_factory(gov, venue.address, gov.address)


@pytest.fixture(scope="session")
def spec(factory, keeper, gov, fee_recipient):
    """spec(leverage, market=1, max_leverage=0, on=factory, **param_overrides) -> a TokenSpec tuple with the
    default parameters of factory `on` (overrides by Solidity field name), keeper as keeper and gov as admin."""

    def _spec(leverage: float, market: int = BTC, max_leverage: int = 0, on=None, **overrides: Any) -> tuple:
        lev = to_wad(leverage)
        params = {**Params.abi_dict((on or factory).defaultParams(lev, fee_recipient)), **overrides}
        return (market, lev, max_leverage, Params.tuple_of(params), keeper.address, gov.address)

    return _spec


@pytest.fixture(scope="session")
def create_token(gov, factory, spec):
    """create_token(leverage, max_leverage=0, on=factory, **param_overrides) -> a LeveragedToken that factory
    `on` creates on market 1 (see spec)."""

    def create(leverage: float = 3, max_leverage: int = 0, on=None, **overrides: Any):
        on = on or factory
        token_spec = spec(leverage, BTC, max_leverage, on, **overrides)
        on.createToken(token_spec, sender=gov)
        return token_at(on.tokenFor(BTC, token_spec[1]))

    return create


@pytest.fixture(scope="session")
def fund(usd):
    """fund(account, amount_usd, spender=None) -> units: mints test dollars and approves `spender`."""

    def _fund(account, amount, spender=None) -> int:
        units = to_units(amount)
        usd.mint(account, units, sender=account)
        if spender is not None:
            usd.approve(spender, UINT256_MAX, sender=account)
        return units

    return _fund


@pytest.fixture(scope="session")
def settle(chain, feed, gov, keeper):
    """settle(*tokens, price=None) -> receipts: publishes a round one second later (at `price` in dollars, or
    the feed's latest answer), so every waiting request qualifies, and settles each token as the keeper."""

    def _settle(*tokens, price=None):
        chain_helpers.advance(chain, 1)
        answer = to_feed(price) if price is not None else feed.latestRoundData()[1]
        feed.submit(answer, sender=gov)
        return [token.settle(sender=keeper) for token in tokens]

    return _settle


@pytest.fixture(scope="session")
def set_params(gov):
    """set_params(token, **overrides): admin replaces some parameters (Solidity names), keeping the others."""

    def _set(token, **overrides):
        params = {**Params.abi_dict(token.params()), **overrides}
        return token.setParams(Params.tuple_of(params), sender=gov)

    return _set


@pytest.fixture(scope="session")
def request_deposit(fund):
    """request_deposit(token, account, usd) -> units: mints the dollars, approves the token and requests their
    deposit, `account` its own owner and controller."""

    def _request(token, account, amount):
        assets = fund(account, amount, token)
        token.requestDeposit(assets, account, account, sender=account)
        return assets

    return _request


@pytest.fixture(scope="session")
def deposit(request_deposit, settle):
    """deposit(token, account, usd, receiver=None) -> receipt of the claim: requests the deposit (see
    request_deposit), settles it at a newer round (see settle) and claims the shares for `receiver`."""

    def _deposit(token, account, amount, receiver=None):
        assets = request_deposit(token, account, amount)
        settle(token)
        return token.deposit(assets, receiver or account, sender=account)

    return _deposit


@pytest.fixture(scope="session")
def redeem(settle):
    """redeem(token, account, shares, receiver=None) -> receipt of the claim: requests the redemption,
    settles it at a newer round (see settle) and claims the assets for `receiver`."""

    def _redeem(token, account, shares, receiver=None):
        token.requestRedeem(shares, account, account, sender=account)
        settle(token)
        return token.redeem(shares, receiver or account, account, sender=account)

    return _redeem


@pytest.fixture(scope="session")
def set_price(feed, gov):
    """set_price(usd_price) -> receipt: pushes a new round to the BTC feed."""

    def _set(price):
        return feed.submit(to_feed(price), sender=gov)

    return _set


@pytest.fixture(scope="session")
def pin(chain):
    """pin(): the next transaction is mined at the head block's timestamp (tests.utils.chain.pin)."""

    def _pin() -> None:
        chain_helpers.pin(chain)

    return _pin


@pytest.fixture(scope="session")
def reverts():
    """reverts(contract.SomeError, **inputs): the one strict revert check (tests.utils.reverts)."""
    return strict_reverts
