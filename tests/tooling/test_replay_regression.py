"""The replay's results do not depend on how the client talks to the chain: the demo's flow (deploy, the four
holders' mints, the replay) on a fresh node whose clock is pinned writes the same series.csv, byte for byte,
as the one recorded in tests/data/.

The node's clock is pinned so that a run is reproducible: the chain starts at CLOCK_START and every block
not given a time by the replay (deployment, mints, the keeper's and the liquidator's transactions) is one
second after the one before, whatever the wall clock says (on an ordinary node those blocks take the wall
clock's time, so fees and funding accrued between a price and the keeper's block vary from run to run). The
node is reached as the local network (`ethereum:local:<url>`), whose transactions carry the block's gas limit:
an estimate would run at the node's pending time, which follows the wall clock, not the pinned one.

The recorded files change only with a deliberate change of the mechanics (contracts, config/local.toml, the
demo's holders or the keeper's decisions), never with a change of how the replay is driven. To record them
again, run `LEVTOKEN_RECORD_SERIES=1 ape test tests/tooling/test_replay_regression.py`: the test writes them,
then fails so that nobody records them by accident; review `git diff tests/data/` and commit them with the
reason.
"""

import os
from pathlib import Path

import pytest
from ape import networks

from levtoken.demo import demo_replayer
from levtoken.deploy_config import DEFAULT_CONFIG, DeployConfig
from levtoken.prices import DAILY_CSV, HOURLY_CSV, load_prices, parse_date
from levtoken.report import write_csv
from tests.utils.cli import ROOT, LocalNode, session_caches_kept

DATA = ROOT / "tests" / "data"
CLOCK_START = 2_000_000_000  # 2033-05-18 UTC: later than the wall clock, so the node accepts it as its next block
RECORD = os.environ.get("LEVTOKEN_RECORD_SERIES") == "1"

# name: (series, first, last); the recorded file is tests/data/series_<name>.csv
CASES = {
    "daily_60d": (DAILY_CSV, "2024-09-24", "2024-11-22"),  # the default demo's first 60 days
    "hourly_7d": (HOURLY_CSV, "2023-01-01", "2023-01-07T23:00:00"),
}


def demo_series(tmp: Path, series: Path, first: str, last: str) -> Path:
    """The demo's flow over `series` from `first` to `last` on a fresh node with the pinned clock; returns the
    series.csv it wrote."""
    points = load_prices(series, parse_date(first), parse_date(last))
    node = LocalNode(tmp)
    try:
        node.w3.provider.make_request("evm_setNextBlockTimestamp", [CLOCK_START])
        node.w3.provider.make_request("anvil_setBlockTimestampInterval", [1])
        with session_caches_kept(), networks.parse_network_choice(f"ethereum:local:{node.url}"):
            replayer = demo_replayer(DeployConfig.load(DEFAULT_CONFIG), points, tmp / "deployment.json")
            result = replayer.run(points)
    finally:
        node.stop()
    write_csv(result, tmp / "series.csv")
    return tmp / "series.csv"


@pytest.mark.parametrize("name", list(CASES))
def test_demo_series__pinned_clock__byte_for_byte_the_recorded_series(name, tmp_path):
    written = demo_series(tmp_path, *CASES[name])
    recorded = DATA / f"series_{name}.csv"
    if RECORD:
        recorded.parent.mkdir(parents=True, exist_ok=True)
        recorded.write_bytes(written.read_bytes())
        pytest.fail(f"recorded {recorded.relative_to(ROOT)}: review `git diff tests/data/`, commit, run again without "
                    f"LEVTOKEN_RECORD_SERIES")
    assert written.read_bytes() == recorded.read_bytes(), f"{name}: the series differs from {recorded}"
