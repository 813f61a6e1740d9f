"""Trading ahead of a known oracle update: mint at the old price, let the feed move by x, redeem after.

The mint and the redemption are priced at the oracle, so whoever knows the next answer before it is
published (a feed that only updates past a deviation threshold, a visible pending update) trades against
the other holders. What stops it is the cost of the round trip: the mint fee f_m, the redeem fee f_r, and
the venue's taker fee t and price impact (notional / impactDepth, as a fraction of notional) on the hedge
at entry and at exit. With a the attacker's deposit and L the token's leverage, in real numbers:

    contribution c:  c + |L| c t + L^2 c^2 / depth = a          (the hedge of |L| c costs fee + impact)
    after the move:  v = c (1 - f_m) (1 + L x)
    gross paid:      g = v (1 - f_r)
    exit trade:      n = |L'| g   with L' = L (1 + x) / (1 + L x), the token's leverage after the move
    paid out:        g - n t - n^2 / depth
    profit(x) = paid out - a

and the break-even move, to first order in the costs,

    x* = (1 / ((1 - f_m) (1 - f_r) (1 - k_in) (1 - k_out)) - 1) / |L|,   k = |L| (t + |L| a / depth)
       ~ (f_m + f_r + 2 |L| t + 2 L^2 a / depth) / |L|.

The test measures profit on a real token for several moves and leverages, to the unit, and checks it
against profit(x): no profit below x*, exactly the formula above it. docs/attacks.md states the bound.
"""

import math

import pytest

from levtoken.units import BPS, to_units
from tests.utils.constants import BTC

P0 = 30_000
WHALE = 1_000_000
ATTACK = 10_000
MOVES = ["0.0005", "0.001", "0.002", "0.005", "0.01"]  # 0.05% .. 1%, in the attacker's favour
# Rounding: the integer contract pays a few units less than profit(x) (measured: 3 to 5 units on 10,000
# USD; shares and sizes round against the caller and the exit is charged one extra unit), never more.
TOLERANCE_UNITS = 10


def closed_form(leverage, x, a, f_m, f_r, t, depth, held=None):
    """profit(x) in collateral units (see the module docstring). `held` is the leverage the token holds
    while the price moves (L by default; a real token is within about 1e-6 of its target)."""
    held = leverage if held is None else held
    lev = abs(leverage)
    quad = leverage**2 / depth
    c = (-(1 + lev * t) + math.sqrt((1 + lev * t) ** 2 + 4 * quad * a)) / (2 * quad)
    v = c * (1 - f_m) * (1 + held * x)
    gross = v * (1 - f_r)
    n = abs(held * (1 + x) / (1 + held * x)) * gross
    return gross - n * t - n * n / depth - a


def break_even(leverage, a, f_m, f_r, t, depth):
    """x* to first order in the costs (closed form)."""
    k = abs(leverage) * (t + abs(leverage) * a / depth)
    return (1 / ((1 - f_m) * (1 - f_r) * (1 - k) ** 2) - 1) / abs(leverage)


def break_even_exact(leverage, a, f_m, f_r, t, depth):
    """|x| at the root of profit(x) (x in the token's favourable direction), by bisection."""
    sign = 1 if leverage > 0 else -1
    lo, hi = 0.0, 0.05
    for _ in range(200):
        mid = (lo + hi) / 2
        if closed_form(leverage, sign * mid, a, f_m, f_r, t, depth) > 0:
            hi = mid
        else:
            lo = mid
    return hi


def costs(token, venue):
    params, cfg = token.params(), venue.marketConfig(BTC)
    return params.mintFeeBps / BPS, params.redeemFeeBps / BPS, cfg.takerFeeBps / BPS, cfg.impactDepth


@pytest.mark.parametrize("leverage", [3, -3, -1])
@pytest.mark.parametrize("move", MOVES)
def test_front_run_oracle_update__profit_is_the_formula_and_none_below_break_even(
    create_token, deposit, fund, usd, venue, whale, stranger, set_price, pin, leverage, move
):
    token = create_token(leverage)
    deposit(token, whale, WHALE)
    f_m, f_r, t, depth = costs(token, venue)
    x = float(move) * (1 if leverage > 0 else -1)  # the direction the token gains from
    attacker, a = stranger, to_units(ATTACK)

    # Everything happens at one timestamp: no streaming fee or funding, only the move and the costs.
    fund(attacker, ATTACK, token)
    pin()
    token.deposit(a, attacker, sender=attacker)
    held = token.leverage() / 1e18
    assert abs(held / leverage - 1) < 1e-5
    pin()
    set_price(P0 * (1 + x))
    pin()
    token.redeem(token.balanceOf(attacker), attacker, attacker, sender=attacker)
    profit = usd.balanceOf(attacker) - a

    expected = closed_form(leverage, x, a, f_m, f_r, t, depth, held)
    x_star = break_even_exact(leverage, a, f_m, f_r, t, depth)
    print(f"L={leverage:+d} x={float(move):.2%}: profit {profit / 1e6:+.6f} USD on {ATTACK} "
          f"(formula {expected / 1e6:+.6f}, diff {profit - expected:+.1f} units), break-even {x_star:.5%}")
    assert expected - TOLERANCE_UNITS <= profit <= expected + 1
    if abs(x) < x_star:
        assert profit <= 0
    else:
        assert profit > 0


@pytest.mark.parametrize("leverage", [3, -3, -1])
def test_break_even__closed_form__matches_root_of_profit(create_token, venue, leverage):
    token = create_token(leverage)
    f_m, f_r, t, depth = costs(token, venue)
    a = to_units(ATTACK)
    approx = break_even(leverage, a, f_m, f_r, t, depth)
    exact = break_even_exact(leverage, a, f_m, f_r, t, depth)
    assert abs(approx - exact) / exact < 0.01
    # The smallest break-even (a tiny attacker, no impact) is fees over |L|: 0.167% at 3x, 0.300% at 1x.
    floor = break_even(leverage, 0, f_m, f_r, t, depth)
    assert floor == pytest.approx((f_m + f_r + 2 * abs(leverage) * t) / abs(leverage), rel=0.01)
    assert floor < exact
