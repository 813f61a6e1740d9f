"""Fixtures for the reference-model tests: chain time control, raw JSON-RPC calls (fast, with reverts
decoded by selector) and a reader that builds a `levtoken.model.Model` from the deployed contracts.

Hypothesis profiles: "model-fast" (the default here: a few short examples, so `ape test` stays quick)
and "long" (`HYPOTHESIS_PROFILE=long ape test -m slow`, thousands of steps), from tests.utils.strategies.
"""

from __future__ import annotations

from typing import Any

import pytest
from ape import project
from eth_abi import decode
from eth_utils import keccak, to_hex

import tests.utils.strategies  # noqa: F401  (registers the hypothesis profiles)
from levtoken.model import Model, model_from_chain

PANIC_SELECTOR = "4e487b71"


class RawChain:
    """Calls and transactions over raw JSON-RPC: several times faster than ape's contract handlers,
    and a revert costs milliseconds instead of ape's source-level error enrichment. Reverts are
    decoded by selector from the project's ABIs."""

    def __init__(self, chain, contract_types) -> None:
        self.chain = chain
        self.rpc = chain.provider.web3.provider
        self.errors: dict[str, str] = {PANIC_SELECTOR: "Panic"}
        self.inputs: dict[str, list[str]] = {PANIC_SELECTOR: ["uint256"]}
        for contract_type in contract_types:
            for error in contract_type.errors:
                selector = keccak(text=error.selector)[:4].hex()
                self.errors[selector] = error.name
                self.inputs[selector] = [i.canonical_type for i in error.inputs]

    def name_of(self, data: str | None) -> str | None:
        """The error's name from revert data (None when there is no data)."""
        if not data or len(data) < 10:
            return None
        return self.errors.get(data[2:10].lower(), data[:10])

    def arguments_of(self, data: str | None) -> tuple | None:
        """The error's arguments from revert data (None when the error is not known)."""
        if not data or len(data) < 10 or data[2:10].lower() not in self.inputs:
            return None
        return tuple(decode(self.inputs[data[2:10].lower()], bytes.fromhex(data[10:])))

    def call(self, contract, method: str, *args) -> tuple[bool, Any]:
        """eth_call at the head block: (False, the decoded return value: a tuple for a struct or
        several values) or (True, the error's name)."""
        handler = getattr(contract, method)
        data = handler.encode_input(*args)
        response = self.rpc.make_request("eth_call", [{"to": str(contract.address), "data": to_hex(data)}, "latest"])
        if "error" in response:
            return True, self.name_of(response["error"].get("data"))
        types = [output.canonical_type for output in handler.abis[0].outputs]
        values = decode(types, bytes.fromhex(response["result"][2:]))
        return False, values[0] if len(values) == 1 else values

    def send(self, sender, contract, method: str, *args) -> tuple[bool, str | None, tuple | None]:
        """A transaction, mined even if it reverts: (reverted, error name, error arguments)."""
        data = getattr(contract, method).encode_input(*args)
        tx = {"from": str(sender.address), "to": str(contract.address), "data": to_hex(data), "gas": hex(10_000_000)}
        response = self.rpc.make_request("eth_sendTransaction", [tx])
        assert "result" in response, f"{method}: {response}"
        tx_hash = response["result"]
        receipt = self.chain.provider.web3.eth.wait_for_transaction_receipt(tx_hash, timeout=30, poll_latency=0.005)
        if receipt["status"] == 1:
            return False, None, None
        trace = self.rpc.make_request("debug_traceTransaction", [tx_hash, {"tracer": "callTracer"}])["result"]
        return True, self.name_of(trace.get("output")), self.arguments_of(trace.get("output"))


@pytest.fixture
def raw_chain(chain):
    """RawChain decoding the errors of the venue, token, feed and stablecoin."""
    names = ("PerpVenue", "LeveragedToken", "PriceFeed", "TestStablecoin", "DelayedOrders")
    return RawChain(chain, [getattr(project, name).contract_type for name in names])


@pytest.fixture
def pin_time(chain):
    """pin_time(ts): the next transaction is mined at `ts` (equal timestamps are allowed)."""

    def _pin(ts: int) -> None:
        chain.provider.make_request("evm_setNextBlockTimestamp", [ts])

    return _pin


@pytest.fixture
def mine_at(chain):
    """mine_at(ts): mines an empty block at `ts`, so views see that time."""

    def _mine(ts: int) -> None:
        chain.provider.make_request("evm_mine", [ts])

    return _mine


@pytest.fixture
def read_model(chain, venue, feed, usd, gov, keeper, lp, orders):
    """read_model(tokens, accounts) -> Model mirroring the chain now (venue market 1, its feed, its DelayedOrders,
    the tokens' state and the collateral balances of `accounts`, the tokens and the venue)."""

    def _read(tokens, accounts) -> Model:
        model = model_from_chain(venue, feed, usd, tokens, accounts, owner=gov.address, keeper=keeper.address,
                                 lps=[lp], orders=orders)
        model.now = chain.blocks.head.timestamp
        return model

    return _read
