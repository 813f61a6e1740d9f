"""What the product page shows, read from the chain: every number comes from a contract view at one block or
from the contracts' events, in the units a holder thinks in (dollars, tokens, `3.0000x`, % per year).

Reads go through web3 with the compiled ABIs (one ape call costs tens of milliseconds; a NAV history needs
hundreds of reads); the deployment record and the ABIs come from ape's project.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from typing import Any

from levtoken.deploy_config import MORPHO, VENUE_NAMES
from levtoken.deployment import Deployment
from levtoken.money_market import LONG, scales
from levtoken.rpc import RPC, Contract
from levtoken.shapes import Action, MoneyMarketConfig, Params, Position, Reason, Settlement, Status
from levtoken.status import time_rebalance_text
from levtoken.units import BPS, DAY, WAD, from_units, from_wad, leverage_label, utc_text

HISTORY_POINTS = 500  # the NAV and leverage history keeps the blocks of the latest 500 price or token events
HISTORY_ROWS = 50  # rebalances and settlements listed, newest first
REQUEST_ROWS = 20  # requests listed, newest first
YEAR_DAYS = 365
BATCH = 500  # calls per batched JSON-RPC request


def usd(units: int) -> str:
    """Collateral units as dollars with cents: `$1,234.56`, `-$0.42`."""
    return f"{'-' if units < 0 else ''}${from_units(abs(units)):,.2f}"


def nav_text(units: int) -> str:
    """A NAV per token with the collateral's six decimals: `$1.000000`."""
    return f"${from_units(units):,.6f}"


def leverage_text(wad: int) -> str:
    """A signed leverage as the status table writes it: `3.0000x`, `-1.0000x`."""
    return f"{from_wad(wad):.4f}x"


def tokens_text(wad: int) -> str:
    """An amount of tokens (18 decimals) with four decimals: `1,234.5678`."""
    return f"{from_wad(wad):,.4f}"


def percent(fraction: float) -> str:
    """A signed percentage with two decimals: `+1.25%`."""
    return f"{fraction * 100:+.2f}%"


def abi_of(name: str) -> list[dict[str, Any]]:
    """The compiled ABI of a project contract (e.g. LeveragedToken), as JSON objects."""
    from ape import project

    return project.get_contract(name).contract_type.model_dump(by_alias=True, mode="json")["abi"]


@dataclass
class HistoryPoint:
    """A token's NAV and leverage at the end of one block."""

    block: int
    time: int
    nav: int
    leverage: int


@dataclass
class ChainReader:
    """The deployment's contracts through web3, and the token histories read so far (blocks do not change)."""

    deployment: Deployment
    w3: Any
    rpc: RPC  # batched reads (levtoken.rpc) from the node `w3` talks to
    _contracts: dict[str, Any] = field(default_factory=dict)
    _history: dict[str, dict[int, HistoryPoint]] = field(default_factory=dict)
    _times: dict[int, int] = field(default_factory=dict)
    memo: dict[Any, Any] = field(default_factory=dict)  # what mined blocks hold, by key (see `once`)
    _scanned: dict[str, int] = field(default_factory=dict)  # per token, the last block its history has read
    _lock: threading.Lock = field(default_factory=threading.Lock)
    _rpc_lock: threading.Lock = field(default_factory=threading.Lock)  # one request at a time on `rpc`'s connection
    _prepared: dict[str, Contract] = field(default_factory=dict)  # levtoken.rpc's handles, by address

    def contract(self, name: str, address: str):
        """A web3 contract with the compiled ABI of `name`."""
        key = f"{name}@{address}"
        if key not in self._contracts:
            self._contracts[key] = self.w3.eth.contract(address=address, abi=abi_of(name))
        return self._contracts[key]

    def token(self, symbol: str):
        """The web3 contract of a token by symbol (DeploymentError for an unknown one)."""
        self.deployment.token(symbol)  # the one check and message for an unknown symbol
        return self.contract("LeveragedToken", self.deployment.tokens[symbol].address)

    @property
    def venue(self):
        """The PerpVenue."""
        return self.contract("PerpVenue", self.deployment.venue)

    def venue_of(self, symbol: str):
        """The venue a token holds its exposure on, with its ABI (PerpVenue or MoneyMarketVenue)."""
        record = self.deployment.tokens[symbol]
        if record.venue == MORPHO:
            return self.contract("MoneyMarketVenue", self.deployment.money_market["venue"])
        return self.venue

    def size_at(self, symbol: str, block: int) -> int:
        """The token's position size (18 decimals, signed) at `block`: the perpetual venue's stored size, or the
        money market's collateral (a long) or minus its debt (a short), interest accrued."""
        record = self.deployment.tokens[symbol]
        at = {"block_identifier": block}
        venue = self.venue_of(symbol)
        if record.venue == MORPHO:
            side, collateral, debt, _, _ = venue.functions.book(record.market_id, record.address).call(**at)
            _, scale = self.money_scales(symbol)
            return collateral * scale if side == LONG else -debt * scale
        return Position.from_abi(venue.functions.position(record.market_id, record.address).call(**at)).size

    def money_scales(self, symbol: str) -> tuple[int, int]:
        """A money-market token's value and size scales (levtoken.money_market.scales: its asset, the long lending
        market's collateral, against the stablecoin), read once."""
        record = self.deployment.tokens[symbol]

        def read() -> tuple[int, int]:
            config = MoneyMarketConfig.from_abi(self.venue_of(symbol).functions.marketConfig(record.market_id).call())
            asset = self.contract("TestAsset", config.long_market[1]).functions.decimals().call()
            return scales(asset, self.collateral.functions.decimals().call())

        return self.once(("money scales", record.market), read)

    @property
    def collateral(self):
        """The collateral ERC-20."""
        return self.contract("TestStablecoin", self.deployment.collateral)

    def shown(self, function, block: int, text) -> str:
        """`text(value)` of a view's value at `block`, or why it has none (a view that needs a valid price reverts
        while the feed is stale): `unavailable: StalePrice(...)`."""
        from web3.exceptions import ContractCustomError, ContractLogicError

        from levtoken.keeper.reverts import decode_revert_data, format_error

        try:
            return text(function.call(block_identifier=block))
        except (ContractCustomError, ContractLogicError) as err:
            decoded = decode_revert_data(str(err.data or ""))
            return f"unavailable: {format_error(*decoded) if decoded else err}"

    def views_at(self, calls: list[tuple[Any, str, tuple, int]]) -> list[Any]:
        """Many view calls in batched JSON-RPC requests: (contract, function name, arguments, block) each, the
        decoded result (a single output unwrapped), or None for a call that reverted (a stale price) or found no
        contract (a block before it was deployed)."""
        for c, _, _, _ in calls:
            if c.address not in self._prepared:
                self._prepared[c.address] = Contract(c.address, c.abi)
        prepared = [self._prepared[c.address].call(name, *args, block=block) for c, name, args, block in calls]
        with self._rpc_lock:
            return [value for first in range(0, len(prepared), BATCH)
                    for value in self.rpc.call_many_or_none(prepared[first:first + BATCH])]

    def block_times(self, numbers: list[int]) -> None:
        """Reads the timestamps of `numbers` not read yet, in batches."""
        missing = sorted(set(numbers) - set(self._times))
        for first in range(0, len(missing), BATCH):
            chunk = missing[first:first + BATCH]
            with self._rpc_lock:
                blocks = self.rpc.batch([("eth_getBlockByNumber", [hex(n), False]) for n in chunk])
            for number, block in zip(chunk, blocks):
                self._times[number] = int(block["timestamp"], 16)

    def once(self, key: Any, compute) -> Any:
        """`compute()` the first time `key` is asked for: what a mined block holds does not change."""
        if key not in self.memo:
            self.memo[key] = compute()
        return self.memo[key]

    def head(self) -> dict[str, int]:
        """The latest block's number and time."""
        block = self.w3.eth.get_block("latest")
        self._times[block["number"]] = block["timestamp"]
        return {"block": block["number"], "time": block["timestamp"]}

    def block_time(self, number: int) -> int:
        """A block's timestamp (cached)."""
        if number not in self._times:
            self._times[number] = self.w3.eth.get_block(number)["timestamp"]
        return self._times[number]

    # --- history -------------------------------------------------------------------------
    def history(self, symbol: str, block: int) -> list[HistoryPoint]:
        """NAV and leverage after every block up to `block` in which the token's market published a price or the
        token emitted an event, and at `block`: the latest HISTORY_POINTS of them, one point per second."""
        record = self.deployment.tokens[symbol]
        token = self.token(symbol)
        with self._lock:
            known = self._history.setdefault(symbol, {})
            start = self._scanned.get(symbol, self.deployment.block - 1) + 1
            if start > block:
                return self._points(known, block)
            logs = self.w3.eth.get_logs({"address": [self.deployment.feeds[record.market], record.address],
                                         "fromBlock": start, "toBlock": block})
            self._scanned[symbol] = block
            numbers = sorted({log["blockNumber"] for log in logs} | {block})[-HISTORY_POINTS:]
            values = self.views_at([(token, name, (), n) for n in numbers
                                    for name in ("totalSupply", "navPerToken", "leverage")])
            self.block_times(numbers)
            for i, number in enumerate(numbers):
                supply, nav, leverage = values[3 * i: 3 * i + 3]
                if supply and leverage is not None:  # held, and the price was valid then
                    known[number] = HistoryPoint(number, self._times[number], nav, leverage)
            return self._points(known, block)

    @staticmethod
    def _points(known: dict[int, HistoryPoint], block: int) -> list[HistoryPoint]:
        """The latest HISTORY_POINTS points up to `block`, the last of each second."""
        points = [known[n] for n in sorted(known) if n <= block][-HISTORY_POINTS:]
        return list({p.time: p for p in points}.values())

    # --- the markets -----------------------------------------------------------------------
    def market_row(self, market: str, block: int) -> dict[str, str]:
        """The underlying's price at `block` (its feed's latest round) and its move over the last 24 h of chain
        time (from the last round published a day before, or the first round when the feed is younger)."""
        feed = self.contract("PriceFeed", self.deployment.feeds[market])
        at = {"block_identifier": block}
        latest, answer, _, updated, _ = feed.functions.latestRoundData().call(**at)
        decimals = self.once(("decimals", market), lambda: feed.functions.decimals().call())
        now = self.block_time(block)
        low, high = 1, latest  # the last round at least a day old: round ids count up from 1 with time
        while low < high:
            middle = (low + high + 1) // 2
            if feed.functions.getRoundData(middle).call(**at)[3] <= now - DAY:
                low = middle
            else:
                high = middle - 1
        _, base, _, base_time, _ = feed.functions.getRoundData(low).call(**at)
        window = "24 h" if base_time <= now - DAY else f"{(now - base_time) / 60:,.0f} min" if low < latest else ""
        return {
            "market": market,
            "price": f"${answer / 10**decimals:,.2f}",
            "change_24h": percent(answer / base - 1) if window else "no earlier price",
            "change_window": window or "since its first price",
            "updated": f"{utc_text(updated, seconds=True)} chain time",
        }

    # --- the token list --------------------------------------------------------------------
    def token_row(self, symbol: str, block: int) -> dict[str, Any]:
        """One token of the list: NAV, its change over the last 24 h of chain time, real and target leverage,
        the exposure one token carries (the position's size per token, in the market's asset), supply and equity.
        A token nobody holds says so instead of a change, a leverage and an exposure."""
        record = self.deployment.tokens[symbol]
        token = self.token(symbol)
        at = {"block_identifier": block}
        nav = token.functions.navPerToken().call(**at)
        supply = token.functions.totalSupply().call(**at)
        row = {
            "symbol": symbol,
            "name": record.name,
            "label": leverage_label(record.leverage_wad),
            "market": record.market,
            "nav": nav_text(nav),
            "target": leverage_text(record.leverage_wad),
            "supply": tokens_text(supply),
            "equity": self.shown(token.functions.equity(), block, usd),
            "held": supply > 0,
        }
        if not supply:
            return {**row, "change_24h": "no holders yet", "change_window": "no history",
                    "leverage": "no position", "exposure": "none (no holders)"}
        points = self.history(symbol, block)
        now = self.block_time(block)
        earlier = [p for p in points if p.time <= now - DAY]
        base = earlier[-1] if earlier else (points[0] if points else None)
        change = (nav / base.nav - 1) if base and base.nav else 0.0
        size = self.size_at(symbol, block)
        return {
            **row,
            "change_24h": percent(change),
            "change_window": "24 h" if earlier else f"{(now - base.time) / 60:,.0f} min" if base else "0 min",
            "leverage": self.shown(token.functions.leverage(), block, leverage_text),
            "exposure": f"{from_wad(size * WAD // supply):+,.8f} {record.market} per token",
        }

    # --- the token page --------------------------------------------------------------------
    def token_page(self, symbol: str, block: int) -> dict[str, Any]:
        """Everything the token page shows, at `block`."""
        from levtoken.web.inception import attribution_rows

        record = self.deployment.tokens[symbol]
        token = self.token(symbol)
        at = {"block_identifier": block}
        now = self.block_time(block)
        params = Params.from_abi(token.functions.params().call(**at))
        status = Status.from_abi(token.functions.rebalanceStatus().call(**at))  # never reverts: NONE without a price
        next_time = token.functions.lastRebalance().call(**at) + params.rebalance_interval
        points = self.history(symbol, block)
        sign = -1 if record.leverage_wad < 0 else 1  # the band and the ripcord in the token's own sign
        low, high = sign * from_wad(params.leverage_min), sign * from_wad(params.leverage_max)
        return {
            "row": self.token_row(symbol, block),
            "market": self.market_row(record.market, block),
            "band": {"min": float(low), "max": float(high), "ripcord": float(sign * from_wad(params.ripcord_leverage)),
                     "target": float(from_wad(record.leverage_wad)),
                     "text": f"{low:.3f}x to {high:.3f}x",
                     "ripcord_text": f"{sign * from_wad(params.ripcord_leverage):.2f}x"},
            "series": [{"time": p.time, "block": p.block, "nav": float(from_units(p.nav)),
                        "leverage": float(from_wad(p.leverage))} for p in points],
            "position": self.position(symbol, block),
            "due": {"action": status.action.name, "reason": status.reason.name if status.due else "",
                    "time_rebalance": time_rebalance_text(status, status.leverage, record.leverage_wad,
                                                          params.min_drift, next_time, now),
                    "next_time": next_time},
            "fees": self.fees(symbol, params, block),
            "history": self.rebalances_and_settlements(symbol, block),
            "requests": self.requests(symbol, status, block),
            "attribution": attribution_rows(self, symbol, block),
            "governance": self.scheduled_changes(symbol, block, now),
        }

    def scheduled_changes(self, symbol: str, block: int, now: int) -> list[dict[str, str]]:
        """The governance's pending changes that affect the token (levtoken.governance.pending_changes, read once
        per block), each with when it lands ("ready now" once its delay has passed) and what it does."""
        from levtoken.governance import pending_changes

        if not self.deployment.governance:
            return []
        pending = self.once(("governance", block), lambda: pending_changes(self.deployment, to_block=block))
        return [{"lands": "ready now" if change.lands_at <= now else utc_text(change.lands_at),
                 "change": change.description, "id": change.id}
                for change in pending if symbol in change.tokens]

    def position(self, symbol: str, block: int) -> list[list[str]]:
        """The token's position on its venue, as (key, label, value) rows. On the perpetual venue: its size in the
        market's asset, notional and margin in dollars, the account's value, the funding rate the market pays now
        (per day and per year; positive: longs pay shorts) and what the token owes. On the money market: its
        collateral and debt in Morpho, the account's value, its debt against the LLTV, and the rate its debt pays."""
        record = self.deployment.tokens[symbol]
        at = {"block_identifier": block}
        venue = self.venue_of(symbol)
        market, account = record.market_id, record.address
        size = self.size_at(symbol, block)
        price = self.shown(venue.functions.indexPrice(market), block, lambda p: f"${from_wad(p):,.2f}")
        notional = self.shown(venue.functions.indexPrice(market), block,
                              lambda p: f"${from_wad(abs(size) * p // WAD):,.2f}")
        rows = [["venue", "venue", VENUE_NAMES[record.venue]], ["size", "size", f"{from_wad(size):,.6f} {record.market}"],
                ["notional", "notional", notional], ["price", "index price", price]]
        if record.venue == MORPHO:
            side, collateral, debt, cash, _ = venue.functions.book(market, account).call(**at)
            lltv = MoneyMarketConfig.from_abi(venue.functions.marketConfig(market).call(**at)).long_market[4] / WAD
            rates = venue.functions.borrowRates(market).call(**at)
            rate = (rates[0] if side == LONG else rates[1]) * 365 * DAY / WAD
            asset = WAD // self.money_scales(symbol)[1]  # one whole unit of the asset, raw
            held, owed = ((f"{collateral / asset:,.6f} {record.market}", usd(debt)) if side == LONG
                          else (usd(collateral), f"{debt / asset:,.6f} {record.market}"))
            value = self.shown(venue.functions.accountState(market, account), block, lambda state: usd(state[0]))
            return rows + [
                ["collateral", "collateral in Morpho", held], ["debt", "debt in Morpho", owed],
                ["cash", "cash at the venue", usd(cash)], ["value", "account value", value],
                ["lltv", "Morpho liquidates past", f"{lltv:.0%} of the collateral's value lent"],
                ["borrow_rate", "borrow rate (in place of funding)", f"{rate * 100:+.2f}% a year on the debt"],
            ]
        position = Position.from_abi(venue.functions.position(market, account).call(**at))
        rate = venue.functions.fundingRate(market).call(**at) / WAD
        return rows + [
            ["margin", "margin", usd(position.margin)],
            ["value", "account value", self.shown(venue.functions.accountValue(market, account), block, usd)],
            ["funding_rate", "funding rate",
             f"{rate * 100:+.4f}% a day ({rate * YEAR_DAYS * 100:+.2f}% a year), longs pay when positive"],
            ["funding_owed", "funding owed now", self.shown(venue.functions.fundingOwed(market, account), block, usd)],
        ]

    def fees(self, symbol: str, params: Params, block: int) -> dict[str, str]:
        """The fee rates and what the token's fees took since it started (in tokens and at today's NAV)."""
        token = self.token(symbol)
        nav = token.functions.navPerToken().call(block_identifier=block)
        window = {"from_block": self.deployment.block, "to_block": block}
        streamed = sum(e["args"]["holdersFee"] for e in token.events.StreamingFeeAccrued.get_logs(**window))
        settled = [Settlement.from_abi(e["args"]["settlement"]) for e in token.events.Settled.get_logs(**window)]
        entry = sum(t.mint_fee + t.redeem_fee for t in settled)
        yearly = params.streaming_fee_per_day * YEAR_DAYS / WAD
        return {
            "mint": f"{params.mint_fee_bps / BPS * 100:.2f}% ({params.mint_fee_bps} bps)",
            "redeem": f"{params.redeem_fee_bps / BPS * 100:.2f}% ({params.redeem_fee_bps} bps)",
            "streaming": f"{yearly * 100:.2f}% a year, accrued every block",
            "streaming_taken": f"{tokens_text(streamed)} {symbol} ({usd(streamed * nav // WAD)})",
            "entry_exit_taken": f"{tokens_text(entry)} {symbol} ({usd(entry * nav // WAD)})",
            "recipient": params.fee_recipient,
        }

    def leverage_at(self, symbol: str, block: int) -> str:
        """The token's leverage after `block` as text (read once: a mined block does not change)."""
        return self.once(("leverage", symbol, block),
                         lambda: self.shown(self.token(symbol).functions.leverage(), block, leverage_text))

    def rebalances_and_settlements(self, symbol: str, block: int) -> list[dict[str, str]]:
        """The token's rebalances and settlements, newest first: time, action, reason, leverage before and after,
        the venue trade's size and its cost."""
        token = self.token(symbol)
        market = self.deployment.tokens[symbol].market
        window = {"from_block": self.deployment.block, "to_block": block}
        rows = []
        for event in token.events.Rebalanced.get_logs(**window):
            a = event["args"]
            rows.append((event["blockNumber"], event["logIndex"], Action(a["action"]).name, Reason(a["reason"]).name,
                         a["leverageBefore"], a["sizeDelta"], a["price"], a["cost"]))
        for event in token.events.Settled.get_logs(**window):
            t = Settlement.from_abi(event["args"]["settlement"])
            reason = "FALLBACK" if event["args"]["fallback_"] else Reason.REQUESTS.name
            before = self.leverage_at(symbol, event["blockNumber"] - 1)
            rows.append((event["blockNumber"], event["logIndex"], Action.SETTLE.name, reason, before, t.size_delta,
                         t.price, t.cost))
        rows.sort(reverse=True)
        out = []
        for number, _, action, reason, before, size, price, cost in rows[:HISTORY_ROWS]:
            out.append({"block": number, "time": self.block_time(number), "action": action, "reason": reason,
                        "before": before if isinstance(before, str) else leverage_text(before),
                        "after": self.leverage_at(symbol, number),
                        "size": f"{from_wad(size):+,.6f} {market}", "notional": f"${from_wad(abs(size) * price // WAD):,.2f}",
                        "cost": usd(cost)})
        return out

    def requests(self, symbol: str, status: Status, block: int) -> dict[str, Any]:
        """The token's latest requests (waiting, or settled at a newer round), and what the settlement due now
        would price."""
        token = self.token(symbol)
        window = {"from_block": self.deployment.block, "to_block": block}
        settled = [(e["blockNumber"], e["args"]) for e in token.events.Settled.get_logs(**window)]
        rows = []
        for name, deposit in (("DepositRequest", True), ("RedeemRequest", False)):
            for event in getattr(token.events, name).get_logs(**window):
                asked = self.block_time(event["blockNumber"])
                done = next((n for n, a in settled if n >= event["blockNumber"] and a["priceTime"] > asked
                             and (a["depositEpoch"] if deposit else a["redeemEpoch"])), None)
                amount = event["args"]["assets" if deposit else "shares"]
                rows.append({"block": event["blockNumber"], "time": asked, "side": "mint" if deposit else "redeem",
                             "controller": event["args"]["controller"],
                             "amount": usd(amount) if deposit else f"{tokens_text(amount)} {symbol}",
                             "state": f"settled in block {done}" if done else "waiting for a newer price"})
        rows.sort(key=lambda r: r["block"], reverse=True)
        due = ""
        if status.action == Action.SETTLE:
            due = (f"settlement due now at the round of {status.price_time}: {usd(status.deposit_assets)} in, "
                   f"{tokens_text(status.redeem_shares)} {symbol} out")
        return {"rows": rows[:REQUEST_ROWS], "due": due,
                "escrow": usd(token.functions.escrowAssets().call(block_identifier=block))}

    # --- a holder --------------------------------------------------------------------------
    def holder(self, symbol: str, address: str, block: int) -> dict[str, str]:
        """A wallet's holding of a token and its value, its collateral, and its requests on both sides; the
        amounts a claim takes (`max_deposit`, `max_redeem`) and the balance as integers in decimal text."""
        token = self.token(symbol)
        at = {"block_identifier": block}
        f = token.functions
        balance = f.balanceOf(address).call(**at)
        return {
            "balance": f"{tokens_text(balance)} {symbol}",
            "value": usd(f.convertToAssets(balance).call(**at)),
            "collateral": usd(self.collateral.functions.balanceOf(address).call(**at)),
            "pending_mint": usd(f.pendingDepositRequest(0, address).call(**at)),
            "claimable_mint": usd(f.claimableDepositRequest(0, address).call(**at)),
            "pending_redeem": f"{tokens_text(f.pendingRedeemRequest(0, address).call(**at))} {symbol}",
            "claimable_redeem": f"{tokens_text(f.claimableRedeemRequest(0, address).call(**at))} {symbol}",
            "claim_gives": f"{tokens_text(f.maxMint(address).call(**at))} {symbol} and "
                           f"{usd(f.maxWithdraw(address).call(**at))}",
            "balance_units": str(balance),
            "max_deposit": str(f.maxDeposit(address).call(**at)),
            "max_redeem": str(f.maxRedeem(address).call(**at)),
        }
