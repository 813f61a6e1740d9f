"""The replay's pictures, read from their matplotlib Figures on real replays: the NAV chart (plain-number log
ticks, each token's ideal daily-reset line, markers for band rebalances and ripcords only, a liquidated token's
line ending at its liquidation) and the attribution waterfall; and `levtoken demo` writing both."""

import re
from datetime import datetime, timezone

import pytest

from levtoken.report import attribution_figure, nav_figure, summarize
from tests.utils.cli import levtoken
from tests.utils.replays import replay


@pytest.fixture(scope="module")
def january(accounts, tmp_path_factory):
    """Three weeks of January 2024: band and time rebalances, funding and fees, no liquidation."""
    return replay(accounts, tmp_path_factory.mktemp("jan"), "2024-01-01", "2024-01-21")


@pytest.fixture(scope="module")
def crash(accounts, tmp_path_factory):
    """2020-03-05 to 2020-03-20: the 3x long is liquidated on 2020-03-12 (-37% close to close), the 3x short
    ripcords after it."""
    return replay(accounts, tmp_path_factory.mktemp("crash"), "2020-03-05", "2020-03-20")


def lines_by_gid(fig) -> dict:
    """The NAV panel's lines by their gid (nav:SYMBOL, ideal:SYMBOL, band:SYMBOL, ...)."""
    return {line.get_gid(): line for line in fig.axes[1].lines if line.get_gid()}


def reasons(result, symbol: str) -> list[str]:
    """The reason of every keeper transaction the series records for `symbol` (BAND, TIME, RIPCORD, REQUESTS...)."""
    return [action.split(":")[1] for step in result.steps for action in step.tokens[symbol].actions]


def day(value) -> str:
    """A line's x value (a datetime) as its UTC date."""
    return value.astimezone(timezone.utc).date().isoformat()


@pytest.mark.parametrize("window", ["january", "crash"])
def test_nav_figure__axes__plain_number_log_ticks_and_readable_dates(window, request):
    fig = nav_figure(request.getfixturevalue(window), "a window")
    fig.draw_without_rendering()
    nav = fig.axes[1]
    assert nav.get_yscale() == "log"
    low, high = nav.get_ylim()
    shown = [(t.get_text(), v) for t, v in zip(nav.get_yticklabels(), nav.get_yticks()) if low <= v <= high]
    assert len(shown) > 2, shown
    for text, value in shown:
        assert re.fullmatch(r"\d+(\.\d+)?", text), shown  # 0.5, 1, 1.2: no 10^x, no exponent
        assert float(text) == pytest.approx(value)
    assert not any(t.get_text() for t in nav.yaxis.get_minorticklabels())
    dates = [t.get_text() for t in nav.get_xticklabels() if t.get_text()]
    assert len(dates) >= 3 and all(re.fullmatch(r"[A-Z][a-z]{2}|\d{2}|\d{4}", d) for d in dates), dates
    assert nav.xaxis.get_offset_text().get_text().startswith("2024" if window == "january" else "2020")


@pytest.mark.parametrize("window", ["january", "crash"])
def test_nav_figure__each_token__nav_and_ideal_end_where_the_report_says(window, request):
    result = request.getfixturevalue(window)
    fig = nav_figure(result)
    lines = lines_by_gid(fig)
    days = {day(datetime.fromtimestamp(step.timestamp, tz=timezone.utc)) for step in result.steps}
    summaries = summarize(result)
    assert [s.ideal_return == -1 for s in summaries] == [window == "crash", False, False]  # the 3x long's wipe-out
    for s in summaries:
        ideal, nav = lines[f"ideal:{s.symbol}"], lines[f"nav:{s.symbol}"]
        assert ideal.get_color() == nav.get_color() and ideal.get_linestyle() == "--"
        assert s.liquidated == (s.symbol == "BTC3L" and window == "crash")
        if s.ideal_return > -1:
            assert ideal.get_ydata()[-1] == pytest.approx(1 + s.ideal_return, rel=1e-12)
            assert len(ideal.get_xdata()) == len(days) + 1  # the start, then each day's close
        else:  # wiped out: it drops to the axis' bottom on that day's close and ends there
            assert ideal.get_ydata()[-1] == fig.axes[1].get_ylim()[0] < min(ideal.get_ydata()[:-1])
        assert f"{s.symbol} ideal {s.ideal_return:+.2%}" in [t.get_text() for t in fig.axes[1].texts]
        if not s.liquidated:
            assert nav.get_ydata()[-1] == pytest.approx(s.end_nav / s.start_nav, rel=1e-12)
            label = f"{s.symbol} {s.token_return:+.2%}"
            assert label in [t.get_text() for t in fig.axes[1].texts]


@pytest.mark.parametrize("window", ["january", "crash"])
def test_nav_figure__markers__one_per_band_or_ripcord_rebalance_only(window, request):
    result = request.getfixturevalue(window)
    lines = lines_by_gid(nav_figure(result))
    for symbol in result.symbols:
        for reason in ("BAND", "RIPCORD"):
            marks = lines[f"{reason.lower()}:{symbol}"]
            assert len(marks.get_xdata()) == reasons(result, symbol).count(reason), (symbol, reason)
            dates = {day(datetime.fromtimestamp(step.timestamp, tz=timezone.utc)) for step in result.steps
                     if any(a.endswith(f":{reason}") for a in step.tokens[symbol].actions)}
            assert {day(d) for d in marks.get_xdata()} == dates
    # The windows hold what must be told apart: band rebalances and a ripcord, marked, and daily ones, not marked.
    every = [r for symbol in result.symbols for r in reasons(result, symbol)]
    markers = [line for line in lines.values() if line.get_marker() not in ("None", "", None, "X")]
    assert sum(len(line.get_xdata()) for line in markers) == every.count("BAND") + every.count("RIPCORD")
    if window == "january":
        assert every.count("BAND") > 0 and every.count("TIME") > 0
    else:
        assert "RIPCORD" in reasons(result, "BTC3S")


def test_nav_figure__liquidated_token__line_ends_at_its_liquidation_with_an_x(crash):
    fig = nav_figure(crash)
    lines = lines_by_gid(fig)
    long = next(s for s in summarize(crash) if s.symbol == "BTC3L")
    assert long.liquidated and long.liquidated_on == "2020-03-12"
    steps = [crash.start, *crash.steps]
    at = next(i for i, step in enumerate(steps) if step.tokens["BTC3L"].liquidated)
    nav = lines["nav:BTC3L"]
    assert len(nav.get_xdata()) == at + 1 and day(nav.get_xdata()[-1]) == "2020-03-12"
    low = fig.axes[1].get_ylim()[0]
    assert nav.get_ydata()[-1] == low < min(nav.get_ydata()[:-1])  # a drop to the bottom, not a flat floor
    (x,), (y,) = lines["liquidated:BTC3L"].get_data()
    assert day(x) == "2020-03-12" and y == low and lines["liquidated:BTC3L"].get_marker() == "X"
    notes = [t.get_text() for t in fig.axes[1].texts if "liquidated" in t.get_text()]
    assert notes == [f"BTC3L liquidated 2020-03-12: underlying {long.liquidation_move:+.1%} close to close"]
    # The others run to the end.
    assert day(lines["nav:BTC3S"].get_xdata()[-1]) == day(datetime.fromtimestamp(crash.steps[-1].timestamp, tz=timezone.utc))


@pytest.mark.parametrize("window", ["january", "crash"])
def test_attribution_figure__bars_chain_from_static_through_each_term_to_the_actual(window, request):
    summaries = summarize(request.getfixturevalue(window))
    fig = attribution_figure(summaries, "a window")
    assert len(fig.axes) == len(summaries)
    for ax, s in zip(fig.axes, summaries):
        a = s.attribution
        (static, *bars, actual) = ax.patches
        terms = [value for _, value in a.terms()[1:] if value]
        assert (static.get_y(), static.get_height()) == (0, a.static)
        assert [bar.get_height() for bar in bars] == terms
        top = a.static
        for bar in bars:
            assert bar.get_y() == top
            top += bar.get_height()
            red, green, _, _ = bar.get_facecolor()
            assert (green > red) == (bar.get_height() > 0)  # green up, red down
        assert top == pytest.approx(a.actual, abs=1e-9)
        assert (actual.get_y(), actual.get_height()) == (0, a.actual)
        labels = [t.get_text() for t in ax.texts]
        assert labels == [f"{v * 100:+.2f} pp" for v in (a.static, *terms, a.actual)]
        assert [t.get_text() for t in ax.get_xticklabels()][-1] == "actual"
        assert s.symbol in ax.get_title()


def test_demo__writes_the_attribution_beside_the_chart__report_embeds_it_under_the_table(tmp_path):
    out = tmp_path / "demo"
    run = levtoken("demo", "--start", "2024-01-01", "--end", "2024-01-06", "--out", str(out))
    assert run.returncode == 0, run.stderr
    for name in ("chart.png", "attribution.png"):
        assert (out / name).read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert re.search(r"attribution\s+\S*attribution\.png", run.stdout)
    report = (out / "report.md").read_text()
    link = report.index("](attribution.png)")
    assert report.rindex("| max drawdown |") < link < report.index("## Keeper")


def test_demo__another_assets_prices__market_and_tokens_named_for_it(tmp_path):
    """A price file named for its asset (eth_usd_daily.csv) names the demo's market and tokens (ETH, ETH3L, ...),
    not the config's BTC; --asset names them outright."""
    prices = tmp_path / "eth_usd_daily.csv"
    prices.write_text("date,close\n" + "".join(f"2024-01-0{d},{2_300 + 20 * d}\n" for d in range(1, 6)))
    run = levtoken("demo", "--csv", str(prices), "--out", str(tmp_path / "eth"))
    assert run.returncode == 0, run.stderr
    assert "ETH3L" in run.stdout and "BTC3L" not in run.stdout
    assert (tmp_path / "eth" / "report.md").read_text().startswith("# ETH ETH3L, ETH3S, ETH1S: 2024-01-01 to 2024-01-05")
    named = levtoken("demo", "--csv", str(prices), "--asset", "WETH", "--out", str(tmp_path / "weth"))
    assert named.returncode == 0 and "WETH3L" in named.stdout, named.stderr
