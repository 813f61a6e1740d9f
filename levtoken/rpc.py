"""A thin JSON-RPC client for the replay's hot loop on a local node.

ape's and web3.py's contract calls are convenient, but each costs several round trips (fee and nonce
look-ups, receipt polling) and a look-up of its ABI entry, and a replay of thousands of prices makes the
same few calls at every price. Here the calldata of each function is built from a selector and ABI types
resolved once (`eth-abi` directly), reads that do not depend on each other go out as one batched request
over one keep-alive connection, and a transaction from one of the node's unlocked accounts is one
`eth_sendTransactionSync` (EIP-7966) that returns its receipt once mined.

Reads of one block go further: given Multicall3's code (`RPC.of` takes it from the project's
contracts/tooling/Multicall3.sol), they become one `eth_call` of `aggregate3` at the canonical Multicall3
address with that code supplied as a state override, so the node runs one EVM call for all of them instead of
one per read (nothing is deployed; on a public chain the same address holds the same function). A node that
refuses state overrides gets the plain batch instead, from its first refusal on.

A batch is not a sequence: the node may run its requests in any order, so a batch only holds requests that
do not depend on each other (reads of one state, never a read after a send).
"""

from __future__ import annotations

import http.client
import json
import time
from dataclasses import dataclass
from functools import cached_property, lru_cache
from typing import Any, Callable, Iterable, Sequence
from urllib.parse import urlsplit

from eth_abi import decode, encode
from eth_utils import keccak, to_checksum_address

Request = tuple[str, list]  # (method, params)

MULTICALL3 = "0xcA11bde05977b3631167028862bE2a173976CA11"  # Multicall3's address on every chain that has it


class RPCError(Exception):
    """The node answered a request with an error; `data` is its revert data (0x-hex) when it has any."""

    def __init__(self, message: str, data: str | None = None):
        super().__init__(message)
        self.data = data


class TransactionFailed(Exception):
    """A transaction was mined with status 0; the message names the contract's error and its arguments."""


def quantity(value: str | int) -> int:
    """A JSON-RPC quantity as an int (0x-hex, or a plain number as some fields of a node's answers are)."""
    return int(value, 16) if isinstance(value, str) else int(value)


def abi_type(param: dict) -> str:
    """The canonical ABI type of a parameter (`(uint256,int256)` for a struct, `(..)[]` for an array of them)."""
    kind = param["type"]
    if kind.startswith("tuple"):
        return "(" + ",".join(abi_type(c) for c in param["components"]) + ")" + kind[len("tuple"):]
    return kind


def _static_reader(kind: str) -> Callable[[bytes, int], tuple[Any, int]] | None:
    """A reader of a static ABI type's value at an offset of encoded data (value and the offset after it), as
    eth-abi decodes it, reading the words directly; None for a dynamic type (bytes, string, arrays), which
    eth-abi decodes."""
    if kind.endswith("]"):
        return None
    if kind.startswith("("):
        readers = [_static_reader(part) for part in _split(kind[1:-1])]
        if any(reader is None for reader in readers):
            return None

        def read_tuple(data: bytes, at: int) -> tuple[Any, int]:
            values = []
            for reader in readers:
                value, at = reader(data, at)
                values.append(value)
            return tuple(values), at

        return read_tuple
    if kind.startswith("uint"):
        return lambda data, at: (int.from_bytes(data[at:at + 32], "big"), at + 32)
    if kind.startswith("int"):
        return lambda data, at: (int.from_bytes(data[at:at + 32], "big", signed=True), at + 32)
    if kind == "bool":
        return lambda data, at: (data[at + 31] == 1, at + 32)
    if kind == "address":
        return lambda data, at: ("0x" + data[at + 12:at + 32].hex(), at + 32)
    if kind.startswith("bytes") and kind != "bytes":
        return lambda data, at: (data[at:at + int(kind[5:])], at + 32)
    return None


def _split(types: str) -> list[str]:
    """The top-level types of a comma-separated list (commas inside a struct's parentheses stay)."""
    parts, depth, start = [], 0, 0
    for i, char in enumerate(types):
        depth += (char == "(") - (char == ")")
        if char == "," and depth == 0:
            parts.append(types[start:i])
            start = i + 1
    return parts + [types[start:]] if types else parts


def _value(kind: str, value: Any) -> Any:
    """A decoded value as web3 gives it: an address checksummed (inside a struct it stays as eth-abi gives it)."""
    return to_checksum_address(value) if kind == "address" else value


@dataclass(frozen=True)
class Function:
    """One contract function: its selector and ABI types, resolved once."""

    name: str
    selector: bytes
    inputs: tuple[str, ...]
    outputs: tuple[str, ...]

    @classmethod
    def from_abi(cls, entry: dict) -> "Function":
        """From a function's ABI entry."""
        inputs = tuple(abi_type(p) for p in entry["inputs"])
        return cls(entry["name"], keccak(text=f"{entry['name']}({','.join(inputs)})")[:4], inputs,
                   tuple(abi_type(p) for p in entry["outputs"]))

    def data(self, *args: Any) -> str:
        """The calldata (0x-hex) of a call with `args`."""
        return "0x" + (self.selector + (encode(self.inputs, args) if self.inputs else b"")).hex()

    @cached_property
    def _reader(self) -> Callable[[bytes, int], tuple[Any, int]] | None:
        return _static_reader("(" + ",".join(self.outputs) + ")")

    def result(self, raw: str | bytes) -> Any:
        """The returned value (a tuple when the function returns several) from an eth_call's result (0x-hex, or
        the bytes a Multicall3 result holds)."""
        data = bytes.fromhex(raw[2:]) if isinstance(raw, str) else raw
        decoded, end = self._reader(data, 0) if self._reader is not None else (None, None)
        if end is None or end > len(data):  # dynamic types, or too few bytes (eth-abi says so)
            decoded = decode(self.outputs, data)
        values = tuple(_value(k, v) for k, v in zip(self.outputs, decoded))
        return values[0] if len(values) == 1 else values


@dataclass(frozen=True)
class Event:
    """One contract event: its topic and the types of its indexed and data arguments, resolved once."""

    name: str
    topic: str
    names: tuple[str, ...]
    indexed: tuple[bool, ...]
    types: tuple[str, ...]

    @classmethod
    def from_abi(cls, entry: dict) -> "Event":
        """From an event's ABI entry."""
        types = tuple(abi_type(p) for p in entry["inputs"])
        topic = "0x" + keccak(text=f"{entry['name']}({','.join(types)})").hex()
        return cls(entry["name"], topic, tuple(p["name"] for p in entry["inputs"]),
                   tuple(p["indexed"] for p in entry["inputs"]), types)

    def args(self, log: dict) -> dict[str, Any]:
        """The event's arguments by name from a raw log (an indexed struct or array stays its topic hash)."""
        data = iter(decode([t for t, i in zip(self.types, self.indexed) if not i], bytes.fromhex(log["data"][2:])))
        topics = iter(log["topics"][1:])
        values = {}
        for name, indexed, kind in zip(self.names, self.indexed, self.types):
            if not indexed:
                values[name] = _value(kind, next(data))
            elif kind.startswith("(") or kind.endswith("]") or kind in ("string", "bytes"):
                values[name] = next(topics)
            else:
                values[name] = _value(kind, decode([kind], bytes.fromhex(next(topics)[2:]))[0])
        return values


class Contract:
    """A contract's address with its functions and events by name."""

    def __init__(self, address: str, abi: Iterable[dict]):
        self.address = to_checksum_address(address)
        abi = list(abi)
        self.functions = {e["name"]: Function.from_abi(e) for e in abi if e["type"] == "function"}
        self.events = {e["name"]: Event.from_abi(e) for e in abi if e["type"] == "event"}

    def call(self, name: str, *args: Any, block: int | str = "latest") -> "Call":
        """A read of function `name` with `args` at `block`, to run with `RPC.call` or `RPC.call_many`."""
        function = self.functions[name]
        return Call(function, {"to": self.address, "data": function.data(*args)}, block)


@dataclass(frozen=True)
class Call:
    """A prepared read: the function (to decode its result), the eth_call's transaction object and its block."""

    function: Function
    tx: dict
    block: int | str = "latest"

    @property
    def request(self) -> Request:
        """The eth_call request at the call's block."""
        return "eth_call", [self.tx, hex(self.block) if isinstance(self.block, int) else self.block]


@lru_cache(maxsize=256)
def _aggregate3_data(aggregate3: Function, calls: tuple[tuple[str, str], ...]) -> str:
    """The calldata of aggregate3 over (target, calldata) pairs, each allowed to fail (a replay sends the same
    reads at every step: encoded once)."""
    return aggregate3.data([(to, True, bytes.fromhex(data[2:])) for to, data in calls])


def _aggregate3_results(raw: str) -> list[tuple[bool, bytes]]:
    """The (success, return data) pairs of aggregate3's 0x-hex result, read from the words of its encoding (a
    `(bool,bytes)[]`: the array's offset and length, each element's offset, then its flag and its bytes)."""
    data = bytes.fromhex(raw[2:])

    def word(at: int) -> int:
        return int.from_bytes(data[at:at + 32], "big")

    array = word(0)
    heads = array + 32
    results = []
    for i in range(word(array)):
        element = heads + word(heads + 32 * i)
        returned = element + word(element + 32)
        results.append((data[element + 31] == 1, data[returned + 32:returned + 32 + word(returned)]))
    return results


class RPC:
    """One keep-alive HTTP connection to a JSON-RPC node: single and batched requests, prepared reads, and
    transactions from the node's unlocked accounts."""

    def __init__(self, url: str, gas: int = 3_000_000, timeout: float = 60.0, multicall: Contract | None = None,
                 multicall_code: str | None = None):
        """`url` is the node's HTTP endpoint; `gas` the gas of each transaction sent; `multicall`, the Multicall3
        contract at MULTICALL3, and `multicall_code`, its runtime code (0x-hex), make reads of one block one
        aggregated call (without them each read is its own eth_call in a batch)."""
        self.url = url
        parts = urlsplit(url)
        self.host, self.port = parts.hostname or "127.0.0.1", parts.port or 80
        self.path = parts.path or "/"
        self.gas = gas
        self.timeout = timeout
        self._connection: http.client.HTTPConnection | None = None
        self._id = 0
        self.waited = 0.0  # seconds spent waiting for the node's answers (from sending a request to its answer)
        self.multicall = multicall if multicall_code else None
        self._override = {multicall.address: {"code": multicall_code}} if self.multicall else None

    @classmethod
    def of(cls, provider) -> "RPC":
        """The client for an ape provider's node (its HTTP URI), reading through the project's Multicall3."""
        from ape import project

        multicall = project.Multicall3.contract_type
        return cls(provider.http_uri, multicall=Contract(MULTICALL3, cls._abi(multicall)),
                   multicall_code=multicall.runtime_bytecode.bytecode)

    @staticmethod
    def _abi(contract_type) -> list[dict]:
        return json.loads(contract_type.model_dump_json(by_alias=True))["abi"]

    def contract(self, ape_contract) -> Contract:
        """A `Contract` for an ape contract instance (same address and ABI)."""
        return Contract(ape_contract.address, self._abi(ape_contract.contract_type))

    # --- transport -------------------------------------------------------------------------------
    def _post(self, body: bytes, retry: bool) -> Any:
        """Posts a JSON body on the kept-alive connection and returns the decoded answer; a connection the
        node closed while idle is opened again (and the body sent again only when `retry`)."""
        for attempt in (0, 1):
            if self._connection is None:
                self._connection = http.client.HTTPConnection(self.host, self.port, timeout=self.timeout)
            started = time.perf_counter()
            try:
                self._connection.request("POST", self.path, body, {"Content-Type": "application/json"})
                answer = self._connection.getresponse().read()
                self.waited += time.perf_counter() - started
                return json.loads(answer)
            except (ConnectionError, http.client.HTTPException):
                self._connection.close()
                self._connection = None
                if attempt or not retry:
                    raise

    def _next_id(self) -> int:
        self._id += 1
        return self._id

    @staticmethod
    def _result(answer: dict) -> Any:
        if "error" in answer:
            error = answer["error"]
            data = error.get("data")
            raise RPCError(error.get("message", str(error)), data if isinstance(data, str) else None)
        return answer["result"]

    def request(self, method: str, params: list, retry: bool = True) -> Any:
        """One request; its result, or RPCError."""
        body = json.dumps({"jsonrpc": "2.0", "id": self._next_id(), "method": method, "params": params})
        return self._result(self._post(body.encode(), retry))

    def answers(self, requests: Sequence[Request]) -> list[dict]:
        """Independent requests in one round trip; the node's answers in order, errors included."""
        if not requests:
            return []
        first = self._id + 1
        self._id += len(requests)
        body = json.dumps([{"jsonrpc": "2.0", "id": first + i, "method": m, "params": p}
                           for i, (m, p) in enumerate(requests)])
        answers = self._post(body.encode(), retry=True)
        if not isinstance(answers, list):  # the node refused the whole batch
            raise RPCError(f"the node refused a batch of {len(requests)} requests: {answers.get('error')}")
        return sorted(answers, key=lambda a: a["id"])

    def batch(self, requests: Sequence[Request]) -> list[Any]:
        """Independent requests in one round trip; their results in order (RPCError on the first error)."""
        return [self._result(answer) for answer in self.answers(requests)]

    # --- reads ---------------------------------------------------------------------------------
    def call(self, call: Call) -> Any:
        """One read's decoded result."""
        return call.function.result(self.request(*call.request))

    def call_many(self, calls: Sequence[Call]) -> list[Any]:
        """Reads in one round trip; their decoded results in order (RPCError, with its revert data, for the first
        read that reverted)."""
        return self.requests_and_calls([], calls)[1]

    def call_many_or_none(self, calls: Sequence[Call]) -> list[Any]:
        """Reads in one round trip; each decoded result, or None for a read that reverted (a stale price) or
        found no contract (a block before it was deployed)."""
        return self.requests_and_calls([], calls, or_none=True)[1]

    def requests_and_calls(self, requests: Sequence[Request], calls: Sequence[Call], or_none: bool = False
                           ) -> tuple[list[Any], list[Any]]:
        """Independent requests and reads in one round trip: the requests' results (RPCError on the first error)
        and the reads' decoded results (as `call_many`, or as `call_many_or_none` with `or_none`). Reads of one
        block are one aggregated call when the client has Multicall3."""
        answers, reads = (self._aggregated(requests, calls, or_none) if self.multicall is not None else None) \
            or self._one_by_one(requests, calls, or_none)
        return [self._result(a) for a in answers[: len(requests)]], reads

    def _aggregated(self, requests: Sequence[Request], calls: Sequence[Call], or_none: bool
                    ) -> tuple[list[dict], list[Any]] | None:
        """`requests` and one aggregated call per block of `calls`: the answers and the reads, or None when an
        aggregated call failed."""
        blocks = list(dict.fromkeys(call.block for call in calls))
        answers = self.answers([*requests, *(self._aggregate_request([c for c in calls if c.block == block], block)
                                             for block in blocks)])
        aggregated = answers[len(requests):]
        if any("error" in answer for answer in aggregated):
            return None
        outcomes = {block: iter(_aggregate3_results(answer["result"])) for block, answer in zip(blocks, aggregated)}
        return answers, [self._read(call, *next(outcomes[call.block]), or_none) for call in calls]

    def _one_by_one(self, requests: Sequence[Request], calls: Sequence[Call], or_none: bool
                    ) -> tuple[list[dict], list[Any]]:
        """`requests` and one eth_call per read: the answers and the reads. A node that answers these reads
        but failed their aggregated call refuses the override: reads go one by one from then on."""
        answers = self.answers([*requests, *(call.request for call in calls)])
        plain = answers[len(requests):]
        if self.multicall is not None and any("error" not in answer for answer in plain):
            self.multicall = None
        return answers, [self._read(call, "error" not in a, a["result"] if "error" not in a else a["error"].get("data"),
                                    or_none) for call, a in zip(calls, plain)]

    def _aggregate_request(self, calls: Sequence[Call], block: int | str) -> Request:
        """The eth_call of Multicall3's aggregate3 over `calls` at `block`, with Multicall3's code as an override."""
        data = _aggregate3_data(self.multicall.functions["aggregate3"], tuple((c.tx["to"], c.tx["data"]) for c in calls))
        return "eth_call", [{"to": self.multicall.address, "data": data},
                            hex(block) if isinstance(block, int) else block, self._override]

    @staticmethod
    def _read(call: Call, success: bool, data: str | bytes | None, or_none: bool) -> Any:
        """One read's decoded result from its outcome: success and its return data, or its revert data (0x-hex
        from a node's error, bytes from aggregate3)."""
        raw = bytes.fromhex(data[2:]) if isinstance(data, str) else data if isinstance(data, bytes) else b""
        if success and raw:
            return call.function.result(raw)
        if or_none:
            return None
        if success:
            raise RPCError(f"{call.function.name}: no contract at {call.tx['to']}")
        raise RPCError(f"{call.function.name} reverted", "0x" + raw.hex() if raw else None)

    def block_number(self) -> int:
        """The latest block's number."""
        return int(self.request("eth_blockNumber", []), 16)

    def block(self, number: int | str = "latest") -> dict:
        """A block's header (transactions as hashes)."""
        return self.request("eth_getBlockByNumber", [hex(number) if isinstance(number, int) else number, False])

    def logs_request(self, addresses: str | list[str], first: int, last: int | str, topics: list) -> Request:
        """The eth_getLogs request for `addresses` over blocks `first` to `last` (inclusive)."""
        return "eth_getLogs", [{"address": addresses, "fromBlock": hex(first),
                                "toBlock": hex(last) if isinstance(last, int) else last, "topics": topics}]

    def logs(self, addresses: str | list[str], first: int, last: int | str, topics: list) -> list[dict]:
        """Raw logs of `addresses` over a range of blocks."""
        return self.request(*self.logs_request(addresses, first, last, topics))

    # --- transactions --------------------------------------------------------------------------
    def send(self, contract: Contract, name: str, *args: Any, sender: str) -> dict:
        """Sends `name(args)` to `contract` from an unlocked account of the node and returns the receipt once
        mined; raises TransactionFailed, with the contract's error by name, when it reverted."""
        function = contract.functions[name]
        tx = {"from": sender, "to": contract.address, "data": function.data(*args), "gas": hex(self.gas)}
        try:
            receipt = self.request("eth_sendTransactionSync", [tx], retry=False)
        except RPCError as err:  # a node that refuses to mine a reverting transaction says why at once
            raise TransactionFailed(f"{name} from {sender} reverted: {self._revert(err)}") from None
        if quantity(receipt["status"]) != 1:
            try:  # the same call on the state it ran on gives the revert data
                self.request("eth_call", [tx, hex(quantity(receipt["blockNumber"]) - 1)])
                reason = "reverted"
            except RPCError as err:
                reason = self._revert(err)
            raise TransactionFailed(f"{name} from {sender} reverted: {reason}")
        return receipt

    @staticmethod
    def _revert(err: RPCError) -> str:
        from levtoken.keeper.reverts import describe_revert_data

        return (describe_revert_data(err.data) if err.data else None) or str(err)
