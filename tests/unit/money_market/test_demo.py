"""`levtoken demo --venue`: the same tokens replayed on the money market, and on both venues over the same prices
with a side-by-side table; every step of the money market's replay checked against the protocols. Mistakes are one
line."""

from __future__ import annotations

from tests.utils.cli import assert_one_clear_error, levtoken


def test_demo_both__same_prices_on_both_venues__side_by_side(tmp_path):
    """Thirty days on both venues: each venue's report in its own folder, the side-by-side table with a column per
    token and venue, and every token-step of the money market equal to the protocols' position."""
    out = tmp_path / "both"
    run = levtoken("demo", "--venue", "both", "--start", "2024-10-01", "--end", "2024-10-30", "--out", str(out))
    assert run.returncode == 0, run.stdout[-3000:] + run.stderr[-3000:]
    for kind in ("perp", "morpho"):
        assert (out / kind / "report.md").is_file() and (out / kind / "deployment.json").is_file()
    table = (out / "side-by-side.md").read_text()
    header = next(line for line in table.splitlines() if line.startswith("| |"))
    assert header == "| | BTC3L perp | BTC3L morpho | BTC3S perp | BTC3S morpho | BTC1S perp | BTC1S morpho |"
    assert "each token's equity equalled its position read from the protocols at all 90 token-steps" in table
    assert "protocols: each token's equity equals its position read from Morpho" in run.stdout


def test_demo_morpho__mistakes__one_line_each(tmp_path):
    """The reference model is the perpetual venue's, and a config whose market is on the other venue is named."""
    out = str(tmp_path / "m")
    assert_one_clear_error(levtoken("demo", "--venue", "morpho", "--check-model", "--out", out),
                           "--check-model runs the reference model of the perpetual venue")
    assert_one_clear_error(levtoken("demo", "--venue", "morpho", "--config", "config/local.toml", "--out", out),
                           "config/local.toml: market BTC is on venue 'perp', not 'morpho'")
