"""README.md's `make demo` commands, exactly as written (from the project's folder, writing out/demo): the
default year, the 2020 crash, the hourly year and the default year on both venues each run to the end and report
what the README says."""

import re
import subprocess

import pytest

from tests.utils.cli import PROJECT_FOLDER, README, ROOT

pytestmark = PROJECT_FOLDER

COMMANDS = ["make demo", 'make demo ARGS="--start 2020-01-01 --end 2020-12-31"', 'make demo ARGS="--hourly"',
            'make demo ARGS="--venue both"']


@pytest.mark.parametrize("command", COMMANDS)
def test_readme__make_demo__runs_as_written(command):
    assert (command if command == "make demo" else command.replace(" --end", "\n--end")) in README.read_text()
    out = subprocess.run(command, shell=True, cwd=ROOT, capture_output=True, text=True, timeout=900)
    assert out.returncode == 0 and "Traceback" not in out.stderr, out.stdout[-2000:] + out.stderr[-2000:]
    if "--venue both" in command:
        # The README's table: each token on both venues, and every money-market step checked against the protocols.
        table = (ROOT / "out" / "demo" / "side-by-side.md").read_text()
        assert "| return | +125.43% | +140.79% | -93.47% | -95.72% | -51.11% | -56.67% |" in table
        assert "| funding % ($ at the end) | -72.87% (-$81,469.82) | -51.10% " in table
        assert "equalled its position read from the protocols at all 1098 token-steps" in table
        return
    report = (ROOT / "out" / "demo" / "report.md").read_text()
    assert re.search(r"\| = actual % \(\$ at the end\) \|", report)
    if "2020" in command:
        # The 3x long's liquidation as the README names it: the move, the token before it, and the gap's row.
        assert "2020-03-12 (-38.8% close to close; before it: equity $115,341" in report
        assert "| gap % ($ at the end) | -990.78% " in report
    elif "--hourly" in command:
        assert "8785 prices from btc_usdt_perp_hourly.csv, 2023-04-18 to 2024-04-18" in out.stdout
    else:
        assert "366 prices from btc_usd_daily.csv, 2024-09-24 to 2025-09-24" in out.stdout
        # The README's worked example: the 3x long's return, its compounding, and funding both ways.
        assert "| return | +125.43% |" in report and "| compounding % ($ at the end) | -17.79% " in report
        assert "-72.87% (-$81,469.82)" in report and "| funding paid (as settled) | $68,279.01 |" in report
