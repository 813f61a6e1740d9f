"""The keeper: per-block logic apart from the supervision of the process that runs it.

- `levtoken.keeper.backoff`: recognising a lost node, and `Backoff`, the one back-off policy;
- `levtoken.keeper.logic`: `Keeper.on_block` (what is due, pending transactions, fees, metrics);
- `levtoken.keeper.reverts`: custom errors by name, arguments in the user's units;
- `levtoken.keeper.supervision`: the silverback processes, their environment and restarts.

The silverback bot itself is `bots/keeper.py`, its block-polling runner `bots/keeper_runner.py`.
"""

from levtoken.keeper.backoff import Backoff, NodeUnavailable, is_connection_error
from levtoken.keeper.logic import GWEI, Keeper, KeeperMetrics, KeeperSettings, method_for
from levtoken.keeper.reverts import describe_revert, revert_name
from levtoken.keeper.supervision import (
    CONFIG_ERROR_EXIT, keeper_env, run_keeper, silverback_account, silverback_command,
)

__all__ = [
    "Backoff", "NodeUnavailable", "is_connection_error", "GWEI", "Keeper", "KeeperMetrics", "KeeperSettings",
    "method_for", "revert_name", "describe_revert", "CONFIG_ERROR_EXIT", "keeper_env",
    "run_keeper", "silverback_account", "silverback_command",
]
