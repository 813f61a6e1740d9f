"""The report's attribution (DESIGN.md section 8) on real replays: its terms add up to the actual return, the
measured costs explain everything but rounding, and the report shows the rows, the keeper's lag, the
parameters and the chart."""

import pytest

from levtoken.report import ATTRIBUTION_ROWS, summarize, summary_rows, write_markdown
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
        assert a.static + a.decay == pytest.approx(s.ideal_return)
        assert a.static + a.decay + a.schedule == pytest.approx(s.schedule_return)
        assert a.fees < 0  # the streaming fee runs every second
        # Funding and trading costs: the terms have the sign and about the size of what was paid (their effect
        # at the end also carries what the money would have made since, +-30% over these three weeks).
        accrued = sum(step.tokens[s.symbol].funding for step in january.steps)
        assert accrued != 0 and (a.funding < 0) == (accrued > 0)
        assert -a.funding * s.start_value == pytest.approx(accrued, rel=0.3)
        assert s.funding_rate == pytest.approx(accrued / (s.start_value * 20 / 365), rel=0.2)
        if s.rebalances:
            assert a.trading < 0 and -a.trading * s.start_value == pytest.approx(s.rebalance_cost, rel=0.3)
        dollars = sum(s.dollars(value) for _, value in a.terms())
        assert abs(dollars - s.dollars(a.actual)) <= len(a.terms())  # rounding of each dollar figure


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
        assert f"{name} % ($)" in rows
    assert "= actual % ($)" in rows and "funding rate" in rows
    assert "% of equity/yr" in rows["funding rate"]
    assert "![NAV of each token and the underlying](chart.png)" in text
    assert "## Keeper" in text and "blocks on average" in text
    assert "## Token parameters" in text and "| band |" in text
    assert "| mint / redeem fee |" in text and "| streaming fee |" in text
    long = next(s for s in summaries if s.symbol == "BTC3L")
    assert f"{long.attribution.actual * 100:+.2f}%" in rows["= actual % ($)"]
    end_nav = summary_rows([long])[0][2]
    assert end_nav.count(".") == 1 and len(end_nav.split(".")[1]) == 6  # six decimals


def test_report__liquidation__says_when_and_the_move_that_caused_it__terms_still_add_up(accounts, tmp_path):
    result = replay(accounts, tmp_path, "2020-03-09", "2020-03-14")
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
    row = summary_rows([long])[0]
    assert "LIQUIDATED" in row[0] and f"2020-03-12 ({long.liquidation_move * 100:+.1f}% close to close)" in row
