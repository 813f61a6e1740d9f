"""The keeper's per-block logic: each block, send `settle()`, `rebalance()` or `ripcord()` for every token the
chain says is due, then execute the venue's delayed orders that a newer round qualifies (for their fee).

The decision is the chain's: `rebalanceStatus()` says what is due and the transaction is re-checked with a
gas estimate right before it is signed, so the keeper never sends what the chain would reject. The keeper
only adds operational care around it:

- one transaction in flight per token: a pending one is followed by its receipt, not duplicated;
- a dropped transaction is sent again and a stuck one is replaced with the same nonce and a higher fee
  (bumped per attempt, capped by `max_fee`), at most `max_attempts` times, then the token cools down;
- one token failing (a read or an estimate reverting, a mined revert) is logged and counted, and the
  others are still served;
- the node going away aborts the block and skips blocks for a `Backoff` delay until it answers again.

`Keeper` does not depend on silverback: `bots/keeper.py` calls `Keeper.on_block` from a block handler, the
replay's bot keeper and the tests call it directly. Running the bot process is `levtoken.keeper.supervision`.
"""

from __future__ import annotations

import logging
import threading
import time
from dataclasses import asdict, dataclass, replace
from typing import Any, Callable, Iterable, Mapping

from ape import chain
from ape.exceptions import ContractLogicError
from web3.exceptions import TransactionNotFound

from levtoken.keeper.backoff import Backoff, is_connection_error
from levtoken.keeper.reverts import describe_revert, revert_name
from levtoken.shapes import Action, OrderStatus, Reason, Status
from levtoken.units import from_wad

logger = logging.getLogger("levtoken.keeper")

GWEI = 10**9

# Reverts that only mean "not due any more" (someone else acted first, the price moved back, or the requests
# were settled or wait for a newer round).
NOT_DUE_ERRORS = ("RebalanceNotDue", "RipcordNotDue", "NothingToSettle", "NoNewerPrice")


def method_for(action: Action) -> str:
    """The token function that carries out a due action: `settle` for SETTLE, `ripcord` for RIPCORD,
    `rebalance` otherwise."""
    if action == Action.SETTLE:
        return "settle"
    return "ripcord" if action == Action.RIPCORD else "rebalance"


@dataclass(frozen=True)
class KeeperSettings:
    """How patient and how generous the keeper is (every field can be passed to `Keeper` by name)."""

    max_attempts: int = 4  # sends (or failures in a row) per due episode before the token cools down
    stuck_blocks: int = 3  # blocks a transaction may stay pending before it is replaced
    fee_bump: float = 1.25  # fee multiplier per attempt
    max_fee: int = 500 * GWEI  # cap of the max fee per gas
    min_priority_fee: int = GWEI // 10
    gas_margin: float = 1.5  # gas limit = estimate x margin + 50k
    receipt_wait: float = 1.0  # seconds to wait for a receipt right after a send (automining nodes)
    cooldown_blocks: int = 20  # blocks a token pauses after `max_attempts` failures or drops
    backoff_initial: float = 1.0  # seconds of blocks skipped after the node first fails to answer
    backoff_max: float = 60.0


@dataclass
class KeeperMetrics:
    """Counters since the keeper started. `as_dict()` is what the silverback handler returns."""

    blocks: int = 0  # blocks handled (not skipped by a back-off)
    checks: int = 0  # rebalanceStatus() reads
    due: int = 0  # token-blocks on which an action was due
    sent: int = 0  # transactions broadcast, replacements included
    rebalances: int = 0  # rebalance() mined successfully (REBALANCE or ITERATE)
    ripcords: int = 0  # ripcord() mined successfully
    settlements: int = 0  # settle() mined successfully
    retries: int = 0  # transactions sent again after a drop or replaced while stuck
    dropped: int = 0  # pending transactions the node no longer knew
    failures: int = 0  # reverted reads, estimates or transactions; send errors
    pending_skips: int = 0  # token-blocks skipped because a transaction was still pending
    node_errors: int = 0  # blocks aborted because the node did not answer
    gas_used: int = 0  # total gas of mined keeper transactions
    orders: int = 0  # the venue's delayed orders executed (or cancelled because the venue refused them)
    lag_last: int = -1  # blocks from "first due" to "mined" of the last action (-1: none yet)
    lag_max: int = 0
    lag_total: int = 0
    settle_lag: int = -1  # blocks from "first seen SETTLE" to "mined" of the last settlement (-1: none yet)
    settle_lag_max: int = 0

    def as_dict(self) -> dict[str, int]:
        """The counters as a plain mapping (what silverback logs and records)."""
        return asdict(self)

    @property
    def lag_mean(self) -> float:
        """Mean lag in blocks over the mined actions, settlements included (0 before the first)."""
        actions = self.rebalances + self.ripcords + self.settlements
        return self.lag_total / actions if actions else 0.0


@dataclass
class Pending:
    """A keeper transaction not yet mined, with every hash sent for its nonce."""

    hashes: list[str]
    nonce: int
    method: str
    reason: Reason
    leverage: int
    sent_block: int
    max_fee: int
    priority_fee: int
    attempt: int


@dataclass
class TokenState:
    """What the keeper remembers about one token between blocks."""

    symbol: str
    contract: Any
    due_since: int | None = None  # block at which the current action was first seen due
    settle_since: int | None = None  # block at which the view first reported SETTLE for the waiting requests
    pending: Pending | None = None
    attempts: int = 0  # sends in the current due episode
    gas_factor: float = 1.0  # raised after an out-of-gas revert
    failures_in_row: int = 0
    cooldown_until: int = -1


class Keeper:
    """Sends the settlements, rebalances and ripcords the chain says are due, for a set of tokens, from one account.

    Call `on_block(number)` once per new block. It is safe to call from several threads: a call that finds
    another one running returns at once (the next block serves the tokens again). `settings` (or any of
    its fields passed by name) says how patient and how generous it is; `clock` drives the node back-off.
    """

    def __init__(
        self,
        tokens: Mapping[str, Any] | Iterable[Any],
        sender,
        settings: KeeperSettings | None = None,
        *,
        orders: Any = None,
        changes: Callable[[int | None, int], list[str]] | None = None,
        log: logging.Logger = logger,
        clock: Callable[[], float] = time.monotonic,
        **overrides: Any,
    ):
        if not isinstance(tokens, Mapping):
            tokens = {token.symbol(): token for token in tokens}
        self.tokens = {symbol: TokenState(symbol, contract) for symbol, contract in tokens.items()}
        self.sender = sender
        self.settings = replace(settings or KeeperSettings(), **overrides)
        self.log = log
        self.metrics = KeeperMetrics()
        self.backoff = Backoff(self.settings.backoff_initial, self.settings.backoff_max, clock)
        self.orders = orders  # the venue's DelayedOrders (None: not served)
        # The governance's changes scheduled from a block (None: since the deployment) to a block, in words.
        self.changes = changes
        self._changes_to: int | None = None
        self._next_order = 1  # every order below it is executed, cancelled or expired
        self._last_block: int | None = None  # the block last served
        self._lock = threading.Lock()

    # --- entry point ---------------------------------------------------------------------
    def on_block(self, block_number: int | None = None) -> KeeperMetrics:
        """Serves every token once for this block; never raises for chain or node trouble."""
        if not self._lock.acquire(blocking=False):
            self.log.debug("block %s: previous block still being handled; skipped", block_number)
            return self.metrics
        try:
            if self.backoff.waiting:
                return self.metrics
            try:
                block = block_number if block_number is not None else chain.blocks.height
                if self._last_block is not None and block < self._last_block:
                    self._went_back(block)
                self._last_block = block
                self.metrics.blocks += 1
                for state in self.tokens.values():
                    self._serve(state, block)
                if self.orders is not None and all(state.pending is None for state in self.tokens.values()):
                    self._execute_orders()
                self._log_changes(block)
            except Exception as err:
                if not is_connection_error(err):
                    raise
                self.metrics.node_errors += 1
                delay = self.backoff.failed()
                self.log.warning(
                    "node unreachable at block %s (%s: %s); backing off %.1fs",
                    block_number, type(err).__name__, _short(err), delay,
                )
            else:
                if self.backoff.reset():
                    self.log.info("node answering again at block %s; resumed", block)
            return self.metrics
        finally:
            self._lock.release()

    def _went_back(self, block: int) -> None:
        """The chain went back (a reset node, a reverted snapshot, a reorg) to `block`: what the keeper waits for by
        block number (a cooldown, the orders and governance changes it has seen) may not hold on this chain; forget
        it. (When an action first fell due stays: it only measures lag.)"""
        self.log.info("chain went back from block %s to %s; serving it afresh", self._last_block, block)
        for state in self.tokens.values():
            state.cooldown_until = -1
        self._next_order = 1
        self._changes_to = None

    def _log_changes(self, block: int) -> None:
        """Logs each governance change scheduled since the last block served (at the first, every pending one)."""
        if self.changes is None or (self._changes_to is not None and block <= self._changes_to):
            return
        start = None if self._changes_to is None else self._changes_to + 1
        for line in self.changes(start, block):
            self.log.info("governance change pending: %s", line)
        self._changes_to = block

    # --- the venue's delayed orders ----------------------------------------------------------
    def _execute_orders(self) -> None:
        """Executes the delayed orders that qualify, oldest first, each mined before the next; stops at the first
        that waits for a round (every later one was requested after it)."""
        count = int(self.orders.orderCount())
        while self._next_order <= count:
            order_id = self._next_order
            if int(self.orders.order(order_id).status) != OrderStatus.PENDING:
                self._next_order += 1
                continue
            try:
                self.orders.execute.estimate_gas_cost(order_id, sender=self.sender)
            except ContractLogicError as err:
                name = revert_name(err)
                if name == "NoNewerPrice":
                    return
                if name not in ("OrderExpired", "OrderNotPending"):
                    self.metrics.failures += 1
                    self.log.warning("order %d: execute would revert: %s", order_id, describe_revert(err))
                    return
                self._next_order += 1
                continue
            receipt = self.orders.execute(order_id, sender=self.sender)
            executed = receipt.events.filter(self.orders.OrderExecuted)[0].executed
            self.metrics.orders += 1
            self.metrics.gas_used += int(receipt.gas_used)
            self.log.info("order %d %s", order_id,
                          "executed" if executed else "refused by the venue: cancelled, escrow refunded")
            self._next_order += 1

    # --- one token -------------------------------------------------------------------------
    def _serve(self, state: TokenState, block: int) -> None:
        try:
            if state.pending is not None and not self._follow_pending(state, block):
                self.metrics.pending_skips += 1
                return
            if block < state.cooldown_until:
                return
            self._act(state, block)
        except Exception as err:
            if is_connection_error(err):
                raise
            if isinstance(err, ContractLogicError):
                self._fail(state, block, f"reverted: {describe_revert(err)}")
            else:
                self._fail(state, block, f"{type(err).__name__}: {_short(err)}")

    def _act(self, state: TokenState, block: int) -> None:
        token = state.contract
        try:
            status = Status.from_abi(token.rebalanceStatus())
        except ContractLogicError as err:
            self._fail(state, block, f"rebalanceStatus reverted: {describe_revert(err)}")
            return
        self.metrics.checks += 1
        if status.action != Action.SETTLE:
            state.settle_since = None
        elif state.settle_since is None:
            state.settle_since = block
        if not status.due:
            state.due_since = None
            state.attempts = 0
            state.failures_in_row = 0
            return
        self.metrics.due += 1
        if state.due_since is None:
            state.due_since = block
        self._send(state, block, method_for(status.action), status.reason, status.leverage, nonce=None)

    def _send(self, state: TokenState, block: int, method: str, reason: Reason, leverage: int,
              nonce: int | None) -> None:
        """Re-checks with an estimate, then signs and broadcasts; `nonce` set means a replacement."""
        handle = getattr(state.contract, method)
        try:
            gas = handle.estimate_gas_cost(sender=self.sender)
        except ContractLogicError as err:
            name = revert_name(err)
            if name in NOT_DUE_ERRORS:
                self.log.info("%s %s not due any more (%s); nothing sent", state.symbol, method, name)
                state.due_since = None
                return
            self._fail(state, block, f"{method} would revert: {describe_revert(err)}", leverage=leverage,
                       reason=reason)
            return

        previous = state.pending
        attempt = state.attempts + 1
        priority_fee, max_fee = self._fees(attempt, previous)
        if nonce is None:
            nonce = self._account_nonce("pending")
        txn = handle.as_transaction(
            sender=self.sender,
            nonce=nonce,
            gas_limit=self._gas_limit(gas, state),
            max_fee=max_fee,
            max_priority_fee=priority_fee,
            type=2,
        )
        signed = self.sender.sign_transaction(txn)
        raw = signed.serialize_transaction()
        tx_hash = chain.provider.web3.eth.send_raw_transaction(raw).to_0x_hex()
        state.attempts = attempt
        self.metrics.sent += 1
        if attempt > 1:
            self.metrics.retries += 1
        hashes = (previous.hashes if previous is not None and previous.nonce == nonce else []) + [tx_hash]
        state.pending = Pending(hashes, nonce, method, reason, leverage, block, max_fee, priority_fee, attempt)
        if not self._follow_pending(state, block, just_sent=True):
            self.log.info(
                "%s %s reason=%s leverage=%s tx=%s pending (attempt %d, nonce %d, max fee %.2f gwei)",
                state.symbol, method, reason.name, _lev(leverage), tx_hash, attempt, nonce, max_fee / GWEI,
            )

    def _follow_pending(self, state: TokenState, block: int, just_sent: bool = False) -> bool:
        """Follows a pending transaction; True when the token is free for a new decision."""
        pending = state.pending
        assert pending is not None
        eth = chain.provider.web3.eth
        # Right after a send, wait briefly: an automining node (anvil) mines it within milliseconds.
        deadline = time.monotonic() + (self.settings.receipt_wait if just_sent else 0.0)
        while True:
            for tx_hash in pending.hashes:
                try:
                    receipt = eth.get_transaction_receipt(tx_hash)
                except TransactionNotFound:
                    continue
                if receipt is None or not self._canonical(receipt):
                    continue
                self._mined(state, pending, tx_hash, receipt)
                return True
            if time.monotonic() >= deadline:
                break
            time.sleep(0.05)
        if just_sent:
            return False
        if self._account_nonce("latest") > pending.nonce:
            # The nonce was used by a transaction this keeper does not know (same key elsewhere).
            self.log.warning("%s nonce %d used by another transaction; deciding afresh", state.symbol, pending.nonce)
            state.pending = None
            return True
        known = False
        for tx_hash in pending.hashes:
            try:
                known = eth.get_transaction(tx_hash) is not None
            except TransactionNotFound:
                known = False
            if known:
                break
        if not known:
            self.metrics.dropped += 1
            self.log.warning("%s %s tx %s dropped by the node", state.symbol, pending.method, pending.hashes[-1])
            state.pending = None
            if state.attempts >= self.settings.max_attempts:
                self._cool_down(state, block, "dropped too often")
                return False
            return True  # decided afresh (and re-checked) right away
        if block - pending.sent_block >= self.settings.stuck_blocks and state.attempts < self.settings.max_attempts:
            if pending.max_fee >= self.settings.max_fee:
                return False  # already at the fee cap: wait
            self.log.warning("%s %s tx %s stuck for %d blocks; replacing", state.symbol, pending.method,
                             pending.hashes[-1], block - pending.sent_block)
            self._send(state, block, pending.method, pending.reason, pending.leverage, nonce=pending.nonce)
        return False

    def _mined(self, state: TokenState, pending: Pending, tx_hash: str, receipt) -> None:
        state.pending = None
        mined = int(receipt["blockNumber"])
        gas_used = int(receipt["gasUsed"])
        self.metrics.gas_used += gas_used
        if int(receipt["status"]) != 1:
            why = f"{pending.method} tx {tx_hash} reverted on-chain (gas {gas_used})"
            limit = int(chain.provider.web3.eth.get_transaction(tx_hash)["gas"])
            if gas_used * 100 >= limit * 95:
                state.gas_factor = min(state.gas_factor * 2, 8.0)
                why += f": out of gas at limit {limit}; next attempt with {state.gas_factor:g}x the estimate margin"
            self._fail(state, mined, why, leverage=pending.leverage, reason=pending.reason)
            return
        lag = mined - state.due_since if state.due_since is not None else 0
        m = self.metrics
        if pending.method == "ripcord":
            m.ripcords += 1
        elif pending.method == "settle":
            m.settlements += 1
            settle_lag = mined - state.settle_since if state.settle_since is not None else lag
            m.settle_lag = settle_lag
            m.settle_lag_max = max(m.settle_lag_max, settle_lag)
            state.settle_since = None
        else:
            m.rebalances += 1
        m.lag_last = lag
        m.lag_max = max(m.lag_max, lag)
        m.lag_total += lag
        state.due_since = None
        state.attempts = 0
        state.failures_in_row = 0
        self.log.info(
            "%s %s reason=%s leverage=%s tx=%s gas=%d block=%d lag=%d",
            state.symbol, pending.method, pending.reason.name, _lev(pending.leverage), tx_hash, gas_used, mined, lag,
        )

    # --- helpers -------------------------------------------------------------------------------
    def _fail(self, state: TokenState, block: int, why: str, leverage: int | None = None,
              reason: Reason | None = None) -> None:
        self.metrics.failures += 1
        state.failures_in_row += 1
        extra = ""
        if reason is not None:
            extra += f" reason={reason.name}"
        if leverage is not None:
            extra += f" leverage={_lev(leverage)}"
        self.log.error("%s failed%s: %s", state.symbol, extra, why)
        if state.failures_in_row >= self.settings.max_attempts:
            self._cool_down(state, block, f"{state.failures_in_row} failures in a row")

    def _cool_down(self, state: TokenState, block: int, why: str) -> None:
        state.cooldown_until = block + self.settings.cooldown_blocks
        state.failures_in_row = 0
        state.attempts = 0
        self.log.warning("%s paused until block %d (%s)", state.symbol, state.cooldown_until, why)

    @staticmethod
    def _canonical(receipt) -> bool:
        """True when the receipt's block is on the node's current chain (not reorganised or reverted away)."""
        try:
            block = chain.provider.web3.eth.get_block(int(receipt["blockNumber"]))
        except Exception as err:
            if is_connection_error(err):
                raise
            return False
        return block is not None and block["hash"] == receipt["blockHash"]

    def _gas_limit(self, estimate: int, state: TokenState) -> int:
        """The estimate with a margin (state can change between estimate and inclusion), within the block limit."""
        limit = int(estimate * self.settings.gas_margin * state.gas_factor) + 50_000
        block_limit = int(chain.blocks.head.gas_limit)
        return min(limit, block_limit) if block_limit else limit

    def _account_nonce(self, block_id: str) -> int:
        return chain.provider.web3.eth.get_transaction_count(self.sender.address, block_id)

    def _fees(self, attempt: int, previous: Pending | None) -> tuple[int, int]:
        """(priority fee, max fee) for an attempt: market fees bumped per attempt, capped by `max_fee`."""
        provider = chain.provider
        base_fee = int(provider.base_fee or 0)
        try:
            priority = int(provider.priority_fee)
        except Exception as err:
            if is_connection_error(err):
                raise
            priority = 0
        priority = max(priority, self.settings.min_priority_fee)
        bump = self.settings.fee_bump ** (attempt - 1)
        priority = int(priority * bump)
        max_fee = int((2 * base_fee + priority) * bump)
        if previous is not None:
            # A replacement must pay at least 10% more than the transaction it replaces.
            priority = max(priority, previous.priority_fee * 11 // 10 + 1)
            max_fee = max(max_fee, previous.max_fee * 11 // 10 + 1)
        max_fee = min(max(max_fee, priority), self.settings.max_fee)
        return min(priority, max_fee), max_fee


def _lev(leverage: int) -> str:
    return f"{from_wad(leverage):.3f}x"


def _short(err: BaseException, limit: int = 160) -> str:
    text = " ".join(str(err).split())
    return text if len(text) <= limit else text[: limit - 3] + "..."
