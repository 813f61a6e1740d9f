"""The compiled contracts' code sizes against the EVM's limits: EIP-170 on runtime code, EIP-3860 on init code.

The project keeps every contract at least MARGIN bytes under both, so a safety check never has to be traded
for bytes; the token's implementation and the factory's init code keep the larger rooms the benchmarks
target (TOKEN_ROOM, FACTORY_INIT_ROOM)."""

from __future__ import annotations

from dataclasses import dataclass

RUNTIME_LIMIT = 24_576  # EIP-170: largest runtime code a contract may have, bytes
INITCODE_LIMIT = 49_152  # EIP-3860: largest init code a creation may run, bytes
MARGIN = 2_048  # room every contract keeps under both limits
TOKEN_ROOM = 4_096  # room the LeveragedToken implementation keeps under EIP-170
FACTORY_INIT_ROOM = 16_384  # room the factory's init code keeps under EIP-3860
# The contracts a deployment puts on chain, in the order the benchmarks list them.
DEPLOYED = ("LeveragedToken", "LeveragedTokenLogic", "LeveragedTokenFactory", "PerpVenue", "PriceFeed",
            "MoneyMarketVenue", "DexQuoter", "FeedOracle")


@dataclass(frozen=True)
class CodeSize:
    """One compiled contract's runtime and init code sizes, bytes."""

    name: str
    runtime: int
    initcode: int

    @property
    def runtime_room(self) -> int:
        """Bytes left under EIP-170."""
        return RUNTIME_LIMIT - self.runtime

    @property
    def initcode_room(self) -> int:
        """Bytes left under EIP-3860."""
        return INITCODE_LIMIT - self.initcode


def _length(bytecode: str | None) -> int:
    return len(bytes.fromhex((bytecode or "0x")[2:]))


def code_size(name: str) -> CodeSize:
    """The sizes of project contract `name` as compiled (ape's project must be loaded)."""
    from ape import project

    contract_type = getattr(project, name).contract_type
    return CodeSize(name, _length(contract_type.runtime_bytecode.bytecode),
                    _length(contract_type.deployment_bytecode.bytecode))


def code_sizes(names: tuple[str, ...] | None = None) -> list[CodeSize]:
    """The sizes of `names` (default: every compiled contract that has code, interfaces and libraries with
    nothing deployed left out)."""
    from ape import project

    if names is None:
        names = tuple(sorted(ct.name for ct in project.contracts.values()
                             if ct.deployment_bytecode and ct.deployment_bytecode.bytecode not in (None, "0x")))
    return [code_size(name) for name in names]
