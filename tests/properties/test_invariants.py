"""Protocol invariants over long random histories of the reference model (levtoken.model, which equals
the contracts to the unit: tests/model/test_differential.py). No chain, so an example can run
hundreds of steps in a second.

One token per example (target leverage drawn from 3x, 2x, 5x long and 1x, 2x, 3x short) on a market
with the project's default costs and an LP pool deep enough never to run out of cash. Holders request
deposits and redemptions (ERC-7540), claim them whole or in part, cancel expired deposits and transfer;
the price moves within the band-implied move or beyond it (gaps of up to 40%), each move a round in the
current second; time passes (the price is re-published after every time step, so it is never stale);
the keeper either acts right after a market step (settling, rebalancing, iterating capped rebalances
and pulling the ripcord until nothing is due) or is late and skips it; anyone may pull the ripcord,
settle redemptions after the window or liquidate; the admin changes the token's fees and the venue owner
the market's fees within bounds; the guardian pauses and unpauses.

After every step:
 1. claims never exceed equity: sum over holders of convertToAssets(balance) <= max(equity, 0);
 2. mint-then-redeem at an unchanged price and time returns at most what was paid;
 3. right after a completed (not capped) rebalance, |leverage - target| / |target| <= 1e-7;
 4. the venue never finds the token liquidatable while every price move since the last completed
    rebalance stayed within the band-implied move and the keeper acted after every market step;
 5. totalSupply == sum of balances, and the venue's collateral == poolCash + sum of margins;
 6. every holder can redeem the whole balance (request, a newer round, a keeper's settlement, the claim),
    or the failure is a documented one;
 7. escrow: pending deposits + claimable redemption assets + rounding dust == escrowAssets <= the token's
    collateral, the dust below one unit per requester of each settled redemption; pending redemption
    shares + claimable deposit shares <= the token's own share balance;
 8. every settled epoch's price time is strictly after its last request;
 9. a requester's outcome does not depend on anything published after its request's settlement: the
    claimable amounts after a settlement are the same whatever later rounds say, and claim the same;
10. every action rebalanceStatus reports as due succeeds when sent (a rebalance that adds exposure
    while paused excepted, as documented).
"""

from __future__ import annotations

import copy
import dataclasses
from collections import Counter
from fractions import Fraction

import pytest
from hypothesis import event, settings
from hypothesis import strategies as st
from hypothesis.stateful import (RuleBasedStateMachine, initialize, invariant, precondition, rule,
                                 run_state_machine_as_test)

from levtoken.model import LeveragedToken, Model, Revert, default_params, standard_model
from levtoken.model.libraries import request_queue
from levtoken.shapes import Action, Params
from levtoken.units import DAY, WAD, to_units
from tests.utils.model_flows import model_deposit, model_settle
from tests.utils.strategies import LONG, deposit_amount, market_fees, time_steps, token_fees

TOKEN = "token"
KEEPER = "keeper"
FEES = "fee_recipient"
HOLDERS = ("whale", "fish", "stranger", FEES)
LEVERAGES = (3, 2, 5, -1, -2, -3)
START_PRICE = 30_000 * 10**8  # feed answer, 8 decimals
PRICE_FLOOR, PRICE_CEILING = 1_000 * 10**8, 1_000_000 * 10**8
POOL_SEED = to_units(10**11)  # the pool never lacks cash to pay the token's profits
KEEPER_PATIENCE = 64  # rebalance calls a punctual keeper makes after one market step
REL_TOLERANCE = Fraction(1, 10**7)
# Invariant 3 is checked from 100 USD of equity: below, one unit of collateral (1e-6 USD) exceeds
# 1e-8 of equity and the unit rounding of the trade's cost alone can move leverage by 1e-7.
MIN_EQUITY_FOR_PRECISION = to_units(100)

STATS: Counter[str] = Counter()  # outcomes over a whole run, printed and checked by the long test

holder = st.sampled_from(HOLDERS)
time_step = time_steps(minute=60, longest=4 * DAY)
keeper_on_time = st.sampled_from([True, True, False])


def note(outcome: str) -> None:
    event(outcome)
    STATS[outcome] += 1


def model_invariant(check):
    """An invariant of the state machine, checked once the set-up has built its model."""
    return precondition(lambda self: self.model is not None)(invariant()(check))


def _controllers(token) -> list[str]:
    """Every controller that has requested on the model's `token`, in a fixed order."""
    return sorted(set(token.deposit_accounts) | set(token.redeem_accounts))


def band_ratios(target: int, params: Params) -> tuple[Fraction, Fraction]:
    """(low, high): a price ratio strictly between them takes a token at target leverage to a leverage
    still inside [leverageMin, leverageMax] (no costs, no funding): the band-implied move."""
    a = Fraction(abs(target), WAD)
    lo, hi = Fraction(params.leverage_min, WAD), Fraction(params.leverage_max, WAD)
    if target > 0:
        # A long's leverage L(1+r)/(1+Lr) rises when the price falls.
        down = -(hi - a) / (a * (hi - 1)) if hi > 1 else Fraction(-1)
        up = (lo - a) / (a * (1 - lo)) if lo > 1 else None
    else:
        # A short's |leverage| a(1+r)/(1-ar) rises when the price rises.
        up = (hi - a) / (a * (1 + hi))
        down = (lo - a) / (a * (1 + lo))
    low = 1 + down
    high = 1 + up if up is not None else Fraction(10**9)
    return low, high


class TokenInvariants(RuleBasedStateMachine):
    """The model under random use; every invariant is checked after every step."""

    def __init__(self) -> None:
        super().__init__()
        self.model: Model | None = None
        # Invariant 4: every price move since the last completed rebalance stayed within the
        # band-implied move and the keeper acted after every market step.
        self.protected = False
        # Invariant 3: leverage read right after each completed rebalance of the current step.
        self.after_rebalance: list[tuple[int, int, str]] = []

    # --- helpers -----------------------------------------------------------------------------
    @property
    def token(self) -> LeveragedToken:
        return self.model.tokens[TOKEN]

    @property
    def answer(self) -> int:
        return self.model.feeds["feed"].answer

    def attempt(self, label: str, action) -> object | None:
        """Runs a model entry point; a revert (atomic: the model is unchanged) is recorded, not raised."""
        try:
            result = action()
        except Revert as err:
            note(f"{label}: reverted {err.name}")
            return None
        note(f"{label}: ok")
        return result

    def keeper_round(self) -> None:
        """A punctual keeper: rebalances (iterating capped ones, ripcord included) until nothing is due."""
        t = self.token
        for _ in range(KEEPER_PATIENCE):
            try:
                status = t.rebalance_status()
            except Revert as err:
                note(f"rebalanceStatus: reverted {err.name}")
                self.protected = False
                return
            if status.action == Action.NONE:
                return
            if status.action == Action.SETTLE:
                if self.settle_as(KEEPER) is None:
                    self.protected = False
                    return
                continue
            cost = self.trade_cost(status)
            try:
                t.rebalance(KEEPER)
            except Revert as err:
                # e.g. paused while the trade adds exposure: the keeper could not act.
                note(f"keeper rebalance: reverted {err.name}")
                self.protected = False
                return
            note(f"keeper rebalance ({status.action.name}): ok")
            self.went_through(status, cost)
        note("keeper ran out of patience")
        self.protected = False

    def settle_as(self, caller: str):
        """A settlement by `caller`; checks invariant 8 on the epochs it settled. None when it reverts."""
        t = self.token
        before = self._settled_epochs()
        price_time = t._round_time()[0]
        result = self.attempt(f"settle by {caller}", lambda: t.settle(caller))
        if result is None:
            return None
        for side, book in (("deposit", t.deposits), ("redemption", t.redemptions)):
            for epoch_id in self._settled_epochs()[side] - before[side]:
                e = book.epochs[epoch_id]
                note("settled epoch checked")
                assert e.last_request < price_time, (
                    f"invariant 8: {side} epoch {epoch_id} (last request {e.last_request}) settled at a round "
                    f"of {price_time}"
                )
        return result

    def _settled_epochs(self) -> dict[str, set[int]]:
        t = self.token
        return {side: {i for i, e in book.epochs.items() if e.status == request_queue.SETTLED}
                for side, book in (("deposit", t.deposits), ("redemption", t.redemptions))}

    def trade_cost(self, status) -> int:
        """Fee and impact of the rebalance trade `status` announces (0 without a trade)."""
        if status.size_delta == 0:
            return 0
        q = self.model.venue.quote_trade(1, status.size_delta)
        return q.fee + q.impact

    def went_through(self, status, cost: int) -> None:
        """Notes a rebalance (or ripcord) that went through; a completed one is recorded for invariant 3."""
        if status.capped:
            note("capped rebalance")
        else:
            note(f"completed rebalance ({status.action.name})")
            self.record_completed(status, cost)

    def record_completed(self, status, cost: int) -> None:
        """Leverage right after a completed rebalance, for invariant 3."""
        t = self.token
        self.after_rebalance.append((t.leverage(), t.equity(), status.action.name, cost))
        self.protected = True

    def late_keeper(self) -> None:
        """The keeper skips this step: anything due stays undone, and the protection is off."""
        try:
            due = self.token.rebalance_status().action != Action.NONE
        except Revert:
            due = True
        if due:
            note("keeper late while a rebalance is due")
            self.protected = False

    def after_market_step(self, on_time: bool) -> None:
        if on_time:
            self.keeper_round()
        else:
            self.late_keeper()

    # --- set-up ------------------------------------------------------------------------------
    @initialize(
        leverage=st.sampled_from(LEVERAGES),
        first=st.integers(1_000, 500_000),
        rng=st.randoms(use_true_random=False),
    )
    def setup(self, leverage, first, rng):
        self.rng = rng
        self.model = standard_model(START_PRICE * 10**10, pool_seed=POOL_SEED)
        target = leverage * WAD
        self.model.add_token(TOKEN, 1, target, default_params(target, FEES), keeper=KEEPER)
        for name in HOLDERS:
            self.model.collateral.mint(name, to_units(10**9))
        model_deposit(self.model, self.token, "whale", to_units(first))
        self.band = band_ratios(target, self.token.params)
        self.protected = True
        note(f"token {leverage}x")

    def _begin(self) -> None:
        self.after_rebalance = []

    # --- holders -----------------------------------------------------------------------------
    @rule(who=holder, assets=deposit_amount, controller=st.sampled_from([None, None, *HOLDERS]))
    def request_deposit(self, who, assets, controller):
        self._begin()
        self.attempt("requestDeposit", lambda: self.token.request_deposit(who, assets, controller or who, who))

    @rule(who=holder, divisor=st.sampled_from([1, 1, 2, 3, 10, 10**6]))
    def request_redeem(self, who, divisor):
        self._begin()
        shares = self.token.balance_of(who) // divisor
        self.attempt("requestRedeem", lambda: self.token.request_redeem(who, shares, who, who))

    @rule(who=holder, method=st.sampled_from(["deposit", "mint", "redeem", "withdraw"]),
          fraction=st.sampled_from([(1, 1), (1, 1), (1, 2), (1, 7), (3, 2)]))
    def claim(self, who, method, fraction):
        self._begin()
        t = self.token
        claimable = {"deposit": t.max_deposit, "mint": t.max_mint, "redeem": t.max_redeem,
                     "withdraw": t.max_withdraw}[method](who)
        amount = claimable * fraction[0] // fraction[1]
        self.attempt(method, lambda: getattr(t, method)(who, amount, who, who))

    @rule(who=holder, assets=deposit_amount, divisor=st.sampled_from([1, 2, 3, 10]), deposit=st.booleans(),
          on_time=keeper_on_time)
    def round_trip(self, who, assets, divisor, deposit, on_time):
        """A holder requests, a second later a round is published and the keeper acts (or is late), and the
        holder claims whatever is claimable."""
        if deposit:
            self.request_deposit(who, assets, None)
        else:
            self.request_redeem(who, divisor)
        self._wait(1, on_time)
        for method in ("deposit", "redeem"):
            self.claim(who, method, (1, 1))

    @rule(who=holder)
    def cancel(self, who):
        self._begin()
        self.attempt("cancelDepositRequest", lambda: self.token.cancel_deposit_request(who, who, who))

    @rule()
    def stranger_settles(self):
        """Anyone may settle redemptions once their window has passed."""
        self._begin()
        self.settle_as("stranger")

    @rule(sender=holder, to=holder, divisor=st.sampled_from([1, 2, 5]))
    def transfer(self, sender, to, divisor):
        self._begin()
        amount = self.token.balance_of(sender) // divisor
        self.attempt("transfer", lambda: self.token.transfer(sender, to, amount))

    @rule(amount=st.integers(1, 5_000 * 10**6))
    def donate(self, amount):
        """Collateral sent straight to the token (it becomes idle equity)."""
        self._begin()
        self.attempt("donate", lambda: self.model.collateral.transfer("stranger", TOKEN, amount))

    # --- market ------------------------------------------------------------------------------
    def _move(self, bps: int, on_time: bool) -> None:
        self._begin()
        old = self.answer
        new = max(1, old * (10_000 + bps) // 10_000)
        if not PRICE_FLOOR <= new <= PRICE_CEILING:
            new = max(1, old * (10_000 - bps) // 10_000)  # reflected at the ends of the price range
        self.model.set_answer(new, "feed")
        low, high = self.band
        if low < Fraction(new, old) < high:
            note("move within band")
        else:
            note("move beyond band")
            self.protected = False
        self.after_market_step(on_time)

    def _wait(self, seconds: int, on_time: bool) -> None:
        self._begin()
        self.model.advance(seconds)
        self.model.set_answer(self.answer, "feed")  # the price is re-published: never stale
        self.after_market_step(on_time)

    # Several market rules, so that every example (hypothesis enables a random subset of the
    # rules in each) moves the price and the clock.
    @rule(bps=st.integers(-300, 300), on_time=keeper_on_time)
    def small_move(self, bps, on_time):
        self._move(bps, on_time)

    @rule(bps=st.integers(-1200, 1200), on_time=keeper_on_time)
    def large_move(self, bps, on_time):
        self._move(bps, on_time)

    @rule(bps=st.one_of(st.integers(-4000, -1200), st.integers(1200, 4000)), on_time=keeper_on_time)
    def gap(self, bps, on_time):
        self._move(bps, on_time)

    @rule(on_time=keeper_on_time)
    def next_round(self, on_time):
        """A second passes and the price is re-published: every waiting request qualifies."""
        self._wait(1, on_time)

    @rule(lag=st.integers(0, 120), seconds=st.integers(1, 30))
    def lagging_round(self, lag, seconds):
        """A round of a lagging adapter (Pyth-, RedStone- or API3-style): it lands `seconds` later, timestamped
        up to `lag` seconds before that, and the next request or poke rolls the queues to it."""
        self.model.advance(seconds)
        feed = self.model.feeds["feed"]
        feed.submit(feed.answer, max(self.model.now - lag, feed.updated_at))
        self.attempt("poke", lambda: self.token.poke())

    @rule(seconds=time_step, on_time=keeper_on_time)
    def advance_time(self, seconds, on_time):
        self._wait(seconds, on_time)

    @rule(bps=st.integers(-500, 500), on_time=keeper_on_time)
    def next_day(self, bps, on_time):
        """A day passes and the price moves: the keeper's usual rhythm."""
        self.model.advance(DAY)
        self._move(bps, on_time)

    # --- keeper and anyone -------------------------------------------------------------------
    def act(self, label: str, call) -> None:
        """Someone acts whatever rebalanceStatus says: the outcome is noted, and a rebalance that went
        through is recorded (invariant 3)."""
        self._begin()
        try:
            status = self.token.rebalance_status()
        except Revert:
            return
        cost = self.trade_cost(status)
        try:
            call()
        except Revert as err:
            note(f"{label}: reverted {err.name}")
            return
        note(f"{label} ({status.action.name}): ok")
        if status.action != Action.SETTLE:
            self.went_through(status, cost)

    @rule(call=st.sampled_from(["performUpkeep", "rebalance", "settle"]))
    def keeper_once(self, call):
        """One keeper call (performUpkeep, rebalance or settle) whatever the status says."""
        t = self.token
        if call == "performUpkeep":
            self.act("performUpkeep", lambda: t.perform_upkeep(KEEPER))
        elif call == "rebalance":
            self.act("rebalance", lambda: t.rebalance(KEEPER))
        else:
            self._begin()
            self.settle_as(KEEPER)

    @rule()
    def ripcord(self):
        """Anyone pulls the ripcord (a ripcord is never capped)."""
        self.act("ripcord", lambda: self.token.ripcord("stranger"))

    @rule()
    def liquidate(self):
        self._begin()
        self.attempt("liquidate", lambda: self.model.venue.liquidate("stranger", 1, TOKEN))

    # --- admin -------------------------------------------------------------------------------
    @rule(fees=token_fees(max_trades_usd=[20_000, 50_000, 1_000_000], drift_pcts=[0, 1, 10]))
    def set_token_fees(self, fees):
        self._begin()
        t = self.token
        params = fees.applied_to(t.params, t.target_leverage)
        self.attempt("setParams", lambda: t.set_params("gov", params))

    @rule(fees=market_fees(depths_usd=[10_000_000, 1_000_000_000]))
    def set_market_fees(self, fees):
        self._begin()
        v = self.model.venue
        for config in fees.steps_from(v.configs[1]):  # one bounded step per change
            self.attempt("setMarketConfig", lambda config=config: v.set_market_config("gov", 1, config))

    @rule()
    def toggle_pause(self):
        self._begin()
        t = self.token
        if t.paused:
            self.attempt("unpause", lambda: t.unpause("gov"))
        else:
            self.attempt("pause", lambda: t.pause("gov"))

    # --- invariants --------------------------------------------------------------------------
    @model_invariant
    def claims_never_exceed_equity(self):
        t = self.token
        equity = t.equity()
        claims = sum(t.convert_to_assets(balance) for balance in t.balances.values())
        assert claims <= max(equity, 0), (
            f"invariant 1: holders' claims {claims} exceed the token's equity {equity} "
            f"(supply {t.total_supply}, pending fee {t.pending_streaming_fee()})"
        )

    @model_invariant
    def mint_then_redeem_gains_nothing(self):
        for _ in range(1):
            who = "newcomer"  # no earlier request or claim of its own to mix with the probe's
            assets = self.rng.choice([self.rng.randint(1, 10**6), self.rng.randint(10**6, 10**12)])
            m = self._settled_copy()
            t = m.tokens[TOKEN]
            m.collateral.mint(who, assets)
            cash_before = m.collateral.balance_of(who)
            try:
                t.request_deposit(who, assets, who, who)
                model_settle(m, t)
                received = t.deposit(who, t.max_deposit(who), who, who)
            except Revert:
                continue
            if received == 0:
                continue
            try:
                t.request_redeem(who, received, who, who)
                model_settle(m, t)
                t.redeem(who, t.max_redeem(who), who, who)
            except Revert as err:
                note(f"probe redeem: reverted {err.name}")
                continue
            back = m.collateral.balance_of(who) - (cash_before - assets)
            note("mint-then-redeem probed")
            assert back <= assets, (
                f"invariant 2: {who} paid {assets} for {received} shares and redeemed them for {back} "
                f"at the same price one second later (gain {back - assets})"
            )

    def _settled_copy(self) -> Model:
        """A copy of the model after a newer round and a keeper's settlement of whatever waits (if any);
        the settled state is computed once per step (the invariants run between steps)."""
        key = (self.model.journal.version, self.model.now)
        if getattr(self, "_settled_key", None) != key:
            m = copy.deepcopy(self.model)
            try:
                model_settle(m, m.tokens[TOKEN])
            except Revert:
                pass
            self._settled, self._settled_key = m, key
        return copy.deepcopy(self._settled)

    @model_invariant
    def completed_rebalance_reaches_target(self):
        target = self.token.target_leverage
        for leverage, equity, action, cost in self.after_rebalance:
            if equity < MIN_EQUITY_FOR_PRECISION:
                # One collateral unit is then more than 1e-8 of equity: 1e-7 is below the resolution.
                note("rebalance precision not checked (equity below 100 USD)")
                continue
            if cost * 1_000 > equity:
                # Known flaw (KNOWN_FLAW_REBALANCE_PRECISION, test_rebalance_precision_with_costly_trades):
                # once the trade costs more than 0.1% of equity the cost correction misses 1e-7.
                note("rebalance precision not checked (trade cost above 0.1% of equity, known flaw)")
                continue
            note("rebalance precision checked")
            assert abs(leverage - target) <= abs(target) * REL_TOLERANCE, (
                f"invariant 3: after a completed {action} rebalance leverage is {leverage} for target "
                f"{target} (relative error {float(Fraction(abs(leverage - target), abs(target))):.3e}, "
                f"equity {equity})"
            )

    @model_invariant
    def not_liquidatable_while_protected(self):
        if not self.protected:
            return
        note("protected state checked")
        v = self.model.venue
        assert not v.is_liquidatable(1, TOKEN), (
            f"invariant 4: the venue can liquidate the token although every move stayed within the band "
            f"and the keeper acted on time (leverage {self.token.leverage()}, equity {self.token.equity()})"
        )

    @model_invariant
    def no_request_is_orphaned(self):
        """Every pending request resolves to an epoch that is settled, expired (so it can be cancelled) or in one
        of the queue's live slots (so a settlement will reach it)."""
        t = self.token
        for book, accounts in [(t.deposits, t.deposit_accounts), (t.redemptions, t.redeem_accounts)]:
            for controller, a in accounts.items():
                if a.pending == 0:
                    continue
                e = request_queue.resolve(book, a.epoch)
                live = request_queue.is_live(book, e)
                assert book.epoch(e).status != request_queue.PENDING or live, (
                    f"{controller}'s pending request of {a.pending} sits in epoch {e}, which no slot holds "
                    f"(queue {book.queue})"
                )

    @model_invariant
    def supply_and_collateral_are_conserved(self):
        t, v = self.token, self.model.venue
        held = sum(t.balances.values())
        assert t.total_supply == held, f"invariant 5: totalSupply {t.total_supply} != sum of balances {held}"
        margins = sum(p.margin for p in v.positions[1].values())
        cash = self.model.collateral.balance_of(v.address)
        assert cash == v.pool_cash + margins, (
            f"invariant 5: the venue holds {cash} collateral, poolCash {v.pool_cash} + margins {margins} "
            f"= {v.pool_cash + margins}"
        )

    @model_invariant
    def every_holder_can_redeem(self):
        m = self._settled_copy()
        t = m.tokens[TOKEN]
        balances = {who: balance for who, balance in t.balances.items() if balance and who != TOKEN}
        if not balances:
            return
        earlier = {who: t.max_redeem(who) for who in balances}  # claimable and not claimed yet
        try:
            for who, balance in balances.items():
                t.request_redeem(who, balance, who, who)
            model_settle(m, t)
            for who, balance in balances.items():
                claimable = t.max_redeem(who)
                assert claimable == earlier[who] + balance, (
                    f"invariant 6: {who} redeemed {balance} shares, {claimable - earlier[who]} claimable")
                if t.max_withdraw(who) != 0:
                    t.redeem(who, claimable, who, who)
        except Revert as err:
            equity = t.equity()
            if equity <= 0 and err.name in ("SettlementRejected", "EarlierRequestPending"):
                # Documented: a wiped-out token whose venue refuses the close cannot price redemptions (and a
                # request waiting in a batch that cannot settle blocks its requester's next one).
                note(f"redeem all: reverted {err.name} (wiped out)")
                return
            raise AssertionError(
                f"invariant 6: the holders cannot redeem their balances {balances}: {err!r} (equity {equity}, "
                f"leverage {t.leverage()}, paused {t.paused})"
            ) from err
        note("redeem all: ok")

    @model_invariant
    def escrow_is_accounted(self):
        t = self.token
        controllers = _controllers(t)
        owed_assets = sum(t.pending_deposit_request(c) + t.max_withdraw(c) for c in controllers)
        owed_shares = sum(t.pending_redeem_request(c) + t.max_mint(c) for c in controllers)
        collateral = self.model.collateral.balance_of(TOKEN)
        settled = sum(1 for e in t.redemptions.epochs.values()
                      if e.status == request_queue.SETTLED and e.merged_into == 0)
        dust = t.escrow_assets - owed_assets
        assert 0 <= dust <= settled * len(controllers), (
            f"invariant 7: escrow {t.escrow_assets} != pending deposits and claimable redemptions {owed_assets} "
            f"+ dust (at most {settled * len(controllers)})"
        )
        assert t.escrow_assets <= collateral, f"invariant 7: escrow {t.escrow_assets} > collateral {collateral}"
        own = t.balance_of(TOKEN)
        assert owed_shares <= own, f"invariant 7: owed shares {owed_shares} > the token's own balance {own}"
        if dust:
            note("escrow dust")

    @model_invariant
    def outcome_ignores_later_rounds(self):
        t = self.token
        controllers = _controllers(t)
        if not any(t.pending_deposit_request(c) or t.pending_redeem_request(c) for c in controllers):
            return
        outcomes = []
        for factor in (None, (4, 5), (5, 4)):
            m = self._settled_copy()
            mt = m.tokens[TOKEN]
            if factor is not None:
                m.advance(self.rng.choice([1, 60, DAY]))
                m.set_answer(max(1, self.answer * factor[0] // factor[1]))
            claims = []
            for c in controllers:
                pair = (mt.max_deposit(c), mt.max_mint(c), mt.max_redeem(c), mt.max_withdraw(c))
                got = []
                for method, amount in zip(("deposit", "redeem"), (pair[0], pair[2])):
                    try:
                        got.append(getattr(mt, method)(c, amount, c, c) if amount else 0)
                    except Revert as err:
                        got.append(err.name)
                claims.append((c, pair, tuple(got)))
            outcomes.append(claims)
        note("later rounds probed")
        assert outcomes[0] == outcomes[1] == outcomes[2], (
            f"invariant 9: claimable amounts differ with later rounds: {outcomes}"
        )

    @model_invariant
    def due_action_succeeds(self):
        status = self.token.rebalance_status()
        if status.action == Action.NONE:
            return
        m = copy.deepcopy(self.model)
        t = m.tokens[TOKEN]
        caller = "stranger" if status.action == Action.RIPCORD else KEEPER
        try:
            t.perform_upkeep(caller)
        except Revert as err:
            s = t._snapshot()
            adds_exposure = abs(s.size + status.size_delta) > abs(s.size)
            if err.name == "EnforcedPause" and t.paused and adds_exposure:
                note("due action refused while paused (documented)")
                return
            raise AssertionError(f"invariant 10: rebalanceStatus says {status}, performUpkeep reverts {err!r}") from err
        note(f"due action succeeded ({status.action.name})")


def _run(profile: str) -> None:
    STATS.clear()
    run_state_machine_as_test(TokenInvariants, settings=settings.get_profile(profile))
    print("\n".join(f"{count:7d}  {outcome}" for outcome, count in sorted(STATS.items())))


def test_invariants_hold():
    """A few hundred random steps: every invariant holds after every one."""
    _run("invariants-fast")


@pytest.mark.slow
@pytest.mark.skipif(not LONG, reason="thousands of steps: run with HYPOTHESIS_PROFILE=long")
def test_invariants_hold__long():
    """Thousands of steps, which must have reached every kind of action and exercised every invariant."""
    _run("invariants-long")
    for outcome in ("requestDeposit: ok", "requestRedeem: ok", "deposit: ok", "mint: ok", "redeem: ok",
                    "withdraw: ok", "transfer: ok", "setParams: ok", "settle by keeper: ok", "settled epoch checked",
                    "later rounds probed", "due action succeeded (SETTLE)", "redeem all: ok",
                    "setMarketConfig: ok", "move within band", "move beyond band", "mint-then-redeem probed",
                    "protected state checked", "keeper late while a rebalance is due", "capped rebalance",
                    "completed rebalance (REBALANCE)", "completed rebalance (RIPCORD)", "liquidate: ok"):
        assert STATS[outcome] > 0, f"never reached: {outcome!r} in {sum(STATS.values())} outcomes"


# Invariant 6 found this once: above the venue's initial-margin leverage (a gap the keeper has not yet
# answered), a partial redemption left the residual account a fraction of a unit short of pro rata and
# the venue refused it. The venue's pro-rata exit now allows PRO_RATA_SLACK units of rounding.
def test_redeem_above_initial_margin_leverage():
    """Minimal example: a 3x long holding 1,000 USD of one holder's at 30,000; the price gaps 30% down
    to 21,000 (leverage 21x, the keeper has not pulled the ripcord yet); redeeming half the shares
    (request, a newer round, settlement, claim) reverted with InsufficientMargin(50024463, 105051374). DESIGN.md: redeem must always be possible
    unless the venue itself is down."""
    model = standard_model(30_000 * WAD, pool_seed=POOL_SEED)
    token = model.add_token(TOKEN, 1, 3 * WAD, default_params(3 * WAD, FEES), keeper=KEEPER)
    model.collateral.mint("whale", to_units(1_000))
    model_deposit(model, token, "whale", to_units(1_000))
    model.set_price(21_000 * WAD)
    assert token.leverage() > 10 * WAD
    shares = token.balance_of("whale") // 2
    try:
        token.request_redeem("whale", shares, "whale", "whale")
        model_settle(model, token)
        token.redeem("whale", shares, "whale", "whale")
    except Revert as err:
        raise AssertionError(f"redeem of {shares} shares at {token.leverage() / WAD:.1f}x reverted: {err!r}") from err


# Invariant 3 found this: a completed rebalance misses the target by more than 1e-7 when the trade is
# costly (a shallower market than the default impact depth, or higher fees).
KNOWN_FLAW_REBALANCE_PRECISION = """
LeveragedToken._netOfCost sizes the rebalance trade from one quote of the gross trade, re-weighting
the impact once at the net size. Exact for costs proportional to size (the fee) and accurate to second
order for the quadratic impact, its error grows with the trade's cost relative to equity: 2.4e-7 at a
cost of 0.3% of equity, 4e-6 at 0.9%, 1e-5 to 1e-3 at 2-4%, and up to tens of percent when the impact
saturates at maxImpactBps (it is then linear in size, not quadratic); a ripcord after a gap, whose
trade is large against the little equity left, misses by 1e-5 even with the market's default costs.
The state machine checks invariant 3 only when the trade cost at most 0.1% of equity.
"""


@pytest.mark.xfail(strict=True, raises=AssertionError, reason=KNOWN_FLAW_REBALANCE_PRECISION)
def test_rebalance_precision_with_costly_trades():
    """Minimal example: a 3x long holding 100,000 USD at 30,000; the market's impact depth is lowered to
    10M USD (taker fee 0, impact cap 1%, both within bounds); the price gaps 12% down to 26,400
    (leverage 4.1x, outside the band); one uncapped keeper rebalance leaves leverage 3.0000124x, a
    relative error of 4.1e-6 > 1e-7."""
    model = standard_model(30_000 * WAD, pool_seed=POOL_SEED)
    token = model.add_token(TOKEN, 1, 3 * WAD, default_params(3 * WAD, FEES), keeper=KEEPER)
    model.collateral.mint("whale", to_units(100_000))
    model_deposit(model, token, "whale", to_units(100_000))
    config = dataclasses.replace(model.venue.configs[1], taker_fee_bps=0, max_impact_bps=100,
                                 impact_depth=to_units(10_000_000))
    model.venue.set_market_config("gov", 1, config)
    model.set_price(26_400 * WAD)
    status = token.rebalance(KEEPER)
    assert status.action == Action.REBALANCE and not status.capped
    leverage = token.leverage()
    assert abs(leverage - 3 * WAD) <= 3 * WAD * REL_TOLERANCE, (
        f"leverage {leverage / WAD:.9f}x after a completed rebalance to 3x "
        f"(relative error {abs(leverage - 3 * WAD) / (3 * WAD):.2e})"
    )
