"""Differential test: random sequences of actions go to the contracts on anvil and to levtoken.model;
after every step both agree to the unit (token equity, supply, every balance, the venue position,
the pool's cash, the market aggregates, rebalanceStatus, previews), and a step that reverts on one
reverts on the other with the same error.

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
from levtoken.units import DAY, to_units
from tests.utils.strategies import LONG, deposit_amount, market_fees, time_steps, token_fees

# Errors that name the parameter field out of bounds: the model's and the chain's name the same field.
FIELD_ERRORS = ("InvalidParameter", "InvalidConfig")
OUTCOMES: Counter[str] = Counter()  # "method: ok" or "method: reverted Error", over a whole run
TOKENS = 2  # a 3x long and a 2x short on the same market: the funding skew is partly netted
HOLDERS = ("whale", "fish", "stranger", "fee_recipient")

token_index = st.integers(0, TOKENS - 1)
holder = st.sampled_from(HOLDERS)
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
            if name in FIELD_ERRORS:
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
        for i, usd in enumerate(amounts):
            self.deposit(i, "whale", to_units(usd))

    # --- holders -----------------------------------------------------------------------------
    def holder_call(self, i: int, who: str, method: str, amount: int, *to: str) -> None:
        """`who` calls token i's `method` with `amount` for itself (receiver, owner), or with `to` first
        for a transfer: the same call on the model's token takes addresses, the chain's accounts."""
        a, address = self.acct(who), self.addr(who)
        chain_args = (self.acct(to[0]), amount) if to else (amount, a, a)[: 2 if method in ("deposit", "mint") else 3]
        model_args = (self.addr(to[0]), amount) if to else (amount, address, address)[: len(chain_args)]
        self.both(
            f"{method}({i}, {who}{'->' + to[0] if to else ''}, {amount})",
            a, self.token(i), method, chain_args,
            lambda: getattr(self.mtoken(i), method)(address, *model_args),
        )

    @rule(i=token_index, who=holder, assets=deposit_amount)
    def deposit(self, i, who, assets):
        self.holder_call(i, who, "deposit", assets)

    @rule(i=token_index, who=holder, shares=st.integers(1, 10**23))
    def mint(self, i, who, shares):
        self.holder_call(i, who, "mint", shares)

    @rule(i=token_index, who=holder, divisor=st.sampled_from([1, 1, 2, 3, 10, 10**6, 10**30]))
    def redeem(self, i, who, divisor):
        self.holder_call(i, who, "redeem", self.mtoken(i).balance_of(self.addr(who)) // divisor)

    @rule(i=token_index, who=holder, fraction=st.sampled_from([(1, 1), (1, 2), (1, 7), (3, 2)]))
    def withdraw(self, i, who, fraction):
        try:
            assets = self.mtoken(i).max_withdraw(self.addr(who)) * fraction[0] // fraction[1]
        except Revert:
            assets = 10**6
        self.holder_call(i, who, "withdraw", assets)

    @rule(i=token_index, sender=holder, to=holder, divisor=st.sampled_from([1, 2, 5]))
    def transfer(self, i, sender, to, divisor):
        self.holder_call(i, sender, "transfer", self.mtoken(i).balance_of(self.addr(sender)) // divisor, to)

    @rule(i=token_index, amount=st.integers(1, 5_000 * 10**6))
    def donate(self, i, amount):
        usd, s = self.e["usd"], self.acct("stranger")
        token = self.token(i)
        self.both(
            f"donate({i}, {amount})",
            s, usd, "transfer", (token, amount),
            lambda: self.model.collateral.transfer(self.addr("stranger"), str(token.address), amount),
        )

    # --- market ------------------------------------------------------------------------------
    @rule(bps=price_move_bps)
    def move_price(self, bps):
        feed, gov = self.e["feed"], self.acct("gov")
        answer = max(1, self.model.feeds[str(feed.address)].answer * (10_000 + bps) // 10_000)
        self.both(
            f"price {bps:+} bps -> {answer}",
            gov, feed, "submit", (answer,),
            lambda: self.model.set_answer(answer, str(feed.address)),
        )

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

    @rule(fees=market_fees(depths_usd=[1_000_000, 1_000_000_000]))
    def set_market(self, fees):
        venue, gov, feed = self.e["venue"], self.acct("gov"), self.e["feed"]
        config = fees.applied_to(self.model.venue.configs[1])
        self.both(
            f"setMarketConfig({config})",
            gov, venue, "setMarketConfig", (1, config.to_abi(feed=str(feed.address))),
            lambda: self.model.venue.set_market_config(self.addr("gov"), 1, config),
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
        for name in (*HOLDERS, "keeper", "lp"):
            self.view(f"usd {name}", usd, "balanceOf", (self.acct(name),),
                      lambda: model.collateral.balance_of(self.addr(name)))
        for i in range(TOKENS):
            token, m = self.token(i), self.mtoken(i)
            address = str(token.address)
            self.view(f"idle {i}", usd, "balanceOf", (token,), lambda: model.collateral.balance_of(address))
            self.view(f"totalSupply {i}", token, "totalSupply", (), lambda: m.total_supply)
            for name in HOLDERS:
                self.view(f"balance {i} {name}", token, "balanceOf", (self.acct(name),),
                          lambda: m.balance_of(self.addr(name)))
            self.view(f"position {i}", venue, "position", (1, token), lambda: model.venue.position(1, address))
            self.view(f"lastRebalance {i}", token, "lastRebalance", (), lambda: m.last_rebalance)
            self.view(f"lastFeeAccrual {i}", token, "lastFeeAccrual", (), lambda: m.last_fee_accrual)
            self.view(f"iterating {i}", token, "iterating", (), lambda: m.iterating)
            self.view(f"equity {i}", token, "equity", (), m.equity)
            self.view(f"rebalanceStatus {i}", token, "rebalanceStatus", (), m.rebalance_status)
            self.view(f"pendingStreamingFee {i}", token, "pendingStreamingFee", (), m.pending_streaming_fee)
            self.view(f"navPerToken {i}", token, "navPerToken", (), m.nav_per_token)
            shares = m.balance_of(self.addr("whale"))
            self.view(f"previewRedeem {i}", token, "previewRedeem", (shares,), lambda: m.preview_redeem(shares))
            assets = to_units(10_000)
            self.view(f"previewDeposit {i}", token, "previewDeposit", (assets,), lambda: m.preview_deposit(assets))


@pytest.fixture
def differential_env(chain, accounts, gov, keeper, lp, whale, fish, stranger, fee_recipient, usd, feed, venue,
                     create_token, fund, read_model, pin_time, mine_at, raw_chain):
    """Two tokens, funded holders, and the model read from this chain state."""
    tokens = [create_token(3), create_token(-2)]
    holders = {"whale": whale, "fish": fish, "stranger": stranger, "fee_recipient": fee_recipient}
    for account in holders.values():
        for token in tokens:
            fund(account, 3_000_000, token)
    fund(lp, 5_000_000, venue)
    pin_time(chain.blocks.head.timestamp + 1)
    chain.mine()
    env = {
        "chain": chain,
        "venue": venue,
        "usd": usd,
        "feed": feed,
        "tokens": tokens,
        "accounts": {**holders, "gov": gov, "keeper": keeper, "lp": lp},
        "pin_time": pin_time,
        "mine_at": mine_at,
        "raw": raw_chain,
    }
    env["base_model"] = read_model(tokens, list(holders.values()) + [keeper, lp])
    return env


def _run(env, profile: str) -> None:
    Differential.env = env
    OUTCOMES.clear()
    run_state_machine_as_test(Differential, settings=settings.get_profile(profile))
    print("\n".join(f"{count:6d}  {outcome}" for outcome, count in sorted(OUTCOMES.items())))


def test_model_matches_contracts(differential_env):
    """Random sequences of mints, redeems, transfers, price moves, time, rebalances, ripcords,
    liquidations and parameter changes: contracts and model agree to the unit after every step."""
    _run(differential_env, "model-fast")


@pytest.mark.slow
@pytest.mark.skipif(not LONG, reason="thousands of steps: run with HYPOTHESIS_PROFILE=long")
def test_model_matches_contracts__long(differential_env):
    """The same comparison over thousands of steps, which must have reached every kind of action."""
    _run(differential_env, "long")
    for method in ("deposit", "mint", "redeem", "withdraw", "transfer", "submit", "setParams", "setMarketConfig",
                   "addLiquidity", "removeLiquidity", "pause", "unpause"):
        assert OUTCOMES[f"{method}: ok"] > 0, f"no successful {method} in {sum(OUTCOMES.values())} steps"
    assert OUTCOMES["rebalance: ok"] + OUTCOMES["performUpkeep: ok"] > 0, "no successful rebalance"
