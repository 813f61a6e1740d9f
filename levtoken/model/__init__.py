"""Reference model of the contracts in pure Python, one module per contract file (contracts/ and its
libraries/), function names and order kept, so each pair reads side by side:

    errors.py                        every Solidity error (Revert and its subclasses)
    libraries/fixed_point_math.py    FixedPointMath, with Math.mulDiv and Solidity's signed division
    libraries/safe_cast.py           SafeCast and checked arithmetic on narrow types
    libraries/oracle_lib.py          OracleLib
    libraries/shares_math.py         SharesMath
    libraries/hedge_math.py          HedgeMath
    libraries/rebalance_logic.py     RebalanceLogic
    libraries/request_queue.py       RequestQueue
    libraries/settlement_math.py     SettlementMath
    erc20.py                         OpenZeppelin's ERC20 (the collateral) and Solady's (the token's shares)
    price_feed.py                    PriceFeed
    perp_venue.py                    PerpVenue
    leveraged_token_storage.py       LeveragedTokenStorage (the token's state and shared internals)
    async_requests.py                AsyncRequests (the request book LeveragedToken inherits)
    leveraged_token_logic.py         LeveragedTokenLogic (settlement, rebalancing, parameters; the constants)
    leveraged_token.py               LeveragedToken (both halves: AsyncRequests and LeveragedTokenLogic)
    leveraged_token_factory.py       LeveragedTokenFactory (defaultParams, createToken)
    clock.py                         the block time the contracts read (Solidity's block.timestamp)
    journal.py                       the undo log behind the transaction boundary
    system.py                        Model: wires the contracts to the clock, the feeds, the collateral
                                     and the transaction boundary; nothing below imports it
    chain.py                         model_from_chain, the only chain-facing code

The model reproduces the contracts' integer arithmetic to the unit: OpenZeppelin's Math.mulDiv (floor and
ceil), Solidity's signed division (truncation toward zero), FixedPointMath's sDivDown and sDivUp (toward
negative and positive infinity), SafeCast's range checks and checked arithmetic on the narrow storage
types. It exists to be compared with the contracts after every step (tests/model/test_differential.py)
and to check the protocol against closed forms (DESIGN.md section 5) without a chain. The contracts'
shapes (Params, MarketConfig, Position, MarketState, Status, Settlement, Action, Reason) are
levtoken.shapes'.

Entry and exit are ERC-7540 requests: `token.request_deposit(caller, assets, controller, owner)`,
`token.request_redeem(caller, shares, controller, owner)`; a keeper's `token.settle(caller)` prices the
requests at a round published strictly after them (publish one with `model.advance(1)` then
`model.set_answer(...)`); the claims `deposit(caller, assets, receiver, controller=None)`,
`mint(caller, shares, receiver, controller=None)`, `redeem(caller, shares, receiver, controller)` and
`withdraw(caller, assets, receiver, controller)` take what settlements left claimable.

Not modelled: events, gas, signatures (permit), allowances of the collateral (the model assumes the
callers approved what they spend), uint256/int256 overflow of intermediate products (unreachable with
realistic numbers; the casts to the 128- and 64-bit storage types are checked).
"""

from levtoken.model import errors
from levtoken.model.chain import model_from_chain
from levtoken.model.clock import Clock
from levtoken.model.errors import Revert
from levtoken.model.async_requests import Account, AsyncRequests
from levtoken.model.leveraged_token import LeveragedToken
from levtoken.model.leveraged_token_logic import LeveragedTokenLogic, Plan, State
from levtoken.model.leveraged_token_storage import LeveragedTokenStorage, Snapshot
from levtoken.model.leveraged_token_factory import create_token, default_params
from levtoken.model.perp_venue import Outcome, PerpVenue, TradeQuote
from levtoken.model.price_feed import Feed
from levtoken.model.system import Collateral, Model, standard_model, zero_cost_config
from levtoken.shapes import (
    UINT256_MAX, ZERO_ADDRESS, Action, MarketConfig, MarketState, Params, Position, Reason, Settlement, Status,
)
from levtoken.units import BPS, DAY, WAD

__all__ = [
    "errors", "Revert", "model_from_chain", "Model", "Clock", "standard_model", "zero_cost_config", "Collateral", "Feed",
    "PerpVenue", "Outcome", "TradeQuote", "LeveragedToken", "Snapshot", "Plan", "AsyncRequests", "Account",
    "LeveragedTokenLogic", "LeveragedTokenStorage", "State", "default_params", "create_token", "Action", "Reason", "Params", "Status",
    "Settlement", "MarketConfig", "Position", "MarketState",
    "UINT256_MAX", "ZERO_ADDRESS", "WAD", "BPS", "DAY",
]
