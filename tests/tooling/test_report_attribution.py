"""The report's attribution (DESIGN.md section 8) on real replays: its terms add up to the actual return, the
measured costs explain everything but rounding, and the report shows the rows, the keeper's lag, the
parameters and the chart."""

import pytest

from levtoken.report import ATTRIBUTION_ROWS, Attribution, summarize, summary_rows, write_markdown
from tests.utils.replays import replay


@pytest.fixture(scope="module")
def january(accounts, tmp_path_factory):
    """Three weeks of January 2024: rebalances, funding and fees, no liquidation."""
    return replay(accounts, tmp_path_factory.mktemp("jan"), "2024-01-01", "2024-01-21")


def test_attribution__terms_add_up_to_the_actual_return__costs_explain_all_but_rounding(january):
    for s in summarize(january):
        a = s.attribution
        assert sum(value for _, value in a.terms()) == pytest.approx(a.actual, abs=1e-12)
        assert a.actual == pytest.approx(s.end_nav / s.start_nav - 1, abs=1e-12)
        assert abs(a.rounding) < 5e-6, (s.symbol, a)
        assert a.liquidation == 0 and not s.liquidated
        assert a.static == pytest.approx(s.leverage * s.underlying_return)
        assert a.gap == 0  # no day of three weeks in January 2024 moved past -1/3
        assert a.static + a.compounding == pytest.approx(s.ideal_return)
        assert a.static + a.compounding + a.schedule == pytest.approx(s.schedule_return)
        assert a.fees < 0  # the streaming fee runs every second
        # Funding and trading costs: the terms have the sign and about the size of what was paid (their effect
        # at the end also carries what the money would have made since, +-30% over these three weeks).
        accrued = sum(step.tokens[s.symbol].funding for step in january.steps)
        assert accrued != 0 and (a.funding < 0) == (accrued > 0)
        assert -a.funding * s.start_value == pytest.approx(accrued, rel=0.3)
        assert s.funding_rate == pytest.approx(accrued / (s.start_value * 20 / 365), rel=0.2)
        if s.rebalances:
            assert a.trading < 0 and -a.trading * s.start_value == pytest.approx(s.rebalance_cost, rel=0.3)
        # The same tokens outstanding throughout (the fee recipient's streaming-fee shares aside): each term's dollars
        # are its percentage of the start's value, and they add up to the actual dollars.
        for _, attr in Attribution.TERMS:
            assert s.dollars(attr) == pytest.approx(getattr(a, attr) * s.start_value, rel=5e-3, abs=2)
        assert sum(s.dollars(attr) for _, attr in Attribution.TERMS) == s.dollars("actual")


def test_attribution__a_leveraged_token_in_a_trend__schedule_and_decay_are_the_daily_reset(january):
    summaries = {s.symbol: s for s in summarize(january)}
    long = summaries["BTC3L"].attribution
    # The ideal is the daily-reset product of the same closes; the token's own schedule stays close to it.
    assert abs(long.schedule) < abs(long.static - long.actual) + 0.05


def test_report__shows_the_attribution_keeper_lag_parameters_and_chart(january, tmp_path):
    summaries = summarize(january)
    write_markdown(january, summaries, tmp_path / "report.md", "January 2024")
    text = (tmp_path / "report.md").read_text()
    rows = {line.split(" | ")[0].lstrip("| "): line for line in text.splitlines() if line.startswith("| ")}
    for name in ATTRIBUTION_ROWS:
        assert f"{name} % ($ at the end)" in rows
    assert "= actual % ($ at the end)" in rows and "funding rate" in rows
    assert "funding paid (as settled)" in rows and "rebalance cost (as paid)" in rows
    assert "% of equity/yr" in rows["funding rate"]
    assert "![NAV of each token and the underlying](chart.png)" in text
    assert "## Keeper" in text and "blocks on average" in text
    assert "## Token parameters" in text and "| band |" in text
    assert "| mint / redeem fee |" in text and "| streaming fee |" in text
    long = next(s for s in summaries if s.symbol == "BTC3L")
    assert f"{long.attribution.actual * 100:+.2f}%" in rows["= actual % ($ at the end)"]
    end_nav = summary_rows([long])[0][2]
    assert end_nav.count(".") == 1 and len(end_nav.split(".")[1]) == 6  # six decimals


def test_report__liquidation__says_when_and_the_move_that_caused_it__terms_still_add_up(accounts, tmp_path):
    # To the end of April: the price is back above its start, so a static 3x gained what the wiped-out token did not.
    result = replay(accounts, tmp_path, "2020-03-09", "2020-04-30")
    long = next(s for s in summarize(result) if s.symbol == "BTC3L")
    assert long.liquidated and long.liquidated_on == "2020-03-12"
    assert long.liquidation_move == pytest.approx(float(result.steps[3].price / result.steps[2].price - 1))
    assert long.liquidation_move < -0.35
    assert long.attribution.actual == pytest.approx(-1.0)
    assert sum(v for _, v in long.attribution.terms()) == pytest.approx(long.attribution.actual, abs=1e-12)
    # The 3x short ripcords after the crash: its bounty is a cost like the trade's, so nothing is left over.
    short = next(s for s in summarize(result) if s.symbol == "BTC3S")
    assert any("RIPCORD" in " ".join(step.tokens["BTC3S"].actions) for step in result.steps)
    assert sum(step.tokens["BTC3S"].bounty for step in result.steps) > 0
    assert abs(short.attribution.rounding) < 5e-6, short.attribution
    # The crash day is a gap (a move past -1/3): its loss has a row of its own, not the compounding's.
    before = result.steps[2].tokens["BTC3L"]
    ideal_before = 1.0
    for prev, cur in zip([result.origin(), *result.steps[:2]], result.steps[:3]):
        ideal_before *= 1 + 3 * float(cur.price / prev.price - 1)
    static_before = 3 * float(result.steps[2].price / result.origin().price - 1)
    assert long.attribution.compounding == pytest.approx((ideal_before - 1) - static_before)
    assert long.attribution.gap == pytest.approx(-1 - (ideal_before - 1) - (long.attribution.static - static_before))
    assert long.attribution.static > 0 and long.attribution.gap < -1 and abs(long.attribution.compounding) < 0.05
    row = summary_rows([long])[0]
    assert "LIQUIDATED" in row[0]
    assert (f"2020-03-12 ({long.liquidation_move * 100:+.1f}% close to close; before it: equity "
            f"${before.equity / 10**6:,.2f} at {before.leverage / 10**18:+.1f}x)") in row
