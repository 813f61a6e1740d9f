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
from levtoken.money_market import debt_growth, equity_from_protocols
from levtoken.protocols import arbitrage, artifact
from levtoken.rpc import RPC, Call, Contract, quantity
from levtoken.units import to_feed

# What the replay's arbitrageur holds (minted on the local chain): more than any replay's arbitrage takes.
ARBITRAGE_DOLLARS = 10**10
ARBITRAGE_ASSET = 10**7


class MoneyMarketReplay:
    """The money-market side of a replay of `market` of `deployment`: arbitrage after each price (by
    `arbitrageur`, an ape account), interest per step, and the every-step check of each token's equity against
    the protocols (`checks` made, `divergences`: (step, symbol, the token's equity, the protocols')."""

    def __init__(self, deployment: Deployment, market: str, tokens: Mapping[str, Any], arbitrageur):
        if arbitrageur is None:
            raise ValueError("a replay on the money-market venue needs an arbitrageur to keep its pool at the price")
        self.market = deployment.money_market_of(market)
        self.collateral = deployment.collateral_contract()
        self.tokens = dict(tokens)  # ape contracts, by symbol
        self.long = {symbol: deployment.tokens[symbol].leverage_wad > 0 for symbol in self.tokens}
        self.arbitrageur = arbitrageur
        self.value_scale = 10 ** (18 + self.market.asset.decimals() - self.collateral.decimals())
        self.checks = 0
        self.divergences: list[tuple[int, str, int, int]] = []
        self._shares: dict[str, int] = {}  # each token's borrow shares at the last read
        self._totals: tuple[int, int, int, int] = (0, 0, 0, 0)  # the lending markets' borrow totals then
        self._before: tuple[dict[str, int], tuple[int, int, int, int]] | None = None  # at the last step's end
        self.market.asset.mint(arbitrageur, ARBITRAGE_ASSET * 10 ** self.market.asset.decimals(), sender=arbitrageur)
        self.collateral.mint(arbitrageur, ARBITRAGE_DOLLARS * 10 ** self.collateral.decimals(), sender=arbitrageur)

    def read(self, values: list) -> list:
        """A snapshot's values as the records take them: each token's book (its sixth value) noted and read as no
        funding owed (interest is in the debt, valued already), the borrow totals (the last value) noted."""
        *values, self._totals = values
        out = []
        for i, symbol in enumerate(self.tokens):
            *own, book = values[6 * i : 6 * i + 6]
            self._shares[symbol] = book[4]
            out += [*own, 0]
        if self._before is None:
            self._before = (dict(self._shares), self._totals)
        return out

    def arbitrage(self, price: Decimal) -> None:
        """Brings the pool to `price`, as the arbitrageurs of a market do once the oracle has moved."""
        m = self.market
        arbitrage(m.protocols, m.pool, m.asset, self.collateral, price, self.arbitrageur)

    def step(self, index: int, record: dict, price: Decimal, timestamp: str | int) -> None:
        """Sets each token's interest over step `index` (on the borrow shares it held since the last step, as the
        lending market's totals grew; a short's, in the asset, valued at the step's price, rounded up) and checks
        its equity against the protocols at the block the snapshot read (`timestamp`)."""
        shares, totals = self._before
        price_wad = to_feed(price) * 10**10
        now = quantity(timestamp) if isinstance(timestamp, str) else timestamp
        for symbol, token in self.tokens.items():
            side = (0, 1) if self.long[symbol] else (2, 3)
            grown = debt_growth(shares.get(symbol, 0), tuple(totals[i] for i in side),
                                tuple(self._totals[i] for i in side))
            record[symbol].funding = grown if self.long[symbol] else -(-grown * price_wad // self.value_scale)
            expected = equity_from_protocols(self.market, token, self.collateral, now)
            self.checks += 1
            if record[symbol].equity != expected:
                self.divergences.append((index, symbol, record[symbol].equity, expected))
        self._before = (dict(self._shares), self._totals)

    @staticmethod
    def interest_paid(steps: list) -> dict[str, int]:
        """The interest each token paid over the replay, collateral units."""
        paid: dict[str, int] = {}
        for step in steps:
            for symbol, token_step in step.tokens.items():
                paid[symbol] = paid.get(symbol, 0) + token_step.funding
        return paid


class MorphoLiquidator:
    """Acts as Morpho's liquidators would: once a token's debt passes what its collateral lends at the LLTV
    (`isLiquidatable`, read with the rest of a step's state), liquidates its account in Morpho, repaying all its
    debt, or seizing all its collateral where that does not cover the debt (Morpho then writes the rest off). The
    loan token it repays with is minted for it on the local chain."""

    def __init__(self, rpc: RPC, venue: Contract, market_id: int, tokens: Mapping[str, Contract], sender: str):
        self.rpc = rpc
        self.venue = venue
        self.market_id = market_id
        self.tokens = dict(tokens)  # by symbol
        self.sender = sender
        self.checks: list[Call] = [venue.call("isLiquidatable", market_id, t.address) for t in self.tokens.values()]

    def act(self, flags: list[bool]) -> dict[str, int]:
        """Liquidates the tokens whose `checks` said so (`flags`, in the order of `checks`); returns the block of
        each liquidation by token symbol."""
        from ape import project

        from levtoken.money_market import LONG

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
