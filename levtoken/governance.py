"""Governance: the timelock that owns the venue, the factory and DelayedOrders and administers every token
(contracts/Governance.sol, DESIGN.md 11).

Deploying it, handing the protocol's privileged roles over to it, and the life of one change: scheduled by a
proposer, ready after the delay, executed by anyone, or cancelled by a proposer or a guardian before then.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Iterable

from ape import project
from eth_utils import is_address, keccak, to_checksum_address

from levtoken.deploy_config import MORPHO, PERP
from levtoken.shapes import MONEY_MARKET_FIXED, MarketConfig, MoneyMarketConfig, Params

ZERO_ADDRESS = "0x" + "00" * 20
# The venues' names in a change's description, and each one's kind and market shape.
VENUES = {"venue": (PERP, MarketConfig), "money-market venue": (MORPHO, MoneyMarketConfig)}


class GovernanceError(Exception):
    """A governance action that cannot be done as asked; the message says why."""

ZERO_HASH = b"\x00" * 32
DEFAULT_ADMIN_ROLE = b"\x00" * 32
# A token's roles by the name the command line uses (LeveragedTokenStorage: KEEPER_ROLE, GUARDIAN_ROLE).
TOKEN_ROLES = {"admin": DEFAULT_ADMIN_ROLE, "keeper": keccak(text="KEEPER_ROLE"), "guardian": keccak(text="GUARDIAN_ROLE")}


@dataclass(frozen=True)
class Change:
    """One call the governance makes: `target`'s `method` (an ape contract method) with `args`."""

    target: Any
    method: str
    args: tuple = ()
    salt: bytes = ZERO_HASH

    @property
    def data(self) -> bytes:
        """The call's calldata, selector included."""
        return bytes(getattr(self.target, self.method).encode_input(*self.args))

    def operation_id(self, governance) -> bytes:
        """The timelock's id of this change."""
        return bytes(governance.hashOperation(self.target.address, 0, self.data, ZERO_HASH, self.salt))


def deploy_governance(deployer, delay: int, proposers: Iterable[str], guardians: Iterable[str] = (),
                      executors: Iterable[str] = (ZERO_ADDRESS,)):
    """Deploys Governance with `delay` seconds (at least its floor on this chain), `proposers` that schedule
    and cancel, `guardians` that only cancel and `executors` (anyone by default); returns it."""
    return deployer.deploy(project.Governance, delay, list(proposers), list(executors), list(guardians))


def schedule(governance, proposer, change: Change, delay: int | None = None):
    """Schedules `change` by `proposer` to land after `delay` (the governance's delay when None); returns the
    receipt."""
    delay = governance.getMinDelay() if delay is None else delay
    return governance.schedule(change.target.address, 0, change.data, ZERO_HASH, change.salt, delay, sender=proposer)


def execute(governance, executor, change: Change):
    """Executes a ready `change`; returns the receipt."""
    return governance.execute(change.target.address, 0, change.data, ZERO_HASH, change.salt, sender=executor)


def cancel(governance, canceller, change: Change):
    """Cancels a scheduled `change` (a proposer or a guardian); returns the receipt."""
    return governance.cancel(change.operation_id(governance), sender=canceller)


def hand_over(governance, owner, ownables: Iterable[Any] = (), tokens: Iterable[Any] = (),
              accept_now: bool = True) -> None:
    """Moves every privileged role of `owner` (a proposer of `governance`) to `governance`: the ownership of each
    Ownable2Step in `ownables` (transferred by `owner`; the governance's acceptance is scheduled, and executed
    at once when `accept_now`, which needs a zero delay; otherwise anyone executes it once the delay has
    passed, and `owner` keeps the ownership until then), and each token's admin role (granted, then renounced
    by `owner`)."""
    accepts = []
    for contract in ownables:
        contract.transferOwnership(governance.address, sender=owner)
        accepts.append(Change(contract, "acceptOwnership"))
    if accepts:  # one operation for all the acceptances
        batch = ([c.target.address for c in accepts], [0] * len(accepts), [c.data for c in accepts], ZERO_HASH,
                 ZERO_HASH)
        governance.scheduleBatch(*batch, governance.getMinDelay(), sender=owner)
        if accept_now:
            governance.executeBatch(*batch, sender=owner)
    for token in tokens:
        token.grantRole(DEFAULT_ADMIN_ROLE, governance.address, sender=owner)
        token.renounceRole(DEFAULT_ADMIN_ROLE, owner.address, sender=owner)


@dataclass(frozen=True)
class Pending:
    """A scheduled change not yet executed or cancelled: its operation id (0x-hex), when it may land (unix
    seconds), what it does in plain words, and the symbols of the tokens it affects (see `affected_tokens`)."""

    id: str
    lands_at: int
    description: str
    tokens: tuple[str, ...] = ()


def pending_changes(record, from_block: int | None = None, to_block: int | None = None) -> list[Pending]:
    """Every change the record's governance has scheduled (in blocks `from_block` to `to_block`, by default since
    the deployment) and not yet executed or cancelled, in the order they land."""
    from ape import chain

    governance = record.governance_contract()
    first = record.block if from_block is None else from_block
    last = chain.blocks.height if to_block is None else to_block
    calls: dict[bytes, list] = {}
    for event in governance.CallScheduled.range(first, last + 1):
        calls.setdefault(bytes(event.id), []).append(event)
    pending = []
    for op_id, events in calls.items():
        if governance.isOperationPending(op_id):
            events.sort(key=lambda e: e.index)
            words = "; ".join(describe_call(record, e.target, bytes(e.data)) for e in events)
            tokens = sorted({s for e in events for s in affected_tokens(record, e.target, bytes(e.data))})
            pending.append(Pending("0x" + op_id.hex(), governance.getTimestamp(op_id), words, tuple(tokens)))
    return sorted(pending, key=lambda p: p.lands_at)


def affected_tokens(record, target: str, data: bytes) -> set[str]:
    """The symbols of the record's tokens one scheduled call affects: a token's own call affects that token, a
    market's new configuration the tokens on that market, any other call to the venue or the governance itself
    (its delay) every token; the factory's and DelayedOrders' calls affect no existing token."""
    contract, name = _known_contract(record, target)
    if name in record.tokens:
        return {name}
    if name in VENUES:
        kind = VENUES[name][0]
        on_venue = {s for s, t in record.tokens.items() if record.venue_kind(t.market) == kind}
        signature, args = contract.decode_input(data)
        if signature.startswith("setMarketConfig"):
            market_id = list(args.values())[0]
            return {s for s in on_venue if record.markets.get(record.tokens[s].market) == market_id}
        return on_venue
    return set(record.tokens) if name == "governance" else set()


def describe_call(record, target: str, data: bytes) -> str:
    """One scheduled call in plain words: a token's or a market's changed settings as `old -> new`, any other
    call as its method and arguments."""
    contract, name = _known_contract(record, target)
    if contract is None:
        return f"a call to {target} ({data[:4].hex()})"
    signature, args = contract.decode_input(data)
    method = signature.split("(")[0]
    values = list(args.values())
    decimals = record.collateral_contract().decimals()
    if method == "setParams":
        return f"{name}: " + _diff(Params, contract.params(), values[0], decimals)
    if method == "setMarketConfig":
        kind, shape = VENUES[name]
        market = next((s for s, i in record.markets.items() if i == values[0] and record.venue_kind(s) == kind),
                      str(values[0]))
        return f"market {market}: " + _diff(shape, contract.marketConfig(values[0]), values[1], decimals)
    if method in ("grantRole", "revokeRole"):
        role = next((r for r, value in TOKEN_ROLES.items() if value == bytes(values[0])), "0x" + bytes(values[0]).hex())
        verb = "grant" if method == "grantRole" else "revoke"
        return f"{name}: {verb} the {role} role {'to' if verb == 'grant' else 'from'} {values[1]}"
    return f"{name}.{method}({', '.join(str(v) for v in values)})"


def _diff(shape, current, proposed, decimals: int) -> str:
    old, new = shape.from_abi(current), shape.from_abi(proposed)
    changes = [f"{sol} {shape.human(py, getattr(old, py), decimals)} -> {shape.human(py, getattr(new, py), decimals)}"
               for py, sol, _ in shape.table() if str(getattr(old, py)).lower() != str(getattr(new, py)).lower()]
    return ", ".join(changes) or "no change"


def _known_contract(record, address: str):
    """The record's contract at `address` with its name, or (None, None)."""
    address = address.lower()
    named = {record.venue: ("venue", record.venue_contract), record.factory: ("factory", record.factory_contract),
             record.orders: ("DelayedOrders", record.orders_contract),
             record.governance: ("governance", record.governance_contract)}
    if record.money_market.get("markets"):
        market = record.money_market["markets"][0]
        named[record.money_market["venue"]] = ("money-market venue", lambda: record.venue_contract(market))
        named[record.money_market["factory"]] = ("money-market factory", lambda: record.factory_contract(market))
    for known, (name, handle) in named.items():
        if known and known.lower() == address:
            return handle(), name
    for symbol, token in record.tokens.items():
        if token.address.lower() == address:
            return record.token(symbol), symbol
    return None, None


def execute_pending(record, executor, operation: str):
    """Executes the scheduled operation `operation` (0x-hex id) with the calls it was scheduled with; returns the
    receipt (the governance's own error when it is not ready or not pending)."""
    from ape import chain

    governance = record.governance_contract()
    op_id = _operation_id(operation)
    events = [e for e in governance.CallScheduled.range(record.block, chain.blocks.height + 1) if bytes(e.id) == op_id]
    if not events:
        raise GovernanceError(f"no change {operation} was scheduled on this deployment's governance "
                              "(`levtoken governance` lists the pending ones)")
    events.sort(key=lambda e: e.index)
    salts = [e.salt for e in governance.CallSalt.range(record.block, chain.blocks.height + 1) if bytes(e.id) == op_id]
    salt = bytes(salts[0]) if salts else ZERO_HASH
    first = events[0]
    if len(events) == 1:
        return governance.execute(first.target, first.value, bytes(first.data), bytes(first.predecessor), salt,
                                  sender=executor)
    return governance.executeBatch([e.target for e in events], [e.value for e in events],
                                   [bytes(e.data) for e in events], bytes(first.predecessor), salt, sender=executor)


def propose_settings(record, proposer, subject: str, settings: dict[str, str]):
    """Schedules new settings for `subject`, a token symbol (its Params) or a market symbol (its MarketConfig),
    each given in human units by Python or Solidity name (`streaming_fee_per_day=0.0002`, `takerFeeBps=6`), the
    rest kept; returns (the Pending change, its receipt). GovernanceError names an unknown subject or setting."""
    decimals = record.collateral_contract().decimals()
    if subject in record.tokens:
        target, shape = record.token(subject), Params
        current = Params.from_abi(target.params())
        method, prefix = "setParams", ()
    elif subject in record.markets:
        target = record.venue_contract(subject)
        shape = MoneyMarketConfig if record.venue_kind(subject) == MORPHO else MarketConfig
        current = shape.from_abi(target.marketConfig(record.markets[subject]))
        method, prefix = "setMarketConfig", (record.markets[subject],)
    else:
        known = ", ".join([*record.tokens, *record.markets])
        raise GovernanceError(f"{subject!r} is neither a token nor a market of this deployment ({known})")
    if not settings:
        raise GovernanceError("give at least one setting=value to change")
    for name, value in settings.items():
        try:
            if shape is MoneyMarketConfig and shape.sol_name(name) in MONEY_MARKET_FIXED:
                raise GovernanceError(f"market {subject}'s {shape.sol_name(name)} holds its tokens' loops and stays "
                                      "as listed; its heartbeat, maxSlippageBps, maxLtv and pool change")
            setattr(current, shape.python_name(name), shape.parse(name, value, decimals))
        except KeyError:
            known = ", ".join(sol for _, sol, _ in shape.table())
            raise GovernanceError(f"{subject} has no setting {name!r}; its settings: {known}") from None
        except ValueError as err:  # the same words as a config file's value gets (Struct.parse)
            raise GovernanceError(f"{name}={value!r} is not a value for that setting: it {err}") from None
    return _propose(record, proposer, Change(target, method, (*prefix, current.to_tuple())))


def propose_role(record, proposer, symbol: str, role: str, account: str, grant: bool = True):
    """Schedules granting (or, with `grant` false, revoking) token `symbol`'s `role` (admin, keeper or guardian)
    to `account`; returns (the Pending change, its receipt). GovernanceError names an unknown token or role, or an
    account that is not an address."""
    if symbol not in record.tokens:
        raise GovernanceError(f"{symbol!r} is not a token of this deployment ({', '.join(record.tokens)})")
    if role not in TOKEN_ROLES:
        raise GovernanceError(f"{role!r} is not a token role ({', '.join(TOKEN_ROLES)})")
    if not is_address(account):
        raise GovernanceError(f"{account!r} is not an address (0x followed by 40 hex digits)")
    method = "grantRole" if grant else "revokeRole"
    return _propose(record, proposer, Change(record.token(symbol), method, (TOKEN_ROLES[role], to_checksum_address(account))))


def _propose(record, proposer, change: Change):
    """Schedules `change` on the record's governance; returns (the Pending change, its receipt)."""
    target = change.target.address
    description = describe_call(record, target, change.data)
    governance = record.governance_contract()
    receipt = schedule(governance, proposer, change)
    op_id = change.operation_id(governance)
    tokens = tuple(sorted(affected_tokens(record, target, change.data)))
    return Pending("0x" + op_id.hex(), governance.getTimestamp(op_id), description, tokens), receipt


def governance_lines(record, from_block: int | None, to_block: int) -> list[str]:
    """The changes scheduled in blocks `from_block` (None: since the deployment) to `to_block` and still pending,
    one line each: id, what it does, when it lands (what the keeper logs)."""
    from levtoken.units import utc_text

    return [f"{c.id}: {c.description} (lands {utc_text(c.lands_at)})"
            for c in pending_changes(record, from_block, to_block)]


def cancel_pending(record, canceller, operation: str):
    """Cancels the scheduled operation `operation` (0x-hex id); returns the receipt (the governance's own error
    when it is not pending or the canceller may not)."""
    return record.governance_contract().cancel(_operation_id(operation), sender=canceller)


def _operation_id(operation: str) -> bytes:
    """The bytes of an operation id given as 0x-hex; GovernanceError when it is not hex."""
    try:
        return bytes.fromhex(operation.removeprefix("0x"))
    except ValueError:
        raise GovernanceError(f"{operation!r} is not an operation id (0x followed by 64 hex digits)") from None
