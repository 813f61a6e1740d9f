"""The reference model against DESIGN.md section 5: with every fee and trading cost at zero and a
daily rebalance (price step, then rebalance to target), a leveraged token compounds exactly as the
discrete product NAV_n = NAV_0 * prod(1 + L * r_i), follows the continuous formula
(S_t/S_0)^L * exp(-(L^2 - L)/2 * sum r_i^2) within its discretisation error, reproduces the
published worked examples, and a streaming fee compounds as (1 - d)^n. One short slice runs on the
contracts too and must equal the model to the unit.

Prices are real BTC/USD daily closes (data/btc_usd_daily.csv, provenance in data/SOURCES.md).
"""

from __future__ import annotations

import csv
import dataclasses
import math
from decimal import Decimal
from fractions import Fraction
from pathlib import Path

import pytest

from levtoken.model import LeveragedToken, Model, default_params, standard_model, zero_cost_config
from levtoken.shapes import Action, Params
from levtoken.units import DAY, WAD, to_feed, to_units
from tests.utils.model_flows import model_deposit

DATA = Path(__file__).resolve().parents[2] / "data" / "btc_usd_daily.csv"
LEVERAGES = (-3, -2, -1, 2, 3)
START = 1_700_000_000
HOLDER = "holder"
DEPOSIT = to_units(100_000_000)  # large, so one unit of rounding per day is far below 1e-9
EXACT = Fraction(1, 10**9)


def btc_closes(first: str, last: str) -> list[tuple[str, int]]:
    """(date, feed answer with 8 decimals) for each day from `first` to `last`, inclusive."""
    with DATA.open() as f:
        rows = [(r["date"], to_feed(Decimal(r["close"]))) for r in csv.DictReader(f)]
    picked = [(d, a) for d, a in rows if first <= d <= last]
    assert picked and picked[0][0] == first and picked[-1][0] == last, "range not in the data file"
    return picked


def zero_cost_params(leverage: int, **overrides) -> Params:
    """Factory defaults with no mint, redeem or streaming fee, no drift minimum, no bounty and no cap
    on one rebalance trade."""
    params = default_params(leverage, "fees")
    fields = dict(
        mint_fee_bps=0,
        redeem_fee_bps=0,
        streaming_fee_per_day=0,
        min_drift=0,
        ripcord_bounty=0,
        max_trade_notional=2**128 - 1,
    )
    fields.update(overrides)
    return dataclasses.replace(params, **fields)


def zero_cost_token(leverage: float, first_answer: int, deposit: int = DEPOSIT, **overrides) -> tuple[Model, LeveragedToken]:
    """A model with a zero-cost market at `first_answer` and a token holding `deposit` of HOLDER's: requested
    one second before START and settled at START on a round at `first_answer`."""
    lev = int(Decimal(str(leverage)) * WAD)
    model = standard_model(first_answer * 10**10, now=START - 1, pool_seed=to_units(10**12), config=zero_cost_config())
    token = model.add_token("token", 1, lev, zero_cost_params(lev, **overrides))
    model.collateral.mint(HOLDER, deposit)
    model_deposit(model, token, HOLDER, deposit)
    assert model.now == START
    return model, token


def rebalance_if_due(token: LeveragedToken) -> Action:
    """What a keeper does: rebalance (or ripcord) when the chain says so."""
    action = token.rebalance_status().action
    if action == Action.RIPCORD:
        token.ripcord("anyone")
    elif action != Action.NONE:
        token.rebalance("keeper")
    return action


def daily(model: Model, token: LeveragedToken, answers: list[int], rebalance: bool = True) -> list[Fraction]:
    """Day i: time moves one day, the price steps to answers[i], the streaming fee accrues, then the
    token rebalances to target. Returns the holder's value after each day as a fraction of day 0's
    (NAV per token when nobody else holds shares)."""
    start = _holder_value(token)
    values = [Fraction(1)]
    for i, answer in enumerate(answers[1:], start=1):
        model.set_time(START + i * DAY)
        model.set_answer(answer)
        token.accrue_streaming_fee()
        if rebalance and token.equity() > 0:
            rebalance_if_due(token)
        values.append(_holder_value(token) / start)
    return values


def _holder_value(token: LeveragedToken) -> Fraction:
    return Fraction(token.equity() * token.balance_of(HOLDER), token.total_supply)


def product(leverage: float, answers: list[int], fee: Fraction = Fraction(0)) -> list[Fraction]:
    """prod(1 + L * r_i) * (1 - d)^i after each day, exactly."""
    lev = Fraction(Decimal(str(leverage)))
    out = [Fraction(1)]
    for prev, cur in zip(answers, answers[1:]):
        out.append(out[-1] * (1 + lev * Fraction(cur - prev, prev)) * (1 - fee))
    return out


def relative_error(got: Fraction, want: Fraction) -> Fraction:
    return abs(got - want) / abs(want)


# --------------------------------------------------------------------------------------------------
# Discrete product, continuous formula
# --------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("leverage", LEVERAGES)
def test_daily_rebalance__btc_2021__equals_discrete_product(leverage):
    """A year of real daily closes: every day's NAV equals NAV_0 * prod(1 + L r_i) to 1e-9."""
    answers = [a for _, a in btc_closes("2020-12-31", "2021-12-31")]
    model, token = zero_cost_token(leverage, answers[0])
    got = daily(model, token, answers)
    want = product(leverage, answers)
    worst = max(relative_error(g, w) for g, w in zip(got, want))
    assert worst <= EXACT, f"{leverage}x: relative error {float(worst):.3g}"
    # The rebalances really happened at target: leverage is L after the last one (to 1e-9).
    assert abs(token.leverage() - leverage * WAD) <= WAD // 10**9


@pytest.mark.parametrize("leverage", [-3, -2, -1, 2])
def test_daily_rebalance__btc_2020__equals_discrete_product(leverage):
    """2020 (with the -39% day of 2020-03-12) for every leverage that survives it."""
    answers = [a for _, a in btc_closes("2019-12-31", "2020-12-31")]
    model, token = zero_cost_token(leverage, answers[0])
    got = daily(model, token, answers)
    want = product(leverage, answers)
    assert max(relative_error(g, w) for g, w in zip(got, want)) <= EXACT


def test_daily_rebalance__3x_long_on_2020_03_12__wiped_out_as_the_product_says():
    """1 + 3 * (-38.8%) < 0: the product goes negative on 2020-03-12 and so does the token's equity,
    to the same number; with no equity nothing is due any more."""
    closes = btc_closes("2019-12-31", "2020-03-12")
    answers = [a for _, a in closes]
    model, token = zero_cost_token(3, answers[0])
    got = daily(model, token, answers)
    want = product(3, answers)
    assert want[-1] < 0 < want[-2]
    assert relative_error(got[-1], want[-1]) <= EXACT
    assert token.equity() < 0
    assert token.rebalance_status().action == Action.NONE


@pytest.mark.parametrize("leverage", LEVERAGES)
def test_daily_rebalance__btc_2021__continuous_formula_within_discretisation_error(leverage):
    """log NAV_n/NAV_0 vs L log(S_n/S_0) - (L^2 - L)/2 sum r_i^2: the gap is the sum of the per-day
    gaps between log(1 + L r) and L log(1 + r) - (L^2 - L) r^2 / 2, which is third order in r, and
    the variance-drag term explains the NAV far better than L log(S_n/S_0) alone."""
    answers = [a for _, a in btc_closes("2020-12-31", "2021-12-31")]
    model, token = zero_cost_token(leverage, answers[0])
    nav = float(daily(model, token, answers)[-1])
    returns = [cur / prev - 1 for prev, cur in zip(answers, answers[1:])]
    L = leverage
    drag = (L * L - L) / 2 * sum(r * r for r in returns)
    continuous = L * math.log(answers[-1] / answers[0]) - drag
    gap = math.log(nav) - continuous

    per_day = [math.log1p(L * r) - L * math.log1p(r) + (L * L - L) / 2 * r * r for r in returns]
    assert abs(gap - sum(per_day)) <= 1e-8
    assert abs(gap) <= sum(abs(e) for e in per_day) + 1e-8
    third_order = sum(abs(L**3 - L) / 3 * abs(r) ** 3 + abs(L**4 - L) * r**4 for r in returns)
    assert abs(gap) <= third_order
    assert abs(gap) < abs(math.log(nav) - L * math.log(answers[-1] / answers[0]))


# --------------------------------------------------------------------------------------------------
# Published worked examples (3x, daily reset, no fees)
# --------------------------------------------------------------------------------------------------


def _path(*prices: float) -> list[int]:
    return [to_feed(p) for p in prices]


def _three_x(prices: list[int], rebalance: bool = True) -> Fraction:
    """The 3x token's return over `prices`, checked against the exact closed form: the product of
    (1 + 3 r_i) with daily rebalancing, 3 (S_n/S_0 - 1) for a static position."""
    model, token = zero_cost_token(3, prices[0])
    result = daily(model, token, prices, rebalance=rebalance)[-1] - 1
    exact = product(3, prices)[-1] - 1 if rebalance else 3 * (Fraction(prices[-1], prices[0]) - 1)
    assert relative_error(result, exact) <= EXACT
    return result


def test_worked_example__up_10_then_back__minus_5_45_percent():
    assert round(float(_three_x(_path(10_000, 11_000, 10_000))) * 100, 2) == -5.45


def test_worked_example__up_21_percent_in_two_days__plus_69_percent_static_63():
    prices = _path(10_000, 11_000, 12_100)
    assert round(float(_three_x(prices)) * 100) == 69
    assert round(float(_three_x(prices, rebalance=False)) * 100) == 63


def test_worked_example__down_10_percent_in_two_days__minus_28_4_percent_static_30():
    prices = _path(10_000, 9_500, 9_000)
    assert round(float(_three_x(prices)) * 100, 1) == -28.4
    assert round(float(_three_x(prices, rebalance=False)) * 100) == -30


def test_worked_example__four_days_of_plus_10__times_2_856():
    assert round(float(_three_x(_path(10_000, 11_000, 12_100, 13_310, 14_641))) + 1, 3) == 2.856


def test_worked_example__four_days_of_minus_10__minus_76_percent():
    assert round(float(_three_x(_path(10_000, 9_000, 8_100, 7_290, 6_561))) * 100) == -76


def test_worked_example__plus_minus_10_alternating__minus_17_percent():
    assert round(float(_three_x(_path(10_000, 11_000, 9_900, 10_890, 9_801))) * 100) == -17


def test_worked_example__article_1000_dollars_3x_underlying_plus_20__about_1600():
    model, token = zero_cost_token(3, to_feed(30_000), deposit=to_units(1_000))
    model.set_time(START + DAY)
    model.set_answer(to_feed(36_000))
    cent = to_units("0.01")
    assert abs(token.convert_to_assets(token.balance_of(HOLDER)) - to_units(1_600)) < cent
    assert rebalance_if_due(token) == Action.REBALANCE
    assert abs(token.convert_to_assets(token.balance_of(HOLDER)) - to_units(1_600)) < cent


# --------------------------------------------------------------------------------------------------
# Fees
# --------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(("fee_per_day", "printed_loss", "digits"), [(10**14, 3.58, 2), (3 * 10**14, 10.4, 1)])
def test_streaming_fee__daily_for_365_days__compounds(fee_per_day, printed_loss, digits):
    """0.01%/day loses about 3.58% a year and 0.03%/day about 10.4%: (1 - d)^365, to 1e-9."""
    answer = to_feed(30_000)
    model, token = zero_cost_token(2, answer, streaming_fee_per_day=fee_per_day)
    got = daily(model, token, [answer] * 366)[-1]
    d = Fraction(fee_per_day, WAD)
    assert relative_error(got, (1 - d) ** 365) <= EXACT
    assert round(float(1 - got) * 100, digits) == printed_loss


def test_streaming_fee_and_daily_rebalance__btc_2021__nav_is_product_of_1_plus_L_r_minus_d():
    """NAV_n = NAV_0 prod(1 + L r_i)(1 - d) exactly; DESIGN's prod(1 + L r_i - d) differs from it
    only by the cross terms L r_i d."""
    answers = [a for _, a in btc_closes("2020-12-31", "2021-12-31")]
    fee = 10**14
    model, token = zero_cost_token(2, answers[0], streaming_fee_per_day=fee)
    got = daily(model, token, answers)
    d = Fraction(fee, WAD)
    assert max(relative_error(g, w) for g, w in zip(got, product(2, answers, d))) <= EXACT
    additive = Fraction(1)
    cross = 0.0
    for prev, cur in zip(answers, answers[1:]):
        r = Fraction(cur - prev, prev)
        additive *= 1 + 2 * r - d
        cross += float(abs(2 * r * d / (1 + 2 * r - d)))
    assert float(relative_error(got[-1], additive)) <= cross * 1.01


# --------------------------------------------------------------------------------------------------
# One real slice on the contracts
# --------------------------------------------------------------------------------------------------


def test_contracts__zero_cost_daily_rebalance__january_2021__equal_model_and_product(
    chain, gov, keeper, whale, venue, feed, usd, create_token, fund, read_model, pin_time
):
    """The contracts on anvil, a zero-cost market, a 3x long and a 2x short, one month of real
    closes: each day's equity equals the model's to the unit and NAV_0 * prod(1 + L r_i) to 1e-9."""
    closes = [a for _, a in btc_closes("2020-12-31", "2021-01-31")]
    venue.setMarketConfig(1, zero_cost_config().to_abi(feed=feed.address), sender=gov)
    tokens = {}
    for leverage in (3, -2):
        params = zero_cost_params(leverage * WAD, fee_recipient=str(gov.address))
        tokens[leverage] = create_token(leverage, **params.to_abi())
        fund(whale, 100_000, tokens[leverage])

    start = chain.blocks.head.timestamp + 10
    model = read_model(list(tokens.values()), [whale])
    deposit = to_units(100_000)
    for token in tokens.values():  # requested one second before the first close's round, settled at it
        pin_time(start - 1)
        token.requestDeposit(deposit, whale, whale, sender=whale)
    model.set_time(start - 1)
    for token in tokens.values():
        model.tokens[str(token.address)].request_deposit(str(whale.address), deposit, str(whale.address),
                                                         str(whale.address))
    pin_time(start)
    feed.submit(closes[0], sender=gov)
    model.set_time(start)
    model.set_answer(closes[0])
    for token in tokens.values():
        m = model.tokens[str(token.address)]
        pin_time(start)
        token.settle(sender=keeper)
        m.settle(str(keeper.address))
        pin_time(start)
        token.deposit(deposit, whale, sender=whale)
        m.deposit(str(whale.address), deposit, str(whale.address))

    equity0 = {lev: token.equity() for lev, token in tokens.items()}
    for i, answer in enumerate(closes[1:], start=1):
        now = start + i * DAY
        model.set_time(now)
        pin_time(now)
        feed.submit(answer, sender=gov)
        model.set_answer(answer)
        for leverage, token in tokens.items():
            m = model.tokens[str(token.address)]
            action = m.rebalance_status().action
            assert token.rebalanceStatus().action == action
            if action != Action.NONE:
                pin_time(now)
                if action == Action.RIPCORD:
                    token.ripcord(sender=keeper)
                    m.ripcord(str(keeper.address))
                else:
                    token.rebalance(sender=keeper)
                    m.rebalance(str(keeper.address))
            assert token.equity() == m.equity(), f"day {i}, {leverage}x"
            want = product(leverage, closes[: i + 1])[-1]
            assert relative_error(Fraction(token.equity(), equity0[leverage]), want) <= EXACT
    assert chain.blocks.head.timestamp == start + (len(closes) - 1) * DAY
