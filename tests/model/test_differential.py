"""Differential test: random sequences of actions go to the contracts on anvil and to levtoken.model;
after every step both agree to the unit (token equity, supply, escrow, every balance, every holder's
pending and claimable requests and operators, the venue position, the pool's cash, the market aggregates,
rebalanceStatus, valuation views), and a step that reverts on one reverts on the other with the same error.

Every transaction is mined at the model's time (evm_setNextBlockTimestamp), and a time step mines an
empty block, so views on both sides see the same block timestamp. Each hypothesis example starts from
the same chain snapshot and a copy of the model read from it.
"""

from __future__ import annotations

import copy
import dataclasses
from collections import Counter

import pytest
from hypothesis import event, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, initialize, invariant, rule, run_state_machine_as_test

from levtoken.model import Model, Revert
from levtoken.shapes import UINT256_MAX
from levtoken.units import DAY, to_units
from tests.utils.strategies import LONG, deposit_amount, market_fees, time_steps, token_fees

# Errors that name the parameter field out of bounds: the model's and the chain's name the same field.
FIELD_ERRORS = ("InvalidParameter", "InvalidConfig")
# Errors whose arguments are numbers the model computes too (epochs, times, amounts): compared as well.
NUMBER_ERRORS = ("NoNewerPrice", "FallbackNotOpen", "CancelTooEarly", "ExceedsClaimable", "RequestAlreadySettled",
                 "EarlierRequestPending", "SupplyCapExceeded", "OrderNotPending", "OrderExpired",
                 "PoolReserveBreached")
OUTCOMES: Counter[str] = Counter()  # "method: ok" or "method: reverted Error", over a whole run
TOKENS = 2  # a 3x long and a 2x short on the same market: the funding skew is partly netted
HOLDERS = ("whale", "fish", "stranger", "fee_recipient")

token_index = st.integers(0, TOKENS - 1)
holder = st.sampled_from(HOLDERS)
party = st.sampled_from([None, None, None, *HOLDERS])  # owner, controller or receiver: None is the caller
SETTINGS = settings(settings.get_profile("model-fast"), stateful_step_count=20)
redeem_divisor = st.sampled_from([1, 1, 2, 3, 10, 10**6, 10**30])
price_move_bps = st.one_of(st.integers(-400, 400), st.integers(-3400, 3400))
time_step = time_steps(minute=59, longest=3 * DAY)  # beyond the heartbeat: stale until the next price


class Differential(RuleBasedStateMachine):
    """Actions on both sides; `env` (set by the test) carries contracts, accounts and the base model."""

    env: dict = {}

    def __init__(self) -> None:
        super().__init__()
        self.e = self.env
        self.snapshot_id = self.e["chain"].snapshot()
        self.model: Model = copy.deepcopy(self.e["base_model"])

    def teardown(self) -> None:
        self.e["chain"].restore(self.snapshot_id)

    # --- helpers -----------------------------------------------------------------------------
    def acct(self, name: str):
        return self.e["accounts"][name]

    def addr(self, name: str) -> str:
        return str(self.acct(name).address)

    def token(self, i: int):
        return self.e["tokens"][i]

    def mtoken(self, i: int):
        return self.model.tokens[str(self.token(i).address)]

    def both(self, label: str, sender, contract, method: str, args: tuple, on_model) -> None:
        """Applies a call to the model and sends the same transaction at the model's time: both
        succeed, or both revert with the same error (and, for the errors that name a parameter's
        field, the same field)."""
        try:
            on_model()
            model_err = None
        except Revert as err:
            model_err = err
        self.e["pin_time"](self.model.now)
        reverted, name, arguments = self.e["raw"].send(sender, contract, method, *args)
        outcome = f"{method}: {'reverted ' + str(name) if reverted else 'ok'}"
        event(outcome)
        OUTCOMES[outcome] += 1
        if model_err is None:
            assert not reverted, f"{label}: the chain reverted ({name}), the model did not"
        else:
            assert reverted, f"{label}: the model reverted ({model_err!r}), the chain did not"
            if name is not None:
                assert name == model_err.name, f"{label}: chain reverted with {name}, model with {model_err!r}"
            if name in FIELD_ERRORS or name in NUMBER_ERRORS:
                assert arguments == model_err.args, f"{label}: chain reverted with {name}{arguments}, model {model_err!r}"

    def view(self, label: str, contract, method: str, args: tuple, on_model) -> None:
        """A view on both sides: equal values (structs field by field, in order), or both revert
        (with the same error when the chain's is decoded)."""
        try:
            want = ("ok", on_model())
        except Revert as err:
            want = ("revert", err.name)
        reverted, value = self.e["raw"].call(contract, method, *args)
        got = ("revert" if reverted else "ok", value)
        if want[0] == "ok" and dataclasses.is_dataclass(want[1]):
            want = ("ok", dataclasses.astuple(want[1]))
        if got[0] == want[0] == "revert" and got[1] is None:
            return
        assert got == want, f"{label}: chain {got} != model {want}"

    # --- set-up ------------------------------------------------------------------------------
    @initialize(amounts=st.tuples(*[st.integers(1_000, 200_000)] * TOKENS))
    def first_deposits(self, amounts):
        venue, o = self.e["venue"], self.acct("outsider")
        margin = to_units(200_000)
        self.both("depositMargin(outsider)", o, venue, "depositMargin", (1, o, margin),
                  lambda: self.model.venue.deposit_margin(self.addr("outsider"), 1, self.addr("outsider"), margin))
        for i, usd in enumerate(amounts):
            self.request(i, "whale", "whale", "whale", "requestDeposit", to_units(usd))
        self.tick()
        self.publish(0)
        for i, usd in enumerate(amounts):
            self.settle_as(i, "keeper")
            self.claim_call(i, "whale", "whale", "deposit", to_units(usd))

    # --- requests, claims, operators ---------------------------------------------------------
    def request(self, i: int, who: str, owner: str, controller: str, method: str, amount: int) -> None:
        """`who` requests `amount` for `controller` out of `owner`'s assets or shares."""
        a = self.acct(who)
        m = self.mtoken(i)
        on_model = m.request_deposit if method == "requestDeposit" else m.request_redeem
        self.both(
            f"{method}({i}, {who}: {amount} of {owner} for {controller})",
            a, self.token(i), method, (amount, self.acct(controller), self.acct(owner)),
            lambda: on_model(self.addr(who), amount, self.addr(controller), self.addr(owner)),
        )

    def claim_call(self, i: int, who: str, controller: str, method: str, amount: int, short: bool = False) -> None:
        """`who` claims `amount` of `controller`'s claimable with `method` for itself (the two-argument
        deposit/mint form when `short`)."""
        a, address = self.acct(who), self.addr(who)
        chain_args = (amount, a) if short else (amount, a, self.acct(controller))
        model_args = (amount, address) if short else (amount, address, self.addr(controller))
        self.both(
            f"{method}({i}, {who} for {controller}, {amount}{', short' if short else ''})",
            a, self.token(i), method, chain_args,
            lambda: getattr(self.mtoken(i), method)(address, *model_args),
        )

    @rule(i=token_index, who=holder, owner=party, controller=party, assets=deposit_amount)
    def request_deposit(self, i, who, owner, controller, assets):
        self.request(i, who, owner or who, controller or who, "requestDeposit", assets)

    @rule(i=token_index, who=holder, owner=party, controller=party, divisor=redeem_divisor)
    def request_redeem(self, i, who, owner, controller, divisor):
        owner = owner or who
        self.request(i, who, owner, controller or who, "requestRedeem",
                     self.mtoken(i).balance_of(self.addr(owner)) // divisor)

    @rule(i=token_index, who=holder, deposit=st.booleans(), assets=deposit_amount, divisor=redeem_divisor,
          by_input=st.booleans())
    def round_trip(self, i, who, deposit, assets, divisor, by_input):
        """A holder's whole journey: request, a round a second later, a keeper's settlement, a full claim."""
        m, address = self.mtoken(i), self.addr(who)
        if deposit:
            self.request(i, who, who, who, "requestDeposit", assets)
        else:
            self.request(i, who, who, who, "requestRedeem", m.balance_of(address) // divisor)
        self.tick()
        self.publish(0)
        self.settle_as(i, "keeper")
        method = ("deposit" if by_input else "mint") if deposit else ("redeem" if by_input else "withdraw")
        self.claim(i, who, None, method, (1, 1), False)

    @rule(i=token_index, who=holder, controller=party, method=st.sampled_from(["deposit", "mint", "redeem", "withdraw"]),
          fraction=st.sampled_from([(1, 1), (1, 1), (1, 2), (1, 7), (3, 2), (0, 1)]), short=st.booleans())
    def claim(self, i, who, controller, method, fraction, short):
        controller = controller or who
        m = self.mtoken(i)
        address = self.addr(controller)
        claimable = {"deposit": m.max_deposit, "mint": m.max_mint, "redeem": m.max_redeem,
                     "withdraw": m.max_withdraw}[method](address)
        short = short and method in ("deposit", "mint")
        self.claim_call(i, who, who if short else controller, method, claimable * fraction[0] // fraction[1], short)

    @rule(i=token_index, who=holder, assets=deposit_amount, divisor=redeem_divisor, late=st.sampled_from([0, 1, 600]))
    def keeper_outage(self, i, who, assets, divisor, late):
        """Keepers miss the window: a deposit and a redemption qualify at the next round, rounds go on past
        the window (`late` seconds more); the depositor cancels, a stranger settles the redemptions."""
        m = self.mtoken(i)
        self.request(i, who, who, who, "requestDeposit", assets)
        self.request(i, who, who, who, "requestRedeem", m.balance_of(self.addr(who)) // divisor)
        self.tick()
        self.publish(0)
        self.model.advance(m.params.settlement_window - 1 + late)
        self.e["mine_at"](self.model.now)
        self.publish(0)
        self.cancel(i, who, None, None)
        self.settle_as(i, "stranger")

    @rule(i=token_index, who=holder, controller=party, receiver=party)
    def cancel(self, i, who, controller, receiver):
        controller, receiver = controller or who, receiver or who
        m = self.mtoken(i)
        self.both(
            f"cancelDepositRequest({i}, {who} for {controller} to {receiver})",
            self.acct(who), self.token(i), "cancelDepositRequest", (self.acct(receiver), self.acct(controller)),
            lambda: m.cancel_deposit_request(self.addr(who), self.addr(receiver), self.addr(controller)),
        )

    @rule(i=token_index, who=holder, operator=holder, approved=st.booleans())
    def set_operator(self, i, who, operator, approved):
        m = self.mtoken(i)
        self.both(
            f"setOperator({i}, {who} -> {operator} {approved})",
            self.acct(who), self.token(i), "setOperator", (self.acct(operator), approved),
            lambda: m.set_operator(self.addr(who), self.addr(operator), approved),
        )

    @rule(i=token_index, sender=holder, to=holder, divisor=st.sampled_from([1, 2, 5]))
    def transfer(self, i, sender, to, divisor):
        amount = self.mtoken(i).balance_of(self.addr(sender)) // divisor
        self.both(
            f"transfer({i}, {sender}->{to}, {amount})",
            self.acct(sender), self.token(i), "transfer", (self.acct(to), amount),
            lambda: self.mtoken(i).transfer(self.addr(sender), self.addr(to), amount),
        )

    @rule(i=token_index, amount=st.integers(1, 5_000 * 10**6))
    def donate(self, i, amount):
        usd, s = self.e["usd"], self.acct("stranger")
        token = self.token(i)
        self.both(
            f"donate({i}, {amount})",
            s, usd, "transfer", (token, amount),
            lambda: self.model.collateral.transfer(self.addr("stranger"), str(token.address), amount),
        )

    # --- settlement --------------------------------------------------------------------------
    def settle_as(self, i: int, who: str) -> None:
        m = self.mtoken(i)
        settled = []
        self.both(f"settle({i}) by {who}", self.acct(who), self.token(i), "settle", (),
                  lambda: settled.append(m.settle(self.addr(who))))
        if settled and settled[0].refunded:
            event("a deposit batch filled pro rata")
            OUTCOMES["settle: pro rata"] += 1

    @rule(i=token_index, who=st.sampled_from(["keeper", "keeper", *HOLDERS]))
    def settle(self, i, who):
        """A keeper's settlement, or a holder's fallback (which only a redeemer in the batch may make)."""
        self.settle_as(i, who)

    @rule(i=token_index, who=st.sampled_from(["keeper", "keeper", "stranger"]), bps=st.integers(-300, 300))
    def next_round_then_settle(self, i, who, bps):
        """What the keepers do: a second passes, a round is published, the token settles."""
        self.tick()
        self.publish(bps)
        self.settle_as(i, who)

    # --- market ------------------------------------------------------------------------------
    def tick(self) -> None:
        self.model.advance(1)
        self.e["mine_at"](self.model.now)

    def publish(self, bps: int) -> None:
        """A feed round at the current time, `bps` away from the latest answer."""
        feed, gov = self.e["feed"], self.acct("gov")
        answer = max(1, self.model.feeds[str(feed.address)].answer * (10_000 + bps) // 10_000)
        self.both(
            f"price {bps:+} bps -> {answer}",
            gov, feed, "submit", (answer,),
            lambda: self.model.set_answer(answer, str(feed.address)),
        )

    @rule(bps=price_move_bps)
    def move_price(self, bps):
        """A round in the current second: after any request made in it, it does not price them."""
        self.publish(bps)

    @rule(bps=price_move_bps)
    def next_second_price(self, bps):
        self.tick()
        self.publish(bps)

    @rule(seconds=time_step)
    def advance_time(self, seconds):
        self.model.advance(seconds)
        self.e["mine_at"](self.model.now)

    @rule(add=st.booleans(), amount=st.integers(1, 2_000_000 * 10**6))
    def liquidity(self, add, amount):
        venue, lp = self.e["venue"], self.acct("lp")
        if add:
            self.both(
                f"addLiquidity({amount})",
                lp, venue, "addLiquidity", (amount, 0),
                lambda: self.model.venue.add_liquidity(self.addr("lp"), amount, 0),
            )
        else:
            shares = self.model.venue.lp_shares.get(self.addr("lp"), 0) * amount // (10 * 2_000_000 * 10**6)
            self.both(
                f"removeLiquidity({shares})",
                lp, venue, "removeLiquidity", (shares, 0),
                lambda: self.model.venue.remove_liquidity(self.addr("lp"), shares, 0),
            )

    # --- the venue's delayed orders (an unregistered outsider) -------------------------------
    @rule(kind=st.sampled_from(["trade", "trade", "add", "remove"]), fraction=st.integers(-1000, 1000))
    def request_order(self, kind, fraction):
        """The outsider requests a trade (up to about 2 BTC either way), an LP deposit (up to 1M) or an LP
        withdrawal (a fraction of its shares)."""
        orders, o = self.e["orders"], self.acct("outsider")
        who = self.addr("outsider")
        mo = self.model.orders
        if kind == "trade":
            size = fraction * 2 * 10**15
            self.both(f"requestTrade({size})", o, orders, "requestTrade", (1, size, 0),
                      lambda: mo.request_trade(who, 1, size, 0))
        elif kind == "add":
            amount = abs(fraction) * 10**9
            self.both(f"requestAddLiquidity({amount})", o, orders, "requestAddLiquidity", (amount, 0),
                      lambda: mo.request_add_liquidity(who, amount, 0))
        else:
            shares = self.model.venue.lp_shares.get(who, 0) * abs(fraction) // 1000
            self.both(f"requestRemoveLiquidity({shares})", o, orders, "requestRemoveLiquidity", (shares, 0),
                      lambda: mo.request_remove_liquidity(who, shares, 0))

    @rule(back=st.integers(0, 3), by=st.sampled_from(["keeper", "keeper", "stranger"]))
    def execute_order(self, back, by):
        """A keeper (or a stranger, refused) executes one of the latest orders."""
        order_id = max(self.model.orders.order_count - back, 1)
        self.both(f"execute({order_id}) by {by}", self.acct(by), self.e["orders"], "execute", (order_id,),
                  lambda: self.model.orders.execute(self.addr(by), order_id))

    @rule(back=st.integers(0, 3))
    def cancel_order(self, back):
        order_id = max(self.model.orders.order_count - back, 1)
        self.both(f"cancel({order_id})", self.acct("outsider"), self.e["orders"], "cancel", (order_id,),
                  lambda: self.model.orders.cancel(self.addr("outsider"), order_id))

    # --- keeper and anyone -------------------------------------------------------------------
    @rule(i=token_index, upkeep=st.booleans())
    def rebalance(self, i, upkeep):
        token, k = self.token(i), self.acct("keeper")
        m, keeper = self.mtoken(i), self.addr("keeper")
        method, args, on_model = (
            ("performUpkeep", (b"",), lambda: m.perform_upkeep(keeper)) if upkeep
            else ("rebalance", (), lambda: m.rebalance(keeper))
        )
        self.both(f"{method}({i})", k, token, method, args, on_model)

    @rule(i=token_index)
    def ripcord(self, i):
        stranger = self.addr("stranger")
        self.both(f"ripcord({i})", self.acct("stranger"), self.token(i), "ripcord", (),
                  lambda: self.mtoken(i).ripcord(stranger))

    @rule(i=token_index)
    def liquidate(self, i):
        venue, s = self.e["venue"], self.acct("stranger")
        token = self.token(i)
        self.both(
            f"liquidate({i})",
            s, venue, "liquidate", (1, token),
            lambda: self.model.venue.liquidate(self.addr("stranger"), 1, str(token.address)),
        )

    @rule(i=token_index)
    def accrue_streaming_fee(self, i):
        m = self.mtoken(i)
        self.both(f"accrueStreamingFee({i})", self.acct("stranger"), self.token(i), "accrueStreamingFee", (),
                  m.accrue_streaming_fee)

    # --- admin -------------------------------------------------------------------------------
    @rule(i=token_index, fees=token_fees(max_trades_usd=[2_000, 50_000, 1_000_000], drift_pcts=[0, 1, 10, 40]))
    def set_params(self, i, fees):
        token, gov = self.token(i), self.acct("gov")
        m = self.mtoken(i)
        params = fees.applied_to(m.params, m.target_leverage)
        self.both(
            f"setParams({i}, {params})",
            gov, token, "setParams", (params.to_tuple(),),
            lambda: m.set_params(self.addr("gov"), params),
        )

    @rule(i=token_index, room_usd=st.sampled_from([None, 0, 500, 20_000]))
    def set_supply_cap(self, i, room_usd):
        """A supply cap about `room_usd` of shares above the supply (None: no cap), so batches fill pro rata."""
        m = self.mtoken(i)
        self.set_supply_cap_to(i, UINT256_MAX if room_usd is None else m.total_supply + room_usd * 10**18)

    def set_supply_cap_to(self, i: int, cap: int) -> None:
        token, gov = self.token(i), self.acct("gov")
        m = self.mtoken(i)
        params = dataclasses.replace(m.params, supply_cap=max(1, cap))
        self.both(f"setParams({i}, supplyCap={params.supply_cap})", gov, token, "setParams", (params.to_tuple(),),
                  lambda: m.set_params(self.addr("gov"), params))

    @rule(i=token_index, first=st.integers(1_000, 200_000), second=st.integers(1_000, 200_000))
    def crowded_batch(self, i, first, second):
        """Two deposits that each fit the supply cap's room and together pass it, then a keeper's settlement at
        the next round: the batch fills pro rata."""
        m = self.mtoken(i)
        room = m.convert_to_shares(to_units(max(first, second))) * 101 // 100
        self.set_supply_cap_to(i, m.total_supply + room)
        for who, usd in (("fish", first), ("stranger", second)):
            self.request(i, who, who, who, "requestDeposit", to_units(usd))
        self.next_round_then_settle(i, "keeper", 0)

    @rule(fees=market_fees(depths_usd=[1_000_000, 1_000_000_000]))
    def set_market(self, fees):
        """The owner moves the market's costs to `fees`, one bounded step per change."""
        venue, gov, feed = self.e["venue"], self.acct("gov"), self.e["feed"]
        for config in fees.steps_from(self.model.venue.configs[1]):
            self.both(
                f"setMarketConfig({config})",
                gov, venue, "setMarketConfig", (1, config.to_abi(feed=str(feed.address))),
                lambda config=config: self.model.venue.set_market_config(self.addr("gov"), 1, config),
            )

    @rule(i=token_index)
    def toggle_pause(self, i):
        token, gov = self.token(i), self.acct("gov")
        m = self.mtoken(i)
        if m.paused:
            self.both(f"unpause({i})", gov, token, "unpause", (), lambda: m.unpause(self.addr("gov")))
        else:
            self.both(f"pause({i})", gov, token, "pause", (), lambda: m.pause(self.addr("gov")))

    # --- the comparison ------------------------------------------------------------------------
    @invariant()
    def chain_equals_model(self):
        e, model = self.e, self.model
        venue, usd = e["venue"], e["usd"]
        assert e["chain"].blocks.head.timestamp == model.now
        self.view("poolCash", venue, "poolCash", (), lambda: model.venue.pool_cash)
        self.view("poolValue", venue, "poolValue", (), model.venue.pool_value)
        self.view("totalLpShares", venue, "totalLpShares", (), lambda: model.venue.total_lp_shares)
        self.view("marketState", venue, "marketState", (1,), lambda: model.venue.states[1])
        for name in (*HOLDERS, "keeper", "lp", "outsider"):
            self.view(f"usd {name}", usd, "balanceOf", (self.acct(name),),
                      lambda: model.collateral.balance_of(self.addr(name)))
        orders, outsider = e["orders"], self.addr("outsider")
        self.view("usd orders", usd, "balanceOf", (orders,), lambda: model.collateral.balance_of(str(orders.address)))
        self.view("orderCount", orders, "orderCount", (), lambda: model.orders.order_count)
        for order_id in range(max(model.orders.order_count - 3, 1), model.orders.order_count + 1):
            self.view(f"order {order_id}", orders, "order", (order_id,), lambda: _abi_order(model.orders.order(order_id)))
        self.view("lpShares outsider", venue, "lpShares", (self.acct("outsider"),),
                  lambda: model.venue.lp_shares.get(outsider, 0))
        self.view("position outsider", venue, "position", (1, self.acct("outsider")),
                  lambda: model.venue.position(1, outsider))
        for i in range(TOKENS):
            token, m = self.token(i), self.mtoken(i)
            address = str(token.address)
            self.view(f"idle {i}", usd, "balanceOf", (token,), lambda: model.collateral.balance_of(address))
            self.view(f"escrowAssets {i}", token, "escrowAssets", (), lambda: m.escrow_assets)
            self.view(f"totalSupply {i}", token, "totalSupply", (), lambda: m.total_supply)
            self.view(f"own shares {i}", token, "balanceOf", (token,), lambda: m.balance_of(address))
            for name in HOLDERS:
                a, who = self.acct(name), self.addr(name)
                self.view(f"balance {i} {name}", token, "balanceOf", (a,), lambda: m.balance_of(who))
                for method, on_model in (
                    ("pendingDepositRequest", m.pending_deposit_request),
                    ("claimableDepositRequest", m.claimable_deposit_request),
                    ("pendingRedeemRequest", m.pending_redeem_request),
                    ("claimableRedeemRequest", m.claimable_redeem_request),
                ):
                    self.view(f"{method} {i} {name}", token, method, (0, a), lambda: on_model(who))
                # maxDeposit and maxRedeem are the claimable views above (one function on both sides).
                for method, on_model in (("maxMint", m.max_mint), ("maxWithdraw", m.max_withdraw)):
                    self.view(f"{method} {i} {name}", token, method, (a,), lambda: on_model(who))
                other = HOLDERS[(HOLDERS.index(name) + 1) % len(HOLDERS)]
                self.view(f"isOperator {i} {name} {other}", token, "isOperator", (a, self.acct(other)),
                          lambda: m.is_operator(who, self.addr(other)))
            self.view(f"position {i}", venue, "position", (1, token), lambda: model.venue.position(1, address))
            self.view(f"lastRebalance {i}", token, "lastRebalance", (), lambda: m.last_rebalance)
            self.view(f"lastFeeAccrual {i}", token, "lastFeeAccrual", (), lambda: m.last_fee_accrual)
            self.view(f"iterating {i}", token, "iterating", (), lambda: m.iterating)
            self.view(f"equity {i}", token, "equity", (), m.equity)
            self.view(f"totalAssets {i}", token, "totalAssets", (), m.total_assets)
            self.view(f"rebalanceStatus {i}", token, "rebalanceStatus", (), m.rebalance_status)
            self.view(f"pendingStreamingFee {i}", token, "pendingStreamingFee", (), m.pending_streaming_fee)
            self.view(f"navPerToken {i}", token, "navPerToken", (), m.nav_per_token)
            self.view(f"convertToShares {i}", token, "convertToShares", (10**9,), lambda: m.convert_to_shares(10**9))
            self.view(f"previewDeposit {i}", token, "previewDeposit", (10**9,), lambda: m.preview_deposit(10**9))
            self.view(f"previewRedeem {i}", token, "previewRedeem", (10**18,), lambda: m.preview_redeem(10**18))


def _abi_order(order) -> tuple:
    """An order as the raw call decodes it (the account's address in lower case)."""
    return (order.account.lower(), *dataclasses.astuple(order)[1:])


@pytest.fixture
def differential_env(chain, accounts, gov, keeper, lp, whale, fish, stranger, fee_recipient, usd, feed, venue,
                     orders, outsiders, create_token, fund, read_model, pin_time, mine_at, raw_chain):
    """Two tokens, funded holders, and the model read from this chain state."""
    tokens = [create_token(3), create_token(-2)]
    holders = {"whale": whale, "fish": fish, "stranger": stranger, "fee_recipient": fee_recipient}
    for account in holders.values():
        for token in tokens:
            fund(account, 3_000_000, token)
    fund(lp, 5_000_000, venue)
    outsider = outsiders[0]
    fund(outsider, 5_000_000, orders)
    usd.approve(venue, 2**256 - 1, sender=outsider)
    pin_time(chain.blocks.head.timestamp + 1)
    chain.mine()
    env = {
        "chain": chain,
        "venue": venue,
        "orders": orders,
        "usd": usd,
        "feed": feed,
        "tokens": tokens,
        "accounts": {**holders, "gov": gov, "keeper": keeper, "lp": lp, "outsider": outsider},
        "pin_time": pin_time,
        "mine_at": mine_at,
        "raw": raw_chain,
    }
    env["base_model"] = read_model(tokens, list(holders.values()) + [keeper, lp, outsider])
    return env


def _run(env, profile: str | settings) -> None:
    Differential.env = env
    OUTCOMES.clear()
    chosen = profile if isinstance(profile, settings) else settings.get_profile(profile)
    run_state_machine_as_test(Differential, settings=chosen)
    print("\n".join(f"{count:6d}  {outcome}" for outcome, count in sorted(OUTCOMES.items())))


def test_model_matches_contracts(differential_env):
    """Random sequences of requests, claims, cancels, operators, transfers, rounds (in a request's second
    and after it), settlements by keepers and strangers, time (past the settlement window too), rebalances,
    ripcords, liquidations and parameter changes: contracts and model agree to the unit after every step."""
    _run(differential_env, SETTINGS)


@pytest.mark.slow
@pytest.mark.skipif(not LONG, reason="thousands of steps: run with HYPOTHESIS_PROFILE=long")
def test_model_matches_contracts__long(differential_env):
    """The same comparison over thousands of steps, which must have reached every kind of action."""
    _run(differential_env, "long")
    for method in ("requestDeposit", "requestRedeem", "settle", "deposit", "mint", "redeem", "withdraw", "transfer",
                   "submit", "setParams", "setMarketConfig", "addLiquidity", "removeLiquidity", "pause", "unpause",
                   "setOperator", "cancelDepositRequest"):
        assert OUTCOMES[f"{method}: ok"] > 0, f"no successful {method} in {sum(OUTCOMES.values())} steps"
    assert OUTCOMES["rebalance: ok"] + OUTCOMES["performUpkeep: ok"] > 0, "no successful rebalance"
    assert OUTCOMES["settle: pro rata"] > 0, "no deposit batch filled pro rata"
