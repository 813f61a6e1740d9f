"""Fast paths for the replayer's many small reads and writes on a local node.

ape's contract calls and transactions are convenient but each costs several JSON-RPC round trips
(gas estimation, nonce, receipt polling). A replay of thousands of steps does the same few calls
each step, so this module batches reads into one HTTP request and sends transactions from anvil's
unlocked accounts with one `eth_sendTransaction` and a tightly polled receipt.
"""

from __future__ import annotations

import json
from typing import Any, Sequence

from web3 import Web3
from web3.contract.contract import ContractFunction


class TransactionFailed(Exception):
    """A fast-path transaction was mined with status 0; the message carries the revert reason if known."""


class FastRPC:
    """Batched calls and unlocked-account sends over the web3 connection of the active ape provider."""

    def __init__(self, provider, gas: int = 3_000_000):
        self.w3: Web3 = provider.web3
        self.gas = gas
        self._contracts: dict[str, Any] = {}

    def contract(self, ape_contract):
        """A web3 contract object for an ape contract instance (same address and ABI)."""
        address = ape_contract.address
        if address not in self._contracts:
            abi = json.loads(ape_contract.contract_type.model_dump_json(by_alias=True))["abi"]
            self._contracts[address] = self.w3.eth.contract(address=address, abi=abi)
        return self._contracts[address]

    def call_many(self, calls: Sequence[ContractFunction]) -> list[Any]:
        """Runs view calls in one batched HTTP request and returns their decoded results in order."""
        if not calls:
            return []
        with self.w3.batch_requests() as batch:
            for fn in calls:
                batch.add(fn)
            return list(batch.execute())

    def send(self, fn: ContractFunction, sender: str) -> dict:
        """Sends `fn` from an unlocked local account and returns the receipt; raises TransactionFailed
        (with the revert reason from a replayed call) if it was mined with status 0."""
        tx_hash = fn.transact({"from": sender, "gas": self.gas})
        receipt = self.w3.eth.wait_for_transaction_receipt(tx_hash, timeout=30, poll_latency=0.002)
        if receipt["status"] != 1:
            try:
                fn.call({"from": sender}, block_identifier=receipt["blockNumber"] - 1)
                reason = "reverted"
            except Exception as err:  # the node's revert message
                reason = str(err)
            raise TransactionFailed(f"{fn.fn_name} from {sender} reverted: {reason}")
        return receipt
