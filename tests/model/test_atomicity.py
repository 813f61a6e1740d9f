"""The model's transaction boundary (levtoken.model.journal): a call that reverts leaves the whole model
exactly as it was, as a reverted transaction leaves the chain, wherever in the call the revert happens
(after fees were accrued, shares minted or collateral moved), and transactions nest: an inner call that
reverts inside an outer transaction undoes only its own changes, and an outer transaction that reverts
undoes everything, its successful inner calls included.

The state is compared with a deep copy taken before the call (`Model.state()`: every object's every
field, mappings and stored structs included).
"""

from __future__ import annotations

import copy

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from levtoken.model import WAD, Model, Revert, default_params, errors, standard_model
from levtoken.units import DAY, to_units
from tests.utils.model_flows import model_settle
from tests.utils.strategies import market_fees, token_fees

TOKENS = ("long", "short")
HOLDERS = ("whale", "fish", "fees")
FAST = settings(settings.get_profile("invariants-fast"), max_examples=25)


def build_model() -> Model:
    """A 3x long and a 2x short with three holders, and an LP pool."""
    model = standard_model(30_000 * WAD, pool_seed=to_units(10_000_000))
    for address, leverage in zip(TOKENS, (3, -2)):
        model.add_token(address, 1, leverage * WAD, default_params(leverage * WAD, "fees"))
    for who in (*HOLDERS, "lp"):
        model.collateral.mint(who, to_units(1_000_000))
    for who in HOLDERS:
        for address in TOKENS:
            model.tokens[address].request_deposit(who, to_units(100_000), who, who)
    model_settle(model, *model.tokens.values())
    for who in HOLDERS:
        for address in TOKENS:
            model.tokens[address].deposit(who, to_units(100_000), who)
    return model


holder = st.sampled_from(HOLDERS)
token = st.sampled_from(TOKENS)
# Collateral: none, a little, or around and beyond what a holder has left (800,000 USD).
amount = st.one_of(st.just(0), st.integers(1, to_units(1_000)), st.integers(to_units(500_000), to_units(3_000_000)))
fraction = st.sampled_from([(1, 3), (1, 1), (3, 2), (10, 1)])  # of a balance: within it, all of it, beyond it

block_steps = st.one_of(  # what one block can hold: anything but the clock moving
    st.tuples(st.just("request_deposit"), token, holder, holder, amount),
    st.tuples(st.just("request_redeem"), token, holder, holder, fraction),
    st.tuples(st.just("claim"), token, holder, holder, st.sampled_from(["deposit", "mint", "redeem", "withdraw"]),
              fraction),
    st.tuples(st.just("settle"), token, st.sampled_from(["keeper", "stranger"])),
    st.tuples(st.just("upkeep"), token, st.sampled_from(["keeper", "stranger"])),
    st.tuples(st.just("cancel"), token, holder, holder),
    st.tuples(st.just("operator"), token, holder, holder, st.booleans()),
    st.tuples(st.just("transfer"), token, holder, holder, fraction),
    st.tuples(st.just("price"), st.integers(-3_500, 3_500)),
    st.tuples(st.just("rebalance"), token, st.sampled_from(["keeper", "stranger"])),
    st.tuples(st.just("ripcord"), token),
    st.tuples(st.just("liquidate"), token),
    st.tuples(st.just("set_params"), token, token_fees([0, 2_000, 1_000_000], [0, 1, 40])),
    st.tuples(st.just("set_market"), market_fees([0, 1_000_000]), st.sampled_from([1_000, 50, 0])),
    st.tuples(st.just("liquidity"), st.booleans(), fraction),
    st.tuples(st.just("margin"), holder, st.sampled_from((*HOLDERS, *TOKENS)), amount),
    st.tuples(st.just("trade"), holder, st.integers(-10**20, 10**20)),
    st.tuples(st.just("pause"), token, st.sampled_from(["gov", "stranger"])),
)
steps = st.one_of(block_steps, st.tuples(st.just("time"), st.sampled_from([1, 1, 3_600, DAY, 3 * DAY])))


def apply(model: Model, step: tuple) -> None:
    """Runs one step on `model` (a Revert propagates)."""
    kind, *args = step
    tokens, venue = model.tokens, model.venue
    if kind == "request_deposit":
        address, who, owner, assets = args
        tokens[address].request_deposit(who, assets, who, owner)
    elif kind == "request_redeem":
        address, who, owner, (num, den) = args
        t = tokens[address]
        t.request_redeem(who, t.balance_of(owner) * num // den, who, owner)
    elif kind == "claim":
        address, who, controller, method, (num, den) = args
        t = tokens[address]
        claimable = {"deposit": t.max_deposit, "mint": t.max_mint, "redeem": t.max_redeem,
                     "withdraw": t.max_withdraw}[method](controller)
        getattr(t, method)(who, claimable * num // den, who, controller)
    elif kind == "settle":
        address, caller = args
        tokens[address].settle(caller)
    elif kind == "upkeep":
        address, caller = args
        tokens[address].perform_upkeep(caller)
    elif kind == "cancel":
        address, who, controller = args
        tokens[address].cancel_deposit_request(who, who, controller)
    elif kind == "operator":
        address, who, operator, approved = args
        tokens[address].set_operator(who, operator, approved)
    elif kind == "transfer":
        address, sender, to, (num, den) = args
        t = tokens[address]
        t.transfer(sender, to, t.balance_of(sender) * num // den)
    elif kind == "price":
        (bps,) = args
        model.set_answer(max(1, model.feeds["feed"].answer * (10_000 + bps) // 10_000))
    elif kind == "time":
        (seconds,) = args
        model.advance(seconds)
    elif kind == "rebalance":
        address, caller = args
        tokens[address].rebalance(caller)
    elif kind == "ripcord":
        (address,) = args
        tokens[address].ripcord("stranger")
    elif kind == "liquidate":
        (address,) = args
        venue.liquidate("stranger", 1, address)
    elif kind == "set_params":
        address, fees = args
        t = tokens[address]
        t.set_params("gov", fees.applied_to(t.params, t.target_leverage))
    elif kind == "set_market":
        fees, initial_margin_bps = args  # 50 and 0 break the bounds: InvalidConfig
        config = fees.applied_to(venue.configs[1])
        config.initial_margin_bps = initial_margin_bps
        venue.set_market_config("gov", 1, config)
    elif kind == "liquidity":
        add, (num, den) = args
        if add:
            venue.add_liquidity("lp", to_units(100_000) * num // den, 0)
        else:
            venue.remove_liquidity("lp", venue.lp_shares.get("lp", 0) * num // den // 2, 0)
    elif kind == "margin":
        who, account, amount = args
        venue.deposit_margin(who, 1, account, amount)
    elif kind == "trade":
        who, size = args
        venue.trade(who, 1, size)
    elif kind == "pause":
        address, caller = args
        t = tokens[address]
        (t.unpause if t.paused else t.pause)(caller)


def test_revert_leaves_the_whole_model_as_it_was__minimal():
    """A redemption request of more shares than the holder has reverts after the redemption queue
    rolled and the request joined an epoch (queue, epoch and account written): all of it is undone."""
    model = build_model()
    model.advance(DAY)
    before = copy.deepcopy(model)
    t = model.tokens["long"]
    with pytest.raises(errors.InsufficientBalance):
        t.request_redeem("fish", 2 * t.balance_of("fish"), "fish", "fish")
    assert model.state() == before.state()
    assert not model.journal.open


def test_reverted_settlement_leaves_the_whole_model_as_it_was():
    """A stranger's settlement before the window reverts FallbackNotOpen after the streaming fee accrued
    and both queues rolled (a batch formed): all of it is undone."""
    model = build_model()
    t = model.tokens["long"]
    t.request_redeem("fish", t.balance_of("fish") // 2, "fish", "fish")
    t.request_deposit("whale", to_units(1_000), "whale", "whale")
    model.advance(60)
    model.set_answer(model.feeds["feed"].answer)
    before = copy.deepcopy(model)
    with pytest.raises(errors.FallbackNotOpen):
        t.settle("stranger")
    assert model.state() == before.state()
    assert t.redemptions.queue.batch == 0 and t.deposits.queue.batch == 0
    assert not model.journal.open


@FAST
@given(history=st.lists(steps, min_size=1, max_size=30))
def test_revert_leaves_the_whole_model_as_it_was(history):
    """After every step of a random history: a step that reverts left the model's full state equal to a
    deep copy taken before it, and no transaction is left open."""
    model = build_model()
    reverted = 0
    for step in history:
        before = copy.deepcopy(model)
        try:
            apply(model, step)
        except Revert:
            reverted += 1
            assert model.state() == before.state(), f"{step} reverted and left the model changed"
        assert not model.journal.open


def test_memoized_account_state_after_a_revert():
    """A value memoized inside a transaction that then reverts is not read afterwards."""
    model = build_model()
    venue = model.venue
    before = venue.account_state(1, "long")
    with pytest.raises(errors.RebalanceNotDue):
        with model.transaction():
            venue.deposit_margin("whale", 1, "long", to_units(1_000))
            assert venue.account_state(1, "long")[0] == before[0] + to_units(1_000)
            raise errors.RebalanceNotDue()
    assert venue.account_state(1, "long") == before


@FAST
@given(history=st.lists(steps, min_size=1, max_size=30))
def test_memoized_account_state_equals_a_fresh_one(history):
    """The venue memoizes accountState until the state or the time changes: after every step of a random
    history (reverted ones included) each account's memoized value equals one computed afresh."""
    model = build_model()
    venue = model.venue

    def account_state(address: str) -> tuple | str:
        try:
            return venue.account_state(1, address)
        except Revert as err:
            return err.name

    for step in history:
        for address in (*HOLDERS, *TOKENS):
            account_state(address)  # memoized before the step
        try:
            apply(model, step)
        except Revert:
            pass
        for address in (*HOLDERS, *TOKENS):
            memoized = account_state(address)
            venue._account_states.clear()
            fresh = account_state(address)
            assert memoized == fresh, f"after {step}: memoized {memoized} != fresh {fresh}"


@FAST
@given(history=st.lists(block_steps, min_size=1, max_size=20), commit=st.booleans())
def test_nested_transactions(history, commit):
    """A random history (within one block) run inside one outer transaction, each step's revert caught
    inside it: the model
    then equals the same history run without the outer transaction (inner reverts undid only their own
    changes); when the outer transaction reverts at its end, the model equals its state before it."""
    model = build_model()
    reference = copy.deepcopy(model)
    before = copy.deepcopy(model)
    for step in history:
        try:
            apply(reference, step)
        except Revert:
            pass
    try:
        with model.transaction():
            for step in history:
                try:
                    apply(model, step)
                except Revert:
                    pass
                assert model.journal.open
            if not commit:
                raise errors.RebalanceNotDue()
    except errors.RebalanceNotDue:
        assert model.state() == before.state()
    else:
        assert model.state() == reference.state()
    assert not model.journal.open
