"""What a `levtoken` command prints when it fails for a reason the user can act on: one clear line and exit
status 1, a revert by the contract error's name with its arguments in the user's units, and what to do next."""

from __future__ import annotations

import functools
from typing import Any, Callable

import click

from levtoken.deploy_config import DeploymentError
from levtoken.governance import GovernanceError
from levtoken.flows import FlowError
from levtoken.node import NodeError
from levtoken.prices import PriceDataError

# What to do about the reverts a holder's command meets, by the error's name.
REVERT_HINTS = {
    "CancelTooEarly": "a mint request can be cancelled once keepers left its priced batch unsettled for the "
                      "settlement window, or once the feed published no newer round for its heartbeat plus that "
                      "window; run it again then",
    "NoPendingRequest": "this account has no mint request waiting (`levtoken requests` shows what waits)",
    "RequestAlreadySettled": "the request was settled: `levtoken claim` claims it",
    "NothingToSettle": "no request waits on this token",
    "NoNewerPrice": "the waiting requests need a round published after the latest of them; try again after it",
    "FallbackNotOpen": "keepers have this long to settle; run it again once it has passed",
}


def revert_hint(err: Exception) -> str:
    """`; what to do` for a revert REVERT_HINTS knows, else nothing."""
    from levtoken.keeper.reverts import revert_name

    hint = REVERT_HINTS.get(revert_name(err))
    return f"; {hint}" if hint else ""


def friendly_errors(func: Callable[..., Any]) -> Callable[..., Any]:
    """Turns the errors a user can cause into one clear line and exit status 1."""

    @functools.wraps(func)
    def wrapper(*args, **kwargs):
        from ape.exceptions import (ApeException, ContractLogicError, EcosystemNotFoundError, NetworkNotFoundError,
                                    ProviderNotConnectedError, ProviderNotFoundError)

        from levtoken.keeper.reverts import describe_revert

        try:
            return func(*args, **kwargs)
        except (DeploymentError, GovernanceError, PriceDataError, NodeError, FlowError) as err:
            raise click.ClickException(str(err)) from None
        except ContractLogicError as err:
            raise click.ClickException(f"the transaction reverted: {describe_revert(err)}{revert_hint(err)}") from None
        except (EcosystemNotFoundError, NetworkNotFoundError, ProviderNotFoundError) as err:
            known = "ethereum:local:node, ethereum:local:foundry, ethereum:sepolia:node or a node's URL"
            why = str(err).splitlines()[0].removesuffix(" Options:").rstrip(".")
            raise click.ClickException(f"unknown network {kwargs.get('network')!r} ({why}); use {known}") from None
        except ProviderNotConnectedError as err:
            raise click.ClickException(f"no node to talk to: {err}. Start one (`levtoken node`) or check --network") from None
        except ApeException as err:
            text = str(err)
            if text.startswith("Missing URI for network"):
                network = kwargs.get("network", "the selected network")
                raise click.ClickException(
                    f"no RPC URL for {network}: give your node's URL in ape-config.yaml (node: ethereum: <network>: "
                    "uri:, as the README's \"On a testnet\" shows) or pass --network https://..."
                ) from None
            if any(k in text.lower() for k in ("node found", "connect", "refused")):
                network = kwargs.get("network", "the selected network")
                raise click.ClickException(
                    f"cannot reach a node at {network}; start one with `levtoken node` or fix --network"
                ) from None
            raise click.ClickException(text.splitlines()[0] if text else type(err).__name__) from None
        except (ConnectionError, OSError) as err:
            raise click.ClickException(f"the node is not reachable ({err}); start it (`levtoken node`) or fix --network") from None

    return wrapper
