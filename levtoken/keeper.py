"""The keeper: watches every token each block and sends `rebalance()` (or `ripcord()`) when the chain says so.

The decision is the chain's: `rebalanceStatus()` says what is due and the transaction is re-checked with a
gas estimate right before it is signed, so the keeper never sends what the chain would reject. The keeper
only adds operational care around it:

- one transaction in flight per token: a pending one is followed by its receipt, not duplicated;
- a dropped transaction is sent again and a stuck one is replaced with the same nonce and a higher fee
  (bumped per attempt, capped by `max_fee`), at most `max_attempts` times, then the token cools down;
- one token failing (a read or an estimate reverting, a mined revert) is logged and counted, and the
  others are still served;
- the node going away aborts the block, backs off exponentially and resumes when it answers again.

`Keeper` does not depend on silverback: `bots/keeper.py` calls `Keeper.on_block` from a block handler, and
tests call it directly. `run_keeper` starts the silverback bot for the command line.
"""

from __future__ import annotations

import logging
import os
import subprocess
import sys
import threading
import time
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any, Callable, Iterable, Mapping

from ape import chain
from ape.exceptions import ContractLogicError, ProviderNotConnectedError
from web3.exceptions import TransactionNotFound

from levtoken.model import Action, Reason
from levtoken.units import from_wad

logger = logging.getLogger("levtoken.keeper")

GWEI = 10**9



# Texts of errors that wrap a connection failure without chaining it.
CONNECTION_MESSAGES = ("Connection refused", "Max retries exceeded", "Connection aborted", "Not connected")

# Reverts that only mean "not due any more" (someone else acted first, or the price moved back).
NOT_DUE_ERRORS = ("RebalanceNotDue", "RipcordNotDue")


@dataclass
class KeeperMetrics:
    """Counters since the keeper started. `as_dict()` is what the silverback handler returns."""

    blocks: int = 0  # blocks handled (not skipped by a back-off)
    checks: int = 0  # rebalanceStatus() reads
    due: int = 0  # token-blocks on which an action was due
    sent: int = 0  # transactions broadcast, replacements included
    rebalances: int = 0  # rebalance() mined successfully (REBALANCE or ITERATE)
    ripcords: int = 0  # ripcord() mined successfully
    retries: int = 0  # transactions sent again after a drop or replaced while stuck
    dropped: int = 0  # pending transactions the node no longer knew
    failures: int = 0  # reverted reads, estimates or transactions; send errors
    pending_skips: int = 0  # token-blocks skipped because a transaction was still pending
    node_errors: int = 0  # blocks aborted because the node did not answer
    gas_used: int = 0  # total gas of mined keeper transactions
    lag_last: int = -1  # blocks from "first due" to "mined" of the last action (-1: none yet)
    lag_max: int = 0
    lag_total: int = 0

    def as_dict(self) -> dict[str, int]:
        return asdict(self)

    @property
    def lag_mean(self) -> float:
        actions = self.rebalances + self.ripcords
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
    symbol: str
    contract: Any
    due_since: int | None = None  # block at which the current action was first seen due
    pending: Pending | None = None
    attempts: int = 0  # sends in the current due episode
    gas_factor: float = 1.0  # raised after an out-of-gas revert
    failures_in_row: int = 0
    cooldown_until: int = -1


class NodeUnavailable(Exception):
    """The node did not answer; the block is aborted and the keeper backs off."""


def is_connection_error(err: BaseException) -> bool:
    """True when an exception (or one it was raised from) says the node could not be reached."""
    import requests

    seen: set[int] = set()
    current: BaseException | None = err
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        if isinstance(
            current,
            (
                NodeUnavailable,
                ProviderNotConnectedError,
                ConnectionError,  # builtin: refused, reset, aborted
                TimeoutError,
                requests.ConnectionError,
                requests.Timeout,
            ),
        ):
            return True
        text = str(current)
        if any(s in text for s in CONNECTION_MESSAGES):
            return True
        current = current.__cause__ or current.__context__
    return False


def revert_name(err: ContractLogicError) -> str:
    """The custom error's name (e.g. RebalanceNotDue) or the revert message."""
    name = type(err).__name__
    if name not in ("ContractLogicError", "CustomError"):
        return name
    return str(getattr(err, "message", "") or err) or "reverted"


class Keeper:
    """Sends the rebalances and ripcords the chain says are due, for a set of tokens, from one account.

    Call `on_block(number)` once per new block. It is safe to call from several threads: a call that finds
    another one running returns at once (the next block serves the tokens again).
    """

    def __init__(
        self,
        tokens: Mapping[str, Any] | Iterable[Any],
        sender,
        *,
        max_attempts: int = 4,
        stuck_blocks: int = 3,
        fee_bump: float = 1.25,
        max_fee: int = 500 * GWEI,
        min_priority_fee: int = GWEI // 10,
        gas_margin: float = 1.5,
        receipt_wait: float = 1.0,
        cooldown_blocks: int = 20,
        backoff_initial: float = 1.0,
        backoff_max: float = 60.0,
        log: logging.Logger = logger,
        clock: Callable[[], float] = time.monotonic,
    ):
        if not isinstance(tokens, Mapping):
            tokens = {token.symbol(): token for token in tokens}
        self.tokens = {symbol: TokenState(symbol, contract) for symbol, contract in tokens.items()}
        self.sender = sender
        self.max_attempts = max_attempts
        self.stuck_blocks = stuck_blocks
        self.fee_bump = fee_bump
        self.max_fee = max_fee
        self.min_priority_fee = min_priority_fee
        self.gas_margin = gas_margin
        self.receipt_wait = receipt_wait
        self.cooldown_blocks = cooldown_blocks
        self.backoff_initial = backoff_initial
        self.backoff_max = backoff_max
        self.log = log
        self.clock = clock
        self.metrics = KeeperMetrics()
        self._lock = threading.Lock()
        self._backoff = 0.0
        self._retry_at = 0.0

    # --- entry point ---------------------------------------------------------------------
    def on_block(self, block_number: int | None = None) -> KeeperMetrics:
        """Serves every token once for this block; never raises for chain or node trouble."""
        if not self._lock.acquire(blocking=False):
            self.log.debug("block %s: previous block still being handled; skipped", block_number)
            return self.metrics
        try:
            if self.clock() < self._retry_at:
                return self.metrics
            try:
                block = block_number if block_number is not None else chain.blocks.height
                self.metrics.blocks += 1
                for state in self.tokens.values():
                    self._serve(state, block)
            except Exception as err:
                if not is_connection_error(err):
                    raise
                self.metrics.node_errors += 1
                self._backoff = min(self.backoff_max, self._backoff * 2 if self._backoff else self.backoff_initial)
                self._retry_at = self.clock() + self._backoff
                self.log.warning(
                    "node unreachable at block %s (%s: %s); backing off %.1fs",
                    block_number, type(err).__name__, _short(err), self._backoff,
                )
            else:
                if self._backoff:
                    self.log.info("node answering again at block %s; resumed", block)
                self._backoff = 0.0
            return self.metrics
        finally:
            self._lock.release()

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
            self._fail(state, block, f"{type(err).__name__}: {_short(err)}")

    def _act(self, state: TokenState, block: int) -> None:
        token = state.contract
        try:
            status = token.rebalanceStatus()
        except ContractLogicError as err:
            self._fail(state, block, f"rebalanceStatus reverted: {revert_name(err)}")
            return
        self.metrics.checks += 1
        action = Action(status.action)
        if action == Action.NONE:
            state.due_since = None
            state.attempts = 0
            state.failures_in_row = 0
            return
        self.metrics.due += 1
        if state.due_since is None:
            state.due_since = block
        method = "ripcord" if action == Action.RIPCORD else "rebalance"
        self._send(state, block, method, Reason(status.reason), int(status.leverage), nonce=None)

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
            self._fail(state, block, f"{method} would revert: {name}", leverage=leverage, reason=reason)
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
        """Settles a pending transaction; True when the token is free for a new decision."""
        pending = state.pending
        assert pending is not None
        eth = chain.provider.web3.eth
        # Right after a send, wait briefly: an automining node (anvil) mines it within milliseconds.
        deadline = time.monotonic() + (self.receipt_wait if just_sent else 0.0)
        while True:
            for tx_hash in pending.hashes:
                try:
                    receipt = eth.get_transaction_receipt(tx_hash)
                except TransactionNotFound:
                    continue
                if receipt is None or not self._canonical(receipt):
                    continue
                self._settle(state, pending, tx_hash, receipt)
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
            if state.attempts >= self.max_attempts:
                self._cool_down(state, block, "dropped too often")
                return False
            return True  # decided afresh (and re-checked) right away
        if block - pending.sent_block >= self.stuck_blocks and state.attempts < self.max_attempts:
            if pending.max_fee >= self.max_fee:
                return False  # already at the fee cap: wait
            self.log.warning("%s %s tx %s stuck for %d blocks; replacing", state.symbol, pending.method,
                             pending.hashes[-1], block - pending.sent_block)
            self._send(state, block, pending.method, pending.reason, pending.leverage, nonce=pending.nonce)
        return False

    def _settle(self, state: TokenState, pending: Pending, tx_hash: str, receipt) -> None:
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
        if state.failures_in_row >= self.max_attempts:
            self._cool_down(state, block, f"{state.failures_in_row} failures in a row")

    def _cool_down(self, state: TokenState, block: int, why: str) -> None:
        state.cooldown_until = block + self.cooldown_blocks
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
        limit = int(estimate * self.gas_margin * state.gas_factor) + 50_000
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
        priority = max(priority, self.min_priority_fee)
        bump = self.fee_bump ** (attempt - 1)
        priority = int(priority * bump)
        max_fee = int((2 * base_fee + priority) * bump)
        if previous is not None:
            # A replacement must pay at least 10% more than the transaction it replaces.
            priority = max(priority, previous.priority_fee * 11 // 10 + 1)
            max_fee = max(max_fee, previous.max_fee * 11 // 10 + 1)
        max_fee = min(max(max_fee, priority), self.max_fee)
        return min(priority, max_fee), max_fee


def _lev(leverage: int) -> str:
    return f"{from_wad(leverage):.3f}x"


def _short(err: BaseException, limit: int = 160) -> str:
    text = " ".join(str(err).split())
    return text if len(text) <= limit else text[: limit - 3] + "..."


# --- running the bot ------------------------------------------------------------------------------

def keeper_env(
    record_path: Path | str,
    broker_url: str | None = None,
    base: Mapping[str, str] | None = None,
) -> dict[str, str]:
    """Environment for `silverback run` / `silverback worker` with bots/keeper.py.

    With `broker_url` (redis://host:port/db) tasks go through taskiq-redis: a list queue for the tasks and
    a Redis result backend, so `silverback run` only watches blocks and the workers send transactions.
    """
    import json

    env = dict(os.environ if base is None else base)
    env["LEVTOKEN_RECORD"] = str(Path(record_path).resolve())
    if broker_url:
        env["SILVERBACK_BROKER_CLASS"] = "taskiq_redis:ListQueueBroker"
        env["SILVERBACK_BROKER_KWARGS"] = json.dumps({"url": broker_url, "queue_name": "levtoken-keeper"})
        env["SILVERBACK_RESULT_BACKEND_CLASS"] = "taskiq_redis:RedisAsyncResultBackend"
        env["SILVERBACK_RESULT_BACKEND_KWARGS"] = json.dumps({"redis_url": broker_url, "result_ex_time": 600})
    return env


def silverback_account(account: str) -> str:
    """silverback's spelling of an account: `test:1` (levtoken's) becomes `TEST::1`; aliases stay."""
    if account.lower().startswith("test:") and not account.startswith("TEST::"):
        return f"TEST::{account.split(':', 1)[1]}"
    return account


def silverback_command(role: str, network_choice: str, account: str, workers: int = 2) -> list[str]:
    """argv for `silverback run` (role "run") or `silverback worker` (role "worker") on the keeper bot."""
    exe = Path(sys.executable).with_name("silverback")
    argv = [str(exe) if exe.exists() else "silverback", role, "bots.keeper:bot", "--network", network_choice,
            "--account", silverback_account(account)]
    if role == "run":
        argv += ["--runner", "bots.keeper_runner:KeeperRunner"]
    else:
        argv += ["--workers", str(workers)]
    return argv


def run_keeper(
    record_path: Path | str,
    account: str,
    network_choice: str,
    *,
    broker_url: str | None = None,
    workers: int = 0,
    project_dir: Path | str | None = None,
    restart_backoff_max: float = 60.0,
    log: logging.Logger = logger,
) -> int:
    """Runs the keeper bot until interrupted, restarting it (with back-off) if it exits on an error.

    - `account`: an ape account alias, or `test:<n>` (or `TEST::<n>`) for a test account on a local chain.
    - `network_choice`: e.g. `http://127.0.0.1:8545` for a running anvil, or `ethereum:sepolia:alchemy`.
    - `broker_url`: a Redis URL to hand tasks to workers; with `workers` > 0 that many worker threads
      are started here as well (`silverback worker`), otherwise start workers elsewhere against the same
      Redis, record and node (see docs/keeper.md).
    Returns the exit code of the last run (0 after Ctrl-C).
    """
    cwd = Path(project_dir) if project_dir else Path(__file__).resolve().parents[1]
    env = keeper_env(record_path, broker_url)
    backoff = 0.0
    while True:
        procs: list[subprocess.Popen] = []
        started = time.monotonic()
        try:
            if broker_url and workers:
                procs.append(subprocess.Popen(silverback_command("worker", network_choice, account, workers),
                                              cwd=cwd, env=env))
            runner = subprocess.Popen(silverback_command("run", network_choice, account), cwd=cwd, env=env)
            procs.append(runner)
            code = runner.wait()
        except KeyboardInterrupt:
            return 0
        finally:
            for proc in procs:
                if proc.poll() is None:
                    proc.terminate()
                    try:
                        proc.wait(timeout=30)
                    except subprocess.TimeoutExpired:
                        proc.kill()
        if code == 0:
            return 0
        if time.monotonic() - started > 300:
            backoff = 0.0  # it ran for a while: not a crash loop
        backoff = min(restart_backoff_max, backoff * 2 if backoff else 2.0)
        log.warning("keeper bot exited with code %d; restarting in %.0fs", code, backoff)
        try:
            time.sleep(backoff)
        except KeyboardInterrupt:
            return code
