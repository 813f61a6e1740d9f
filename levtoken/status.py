"""A deployment's status in words: when the next time rebalance falls due (the `levtoken status` table and the
product page say it alike), and the status tables, a column per token."""

from __future__ import annotations

from rich.table import Table

from levtoken.deploy_config import MORPHO, PERP
from levtoken.deployment import Deployment
from levtoken.shapes import Reason, Status
from levtoken.governance import pending_changes
from levtoken.units import from_units, from_wad, leverage_label, utc_text

STATUS_TOKENS_PER_TABLE = 3  # token columns per status table: three fit an 80-column terminal
VENUE_SHORT = {PERP: "perpetual", MORPHO: "Morpho+Uniswap"}  # the venue kind in a status cell


def time_rebalance_text(status: Status, leverage: int, target: int, min_drift: int, next_time: int, now: int) -> str:
    """When the next time rebalance falls due, in the terms of the rebalance decision (`status`): `in N h`
    before the interval has passed; once it has, `now` when the decision says a time rebalance is due,
    `held: drift<X` when leverage is within minDrift of target, `held: on target` when a trade would not
    change the position, and `elapsed` when another action is due first."""
    if next_time > now:
        return f"in {(next_time - now) / 3600:.1f} h"
    if status.reason == Reason.TIME:
        return "now"
    if status.due:
        return "elapsed"
    if abs(leverage - target) < min_drift:
        return f"held: drift<{from_wad(min_drift):.2f}x"
    return "held: on target"


def status_tables(deployment: Deployment, holder: str | None) -> list[Table]:
    """Per token (a column each, three tokens a table): its venue, NAV, leverage, band, ripcord, supply, `holder`'s
    holding and its value in collateral (when `holder` is given), when the next time rebalance falls due, and
    the action due now; then the changes the governance has scheduled, if any, with the time each lands."""
    from ape import chain

    now = chain.pending_timestamp
    rows: dict[str, list[str]] = {name: [] for name in (
        "venue", "NAV", "leverage", "band", "ripcord", "supply", *(("holding", "its value") if holder else ()),
        "time rebalance", "due now")}
    symbols = []
    for symbol, token in deployment.token_contracts().items():
        symbols.append(symbol)
        params = token.params()
        status = Status.from_abi(token.rebalanceStatus())
        leverage, target = token.leverage(), deployment.tokens[symbol].leverage_wad
        values = {
            "venue": VENUE_SHORT[deployment.tokens[symbol].venue],
            "NAV": f"${from_units(token.navPerToken()):,.6f}",
            "leverage": f"{from_wad(leverage):.4f}x",
            "band": f"{from_wad(params.leverageMin):.3f}-{from_wad(params.leverageMax):.3f}x",
            "ripcord": f"{from_wad(params.ripcordLeverage):.2f}x",
            "supply": f"{from_wad(token.totalSupply()):,.4f}",
            "time rebalance": time_rebalance_text(status, leverage, target, params.minDrift,
                                                  token.lastRebalance() + params.rebalanceInterval, now),
            "due now": status.action.name + (f" ({status.reason.name})" if status.due else ""),
        }
        if holder:
            balance = token.balanceOf(holder)
            values["holding"] = f"{from_wad(balance):,.4f}"
            values["its value"] = f"${from_units(token.convertToAssets(balance)):,.2f}"
        for name, column in rows.items():
            column.append(values[name])
    title = f"levtoken on chain {deployment.chain_id}" + (f"; holding of {holder}" if holder else "")
    tables = []
    for first in range(0, len(symbols), STATUS_TOKENS_PER_TABLE):
        chunk = slice(first, first + STATUS_TOKENS_PER_TABLE)
        table = Table(title=title if first == 0 else None)
        table.add_column("")
        for symbol in symbols[chunk]:
            table.add_column(f"{symbol} ({leverage_label(deployment.tokens[symbol].leverage_wad)})", justify="right")
        for name, column in rows.items():
            table.add_row(name, *column[chunk])
        tables.append(table)
    pending = pending_changes(deployment) if deployment.governance else []
    if pending:
        table = Table(title="changes the governance has scheduled")
        table.add_column("lands")
        table.add_column("change")
        for change in pending:
            table.add_row("ready now" if change.lands_at <= now else utc_text(change.lands_at), change.description)
        tables.append(table)
    return tables
