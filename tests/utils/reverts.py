"""One strict revert check for every test area: `with reverts(venue.StalePrice, updatedAt=t): ...`.

`ape.reverts(SomeError)` alone is lenient in three ways this check is not:

- a revert ape could not decode (an error raised in a nested call, such as the venue's StalePrice inside
  a token call, or any error of a view call) passes `ape.reverts(SomeError)` whatever it was; here its
  data is decoded by the expected error's selector, and a different selector fails;
- an input named in the check but absent from the error is skipped by ape; here it fails;
- ape compares the error's class with the contract it came from, so an error declared by several
  contracts (ZeroAmount, SlippageExceeded, ReentrancyGuardReentrantCall) may be decoded with another
  contract's class than the one a test names. Here the error is matched by name and selector, so
  `reverts(token.ZeroAmount)` and `reverts(venue.ZeroAmount)` both accept either contract's.

The provider prints the call trace of every failed transaction; for an expected revert that is noise and
enriching the trace costs seconds, so printing is switched off inside the block.
"""

from __future__ import annotations

from contextlib import contextmanager
from typing import Any, Iterator

import ape
from ape.exceptions import ContractLogicError, CustomError
from ape.pytest.contextmanagers import RevertInfo
from ape_ethereum.trace import Trace
from eth_abi import decode
from eth_utils import keccak, to_checksum_address
from ethpm_types.abi import ErrorABI

from levtoken.keeper.reverts import revert_data
from tests.utils.requests import quiet


def error_abi(error: Any) -> ErrorABI:
    """The ErrorABI of a contract's error class (`venue.StalePrice`), or the ErrorABI itself."""
    return error if isinstance(error, ErrorABI) else error.abi


def error_selector(error: Any) -> str:
    """0x-hex 4-byte selector of an error class or ErrorABI."""
    return "0x" + keccak(text=error_abi(error).selector)[:4].hex()


def decode_inputs(abi: ErrorABI, data: str) -> dict[str, Any]:
    """The named inputs of an error from its 0x-hex revert data (addresses checksummed, as ape gives them)."""
    types = [i.canonical_type for i in abi.inputs]
    values = decode(types, bytes.fromhex(data[10:]))
    return {
        i.name: to_checksum_address(v) if t == "address" else v for i, t, v in zip(abi.inputs, types, values)
    }


def _check(exc: ContractLogicError, error: Any, inputs: dict[str, Any]) -> None:
    """Asserts that `exc` is `error` (by name and selector) with the given inputs."""
    abi = error_abi(error)
    selector = error_selector(abi)
    if isinstance(exc, CustomError):
        got = f"{exc.abi.name} ({error_selector(exc.abi)})"
        assert (exc.abi.name, error_selector(exc.abi)) == (abi.name, selector), f"expected {abi.name} ({selector}), got {got}"
        actual = dict(exc.inputs)
    else:
        data = revert_data(exc)
        assert data.startswith(selector), f"expected {abi.name} ({selector}), got {data!r}"
        actual = decode_inputs(abi, data)
    for name, expected in inputs.items():
        assert name in actual, f"{abi.name} has no input {name!r} (inputs: {sorted(actual)})"
        assert actual[name] == expected, f"{abi.name}.{name}: expected {expected!r}, got {actual[name]!r}"


@contextmanager
def reverts(error: Any, **inputs: Any) -> Iterator[RevertInfo]:
    """Asserts the block reverts with `error` (a contract's error class, from any contract that declares
    it) and, for each keyword, that input's value. Yields ape's RevertInfo (`.value` is the exception)."""
    show = Trace.show
    Trace.show = lambda self, *args, **kwargs: None
    try:
        with ape.reverts() as info:  # any revert; identified below
            yield info
    finally:
        Trace.show = show
    _check(info.value, error, inputs)


def attempt(contract, call, *allowed: str) -> bool:
    """Sends `call()`: True if it succeeded, False if it reverted with one of the `allowed` errors of `contract`
    (by name); any other revert fails the test."""
    with quiet():
        try:
            call()
            return True
        except ContractLogicError as exc:
            if isinstance(exc, CustomError):
                name = exc.abi.name
            else:
                data = revert_data(exc)
                names = [n for n in allowed if data.startswith(error_selector(getattr(contract, n)))]
                name = names[0] if names else data
            assert name in allowed, f"unexpected revert {name}"
            return False
