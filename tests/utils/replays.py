"""Real replays for the report's tests: the shipped daily BTC closes driven through freshly deployed contracts."""

from decimal import Decimal

from levtoken.deploy_config import DeployConfig
from levtoken.deployment import deploy, mint_for
from levtoken.prices import DAILY_CSV, load_prices, parse_date
from levtoken.replay.records import ReplayResult
from levtoken.replay.replayer import Replayer
from levtoken.units import to_units


def replay(accounts, tmp_path, start: str, end: str, first_price: Decimal | None = None) -> ReplayResult:
    """Deploys, sets the feed to the series' first price (or `first_price`), mints each token, replays."""
    record = deploy(DeployConfig.load("config/local.toml"), accounts[0], tmp_path / "r.json", log=lambda m: None)
    points = load_prices(DAILY_CSV, parse_date(start), parse_date(end))
    replayer = Replayer(record, "BTC", accounts[0], liquidator=accounts[9])
    replayer.push_price(first_price or points[0].close)
    mint_for(record, [(accounts[1], "BTC3L", to_units(10_000)), (accounts[2], "BTC3S", to_units(10_000)),
                      (accounts[3], "BTC1S", to_units(5_000))])
    return replayer.run(points)
