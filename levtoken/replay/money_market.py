"""A replay's part on the money-market venue: the market around the tokens and the checks on them.

After each price an arbitrageur brings the pool back to it, as the market would before any keeper trades; Morpho's
liquidators liquidate a token's account once its debt passes the LLTV; and every step, each token's equity is checked
against its position read from the protocols themselves (Morpho's collateral and debt, the feed's price, the venue's
cash), to the unit. The interest each token's debt accrued over a step stands where the perpetual venue's funding
stands in the records and the report.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any, Mapping

from ape.exceptions import ContractLogicError

from levtoken.deployment import Deployment, local_account
from levtoken.money_market import LONG, SHORT, accrued_assets, interest, position_value, scales, to_assets_up
from levtoken.protocols import artifact, exact_input, market_id, sells_base, sqrt_price_x96
from levtoken.replay.keepers import Liquidator
from levtoken.rpc import RPC, quantity
from levtoken.units import to_feed

# What the replay's arbitrageur holds (minted on the local chain): more than any replay's arbitrage takes.
ARBITRAGE_DOLLARS = 10**10
ARBITRAGE_ASSET = 10**7


class MoneyMarketReplay:
    """The money-market side of a replay of `market` of `deployment`, through the replay's `rpc`: arbitrage after
    each price (by `arbitrageur`, an ape account of the local chain), interest per step, and the every-step check of
    each token's equity against the protocols (`checks` made, `divergences`: (step, symbol, the token's equity, the
    protocols'))."""

    def __init__(self, rpc: RPC, deployment: Deployment, market: str, tokens: Mapping[str, Any], arbitrageur):
        if arbitrageur is None:
            raise ValueError("a replay on the money-market venue needs an arbitrageur to keep its pool at the price")
        m = deployment.money_market_of(market)
        collateral, asset = deployment.collateral_contract(), m.asset
        self.rpc = rpc
        self.morpho, self.irm = rpc.contract(m.protocols.morpho), rpc.contract(m.protocols.irm)
        self.router, self.pool = rpc.contract(m.protocols.router), rpc.contract(m.pool)
        self.feed = rpc.contract(deployment.feed_contract(market))
        self.collateral = rpc.contract(collateral)
        self.tokens = {symbol: rpc.contract(token) for symbol, token in tokens.items()}
        self.long = {symbol: deployment.tokens[symbol].leverage_wad > 0 for symbol in tokens}
        self.accounts = {symbol: m.venue.accountOf(token.address) for symbol, token in tokens.items()}
        self.params = {True: m.long_market, False: m.short_market}
        self.ids = {side: market_id(params) for side, params in self.params.items()}
        self.scales = scales(asset.decimals(), collateral.decimals())
        self.price_scale = 10 ** (18 - deployment.feed_contract(market).decimals())
        self.asset, self.stable = asset.address, collateral.address
        self.asset_is_token0 = m.pool.token0() == asset.address
        self.decimals = (asset.decimals(), collateral.decimals())
        self.fee = m.pool.fee()
        self.arbitrageur = arbitrageur.address
        self.checks = 0
        self.divergences: list[tuple[int, str, int, int]] = []
        self._shares: dict[str, int] = {}  # each token's borrow shares at the last read
        self._cash: dict[str, int] = {}  # and the stablecoin the venue holds for it
        self._totals: tuple[int, int, int, int] = (0, 0, 0, 0)  # the venue's borrowTotals then
        self._before: tuple[dict[str, int], tuple[int, int, int, int]] | None = None  # at the last step's end
        for token, amount in ((asset, ARBITRAGE_ASSET * 10 ** asset.decimals()),
                              (collateral, ARBITRAGE_DOLLARS * 10 ** collateral.decimals())):
            token.mint(arbitrageur, amount, sender=arbitrageur)
            token.approve(m.protocols.router.address, 2**256 - 1, sender=arbitrageur)

    def read(self, values: list) -> list:
        """A snapshot's values as the records take them: each token's book (its sixth value) noted and read as no
        funding owed (interest is in the debt, valued already), the borrow totals (the last value) noted."""
        *values, self._totals = values
        out = []
        for i, symbol in enumerate(self.tokens):
            *own, book = values[6 * i : 6 * i + 6]
            self._cash[symbol], self._shares[symbol] = book[3], book[4]
            out += [*own, 0]
        if self._before is None:
            self._before = (dict(self._shares), self._totals)
        return out

    def arbitrage(self, price: Decimal) -> None:
        """Brings the pool to `price`, as the arbitrageurs of a market do once the oracle has moved: one swap with
        the price as its limit (levtoken.protocols.arbitrage's, sent through the replay's node connection)."""
        target = sqrt_price_x96(price, *self.decimals, self.asset_is_token0)
        sell_asset = sells_base(self.rpc.call(self.pool.call("slot0"))[0], target, self.asset_is_token0)
        if sell_asset is None:
            return
        token_in, token_out = (self.asset, self.stable) if sell_asset else (self.stable, self.asset)
        budget = (ARBITRAGE_ASSET if sell_asset else ARBITRAGE_DOLLARS) * 10 ** self.decimals[0 if sell_asset else 1]
        self.rpc.send(self.router, "exactInputSingle",
                      exact_input(token_in, token_out, self.fee, self.arbitrageur, budget // 4, target),
                      sender=self.arbitrageur)

    def step(self, index: int, record: dict, price: Decimal) -> None:
        """Sets each token's interest over step `index` (on the borrow shares it held since the last step, as the
        lending market's totals grew) and checks its equity against the protocols: one batched read of Morpho (its
        positions and markets, with the IRM's rates), the feed, and the token's own collateral outside escrow, at
        the block the snapshot read."""
        shares, totals = self._before
        price_wad = to_feed(price) * 10**10
        for symbol in self.tokens:
            record[symbol].funding = interest(shares.get(symbol, 0), totals, self._totals, self.long[symbol],
                                              price_wad, self.scales[0])
        self._before = (dict(self._shares), self._totals)
        expected = self.equities()
        for symbol, equity in expected.items():
            self.checks += 1
            if record[symbol].equity != equity:
                self.divergences.append((index, symbol, record[symbol].equity, equity))

    @staticmethod
    def interest_paid(steps: list) -> dict[str, int]:
        """The interest each token paid over the replay, collateral units."""
        paid: dict[str, int] = {}
        for step in steps:
            for symbol, token_step in step.tokens.items():
                paid[symbol] = paid.get(symbol, 0) + token_step.funding
        return paid

    def equities(self) -> dict[str, int]:
        """Each token's equity now as the protocols hold it: its VenueAccount's collateral and debt in Morpho
        (interest accrued with the IRM's rate to the head's time), at the feed's price, with the venue's cash, plus
        the collateral the token holds outside its requests' escrow (`levtoken.money_market.position_value`). Call
        it after `read` of the same state (the venue's cash for each token is the book's)."""
        rpc, symbols = self.rpc, list(self.tokens)
        calls = [self.feed.call("latestRoundData")]
        calls += [self.morpho.call("market", self.ids[side]) for side in (True, False)]
        for symbol in symbols:
            token = self.tokens[symbol]
            calls += [self.morpho.call("position", self.ids[self.long[symbol]], self.accounts[symbol]),
                      token.call("escrowAssets"), self.collateral.call("balanceOf", token.address)]
        head = rpc.block()
        values = rpc.call_many(calls)
        (_, answer, *_), markets = values[0], {True: values[1], False: values[2]}
        rates = dict(zip((True, False), rpc.call_many(
            [self.irm.call("borrowRateView", self.params[side], markets[side]) for side in (True, False)])))
        now = quantity(head["timestamp"])
        totals = {side: (accrued_assets(markets[side], rates[side], now), markets[side][3]) for side in (True, False)}
        equities = {}
        for i, symbol in enumerate(symbols):
            (_, borrow_shares, held), escrow, balance = values[3 + 3 * i : 6 + 3 * i]
            long = self.long[symbol]
            debt = to_assets_up(borrow_shares, *totals[long])
            value, _ = position_value(LONG if long else SHORT, held, debt, self._cash[symbol],
                                      answer * self.price_scale, *self.scales)
            equities[symbol] = value + balance - escrow
        return equities


class MorphoLiquidator(Liquidator):
    """Acts as Morpho's liquidators would: once a token's debt passes what its collateral lends at the LLTV
    (`isLiquidatable`, which the money-market venue answers as the perpetual venue does, read with the rest of a
    step's state), liquidates its account in Morpho, repaying all its debt, or seizing all its collateral where that
    does not cover the debt (Morpho then writes the rest off). The loan token it repays with is minted for it on the
    local chain."""

    def act(self, flags: list[bool]) -> dict[str, int]:
        """Liquidates the tokens whose `checks` said so (`flags`, in the order of `checks`); returns the block of
        each liquidation by token symbol."""
        from ape import project

        liquidated = {}
        account = local_account(self.sender)
        venue = project.MoneyMarketVenue.at(self.venue.address)
        morpho = artifact("Morpho").at(venue.morpho())
        for (symbol, token), flag in zip(self.tokens.items(), flags):
            if not flag:
                continue
            book = venue.book(self.market_id, token.address)
            config = venue.marketConfig(self.market_id)
            params = tuple(config.longMarket if book.side == LONG else config.shortMarket)
            loan = project.TestStablecoin.at(params[0])  # mintable, as the local chain's test tokens are
            loan.mint(account, 2 * book.debt + 1, sender=account)
            loan.approve(morpho.address, 2**256 - 1, sender=account)
            holder = venue.accountOf(token.address)
            try:
                receipt = morpho.liquidate(params, holder, 0, book.borrowShares, b"", sender=account)
            except ContractLogicError:  # the collateral does not cover the debt: seize all of it
                receipt = morpho.liquidate(params, holder, book.collateral, 0, b"", sender=account)
            liquidated[symbol] = receipt.block_number
        return liquidated
