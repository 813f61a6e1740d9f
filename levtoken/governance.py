"""Governance: the timelock that owns the venue, the factory and DelayedOrders and administers every token
(contracts/Governance.sol, DESIGN.md 11).

Deploying it, handing the protocol's privileged roles over to it, and the life of one change: scheduled by a
proposer, ready after the delay, executed by anyone, or cancelled by a proposer or a guardian before then.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Iterable

from ape import project

ZERO_ADDRESS = "0x" + "00" * 20
ZERO_HASH = b"\x00" * 32
DEFAULT_ADMIN_ROLE = b"\x00" * 32


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
