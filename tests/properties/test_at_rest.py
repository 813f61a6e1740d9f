"""A token its holders empty is at rest, and every action the decision view reports as due succeeds.

Hypothesis draws histories of deposit and redemption requests, claims, keeper settlements, price moves and
time, on the reference model (many examples) and on the contracts (few: every step is a transaction).
After every step, an action rebalanceStatus reports as due must succeed when sent (SETTLE by the keeper's
settle, REBALANCE and ITERATE by rebalance, RIPCORD by anyone's ripcord). Each history ends with the keeper
doing what is due (and a liquidator acting on a gap it was too late for), then every holder,
the fee recipient included (its fee shares keep coming from the redemption fee and the streaming fee),
redeeming everything it holds, a few times over; the token must then be at rest (nothing due, less than one
unit of collateral left, escrow down to rounding) through later price moves and time, and a newcomer's deposit
must settle normally and get shares worth what it paid less the mint fee and its trade's cost.
"""

from __future__ import annotations

import copy

import pytest
from ape.exceptions import ContractLogicError
from hypothesis import given, settings
from hypothesis import strategies as st

from levtoken.model import Model, Revert, default_params, standard_model
from levtoken.shapes import Action
from levtoken.units import BPS, DAY, WAD, to_units
from tests.utils import chain as chain_helpers
from tests.utils.model_flows import model_deposit, model_settle
from tests.utils.requests import quiet, settlement_of
from tests.utils.strategies import HEALTH

TOKEN, KEEPER, FEES, NEWCOMER = "token", "keeper", "fee_recipient", "newcomer"
HOLDERS = ("whale", "fish", FEES)
DRAIN_ROUNDS = 4  # each redemption of the fee recipient pays it 0.1% of itself back: a few rounds leave dust
NEW_DEPOSIT_USD = 20_000
# Collateral units a newcomer's shares may be worth below what it paid less its hedge's cost and the mint fee.
ROUNDING = 100

step = st.one_of(
    st.tuples(st.just("deposit"), st.integers(0, 1), st.integers(1, 200_000)),
    st.tuples(st.just("redeem"), st.integers(0, 2), st.sampled_from([1, 1, 2, 10])),
    st.tuples(st.just("claim"), st.integers(0, 2), st.just(0)),
    st.tuples(st.just("settle"), st.just(0), st.just(0)),
    st.tuples(st.just("move"), st.integers(-2_500, 2_500), st.just(0)),
    st.tuples(st.just("time"), st.sampled_from([60, 3_600, DAY, 3 * DAY]), st.just(0)),
    st.tuples(st.just("keeper"), st.just(0), st.just(0)),
)
after_drain = st.lists(st.tuples(st.sampled_from(["move", "time"]), st.integers(-3_000, 3_000)), max_size=4)


# --- the reference model --------------------------------------------------------------------------------
def model_due_succeeds(model: Model, label: str) -> None:
    """The action rebalanceStatus reports as due succeeds when sent, on a copy of `model`."""
    status = model.tokens[TOKEN].rebalance_status()
    if status.action == Action.NONE:
        return
    t = copy.deepcopy(model).tokens[TOKEN]
    send = {Action.SETTLE: lambda: t.settle(KEEPER), Action.RIPCORD: lambda: t.ripcord("stranger")}
    try:
        send.get(status.action, lambda: t.rebalance(KEEPER))()
    except Revert as err:
        raise AssertionError(f"{label}: rebalanceStatus reports {status}, sending it reverts {err!r}") from err


def model_step(model: Model, kind: str, a: int, b: int) -> None:
    """One drawn step on the model; a holder's request or claim the model refuses is skipped."""
    token = model.tokens[TOKEN]
    try:
        if kind == "deposit":
            token.request_deposit(HOLDERS[a], to_units(b), HOLDERS[a], HOLDERS[a])
        elif kind == "redeem" and token.balance_of(HOLDERS[a]) // b:
            token.request_redeem(HOLDERS[a], token.balance_of(HOLDERS[a]) // b, HOLDERS[a], HOLDERS[a])
        elif kind == "claim":
            model_claim(token, HOLDERS[a])
        elif kind == "settle":
            model_settle(model, token)
        elif kind == "move":
            model.set_answer(model.feeds["feed"].answer * (10_000 + a) // 10_000)
        elif kind == "time":
            model.advance(a)
            model.set_answer(model.feeds["feed"].answer)
        elif kind == "keeper" and token.rebalance_status().action != Action.NONE:
            token.perform_upkeep(KEEPER)
    except Revert as err:
        assert kind in ("deposit", "redeem", "settle"), f"{kind} reverted: {err!r}"


def model_claim(token, who: str) -> None:
    """Claims everything `who` may claim: the shares of a settled deposit, the assets of a settled redemption."""
    if token.max_deposit(who):
        token.deposit(who, token.max_deposit(who), who, who)
    if token.max_redeem(who):
        token.redeem(who, token.max_redeem(who), who, who)


def model_drain(model: Model) -> None:
    """The keeper and a liquidator act, pending deposits are settled or cancelled, then every holder redeems
    everything it holds, DRAIN_ROUNDS times."""
    token = model.tokens[TOKEN]
    model_keep_up(model)
    model_settle_if_pending(model)
    for who in HOLDERS:
        model_claim(token, who)
    for _ in range(DRAIN_ROUNDS):
        for who in HOLDERS:
            if token.balance_of(who):
                token.request_redeem(who, token.balance_of(who), who, who)
        model_due_succeeds(model, "drain")
        model_settle_if_pending(model)
        for who in HOLDERS:
            model_claim(token, who)


def model_keep_up(model: Model) -> None:
    """The keeper does what is due and a liquidator liquidates the token if the venue finds it liquidatable
    (a gap the keeper was too late for), before the holders leave."""
    token = model.tokens[TOKEN]
    for _ in range(5):
        if token.rebalance_status().action == Action.NONE:
            break
        token.perform_upkeep(KEEPER)
    if model.venue.is_liquidatable(1, TOKEN):
        model.venue.liquidate("stranger", 1, TOKEN)


def model_settle_if_pending(model: Model) -> None:
    """A newer round, the keeper's settlement when one is due, and holders cancel their expired deposits."""
    token = model.tokens[TOKEN]
    model.advance(1)
    model.set_answer(model.feeds["feed"].answer)
    if token.rebalance_status().action == Action.SETTLE:
        token.settle(KEEPER)
    for who in HOLDERS:
        if token.pending_deposit_request(who):
            token.cancel_deposit_request(who, who, who)


@settings(max_examples=200, deadline=None, suppress_health_check=HEALTH)
@given(leverage=st.sampled_from([3, 2, 5, -1, -3]), steps=st.lists(step, max_size=20), later=after_drain)
def test_model__random_history_then_full_redemption__due_actions_succeed_and_token_at_rest(leverage, steps, later):
    model = standard_model(30_000 * WAD, pool_seed=to_units(10**11))
    token = model.add_token(TOKEN, 1, leverage * WAD, default_params(leverage * WAD, FEES), keeper=KEEPER)
    for who in (*HOLDERS, NEWCOMER):
        model.collateral.mint(who, to_units(10**9))
    model_deposit(model, token, "whale", to_units(50_000))
    for index, (kind, a, b) in enumerate(steps):
        model_step(model, kind, a, b)
        model_due_succeeds(model, f"step {index} {kind}")
    model_drain(model)
    model_at_rest(model, "after the full redemption")
    for kind, a in later:
        model_step(model, kind, a if kind == "move" else DAY, 0)
        model_at_rest(model, f"after a {kind}")
    model_new_deposit_is_fair(model)


def assert_nav_fair(assets: int, cost: int, fee_bps: int, value: int) -> None:
    """Shares bought with `assets` are worth what was paid less the hedge's `cost` and the mint fee, to ROUNDING."""
    fair = (assets - cost) * (BPS - fee_bps) // BPS
    assert fair - ROUNDING <= value <= assets, f"{assets} paid (cost {cost}) for shares worth {value}, fair {fair}"


def model_at_rest(model: Model, label: str) -> None:
    """Nothing due, less than one unit of collateral of equity, escrow down to rounding."""
    token = model.tokens[TOKEN]
    status = token.rebalance_status()
    assert status.action == Action.NONE, f"{label}: {status} on a token its holders emptied"
    assert token.total_assets() < 10**6, f"{label}: {token.total_assets()} units left"
    assert token.escrow_assets < len(HOLDERS) * DRAIN_ROUNDS, f"{label}: escrow {token.escrow_assets}"


def model_new_deposit_is_fair(model: Model) -> None:
    """A newcomer's deposit settles at the next round and its shares are worth NAV_FAIR of what it paid."""
    token = model.tokens[TOKEN]
    assets = to_units(NEW_DEPOSIT_USD)
    token.request_deposit(NEWCOMER, assets, NEWCOMER, NEWCOMER)
    assert token.rebalance_status().action == Action.NONE  # the round has not come yet
    (t,) = model_settle(model, token)
    assert token.max_deposit(NEWCOMER) == assets, "the newcomer's deposit was not settled"
    shares = token.deposit(NEWCOMER, assets, NEWCOMER, NEWCOMER)
    assert_nav_fair(assets, t.cost_d, t.mint_fee_bps, token.convert_to_assets(shares))
    model_due_succeeds(model, "after the new deposit")


# --- the contracts ---------------------------------------------------------------------------------------
@pytest.fixture
def emptied(create_token, deposit, fund, whale, fish, fee_recipient, stranger):
    """A 3x long with 50,000 of the whale's deposit; the holders and the newcomer (stranger) funded."""
    token = create_token(3)
    deposit(token, whale, 50_000)
    for account in (whale, fish, fee_recipient, stranger):
        fund(account, 10_000_000, token)
    return token


def chain_due_succeeds(chain, token, keeper, stranger, label: str) -> None:
    """The action rebalanceStatus reports as due succeeds when sent (in a snapshot, undone after)."""
    status = token.rebalanceStatus()
    action = Action(int(status.action))
    if action == Action.NONE:
        return
    snapshot = chain.snapshot()
    try:
        with quiet():
            if action == Action.SETTLE:
                token.settle(sender=keeper)
            elif action == Action.RIPCORD:
                token.ripcord(sender=stranger)
            else:
                token.rebalance(sender=keeper)
    except ContractLogicError as err:
        raise AssertionError(f"{label}: rebalanceStatus reports {action.name} ({status}), sending it reverts {err}") from err
    finally:
        chain.restore(snapshot)


def chain_claim(token, who) -> None:
    """Claims everything `who` may claim."""
    if token.maxDeposit(who):
        token.deposit(token.maxDeposit(who), who, sender=who)
    if token.maxRedeem(who):
        token.redeem(token.maxRedeem(who), who, who, sender=who)


@settings(max_examples=10, deadline=None, suppress_health_check=HEALTH)
@given(steps=st.lists(step, max_size=8), later=after_drain)
def test_chain__random_history_then_full_redemption__due_actions_succeed_and_token_at_rest(
    emptied, steps, later, chain, settle, gov, keeper, whale, fish, fee_recipient, stranger, feed, venue, usd
):
    token = emptied
    holders = [whale, fish, fee_recipient]
    snapshot = chain.snapshot()

    def publish(seconds: int, bps: int = 0) -> None:
        chain_helpers.advance(chain, seconds)
        feed.submit(int(feed.latestRoundData()[1]) * (10_000 + bps) // 10_000, sender=gov)

    try:
        for index, (kind, a, b) in enumerate(steps):
            with quiet():
                try:
                    if kind == "deposit":
                        token.requestDeposit(to_units(b), holders[a], holders[a], sender=holders[a])
                    elif kind == "redeem" and int(token.balanceOf(holders[a])) // b:
                        shares = int(token.balanceOf(holders[a])) // b
                        token.requestRedeem(shares, holders[a], holders[a], sender=holders[a])
                    elif kind == "claim":
                        chain_claim(token, holders[a])
                    elif kind == "settle":
                        settle(token)
                    elif kind == "move":
                        publish(1, a)
                    elif kind == "time":
                        publish(a)
                    elif kind == "keeper" and int(token.rebalanceStatus().action):
                        token.performUpkeep(b"", sender=keeper)
                except ContractLogicError as err:
                    assert kind in ("deposit", "redeem", "settle"), f"step {index} {kind} reverted: {err}"
            chain_due_succeeds(chain, token, keeper, stranger, f"step {index} {kind}")
        # The keeper does what is due and a liquidator acts on a gap the keeper was too late for; then every
        # holder redeems everything, DRAIN_ROUNDS times.
        with quiet():
            for _ in range(5):
                if int(token.rebalanceStatus().action) == Action.NONE:
                    break
                token.performUpkeep(b"", sender=keeper)
            if venue.isLiquidatable(1, token):
                venue.liquidate(1, token, sender=stranger)

            def settle_if_pending() -> None:
                publish(1)
                if int(token.rebalanceStatus().action) == Action.SETTLE:
                    token.settle(sender=keeper)
                for who in holders:
                    if int(token.pendingDepositRequest(0, who)):
                        token.cancelDepositRequest(who, who, sender=who)
                    chain_claim(token, who)

            settle_if_pending()
            for _ in range(DRAIN_ROUNDS):
                for who in holders:
                    if int(token.balanceOf(who)):
                        token.requestRedeem(token.balanceOf(who), who, who, sender=who)
                chain_due_succeeds(chain, token, keeper, stranger, "drain")
                settle_if_pending()
        chain_at_rest(token, venue, usd, "after the full redemption")
        for kind, a in later:
            publish(1, a) if kind == "move" else publish(DAY)
            chain_at_rest(token, venue, usd, f"after a {kind}")
        # A newcomer's deposit settles normally and its shares are worth what it paid, less the fee and cost.
        assets = to_units(NEW_DEPOSIT_USD)
        with quiet():
            token.requestDeposit(assets, stranger, stranger, sender=stranger)
            (receipt,) = settle(token)
            assert int(token.maxDeposit(stranger)) == assets, "the newcomer's deposit was not settled"
            token.deposit(assets, stranger, sender=stranger)
        t = settlement_of(token, receipt)
        assert_nav_fair(assets, t.cost_d, t.mint_fee_bps, int(token.convertToAssets(token.balanceOf(stranger))))
        chain_due_succeeds(chain, token, keeper, stranger, "after the new deposit")
    finally:
        chain.restore(snapshot)


def chain_at_rest(token, venue, usd, label: str) -> None:
    """Nothing due, less than one unit of collateral held (venue account and idle), escrow down to rounding."""
    status = token.rebalanceStatus()
    assert int(status.action) == Action.NONE, f"{label}: {status} on a token its holders emptied"
    value, _size, _price = venue.accountState(1, token)
    idle = int(usd.balanceOf(token)) - int(token.escrowAssets())
    assert int(value) + idle < 10**6, f"{label}: the token holds {value} at the venue and {idle} idle"
    assert int(token.escrowAssets()) < 3 * DRAIN_ROUNDS, f"{label}: escrow {token.escrowAssets()}"
