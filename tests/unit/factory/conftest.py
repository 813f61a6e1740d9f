"""Fixtures for the factory unit tests: a token spec builder and a strict revert check."""

from __future__ import annotations

from contextlib import contextmanager

import ape
import pytest
from ape_ethereum.trace import Trace
from eth_utils import keccak

from levtoken.deployment import params_dict, params_tuple
from levtoken.units import to_wad


@contextmanager
def strict_reverts(error, **inputs):
    """ape.reverts(error, **inputs), also checking the selector of a revert ape could not decode."""
    show = Trace.show  # the call trace of an expected revert is noise and slow to enrich
    Trace.show = lambda self, *args, **kwargs: None
    try:
        with ape.reverts(error, **inputs) as info:
            yield info
    finally:
        Trace.show = show
    exc = info.value
    if isinstance(exc, ape.exceptions.CustomError):
        assert type(exc).__name__ == error.abi.name, f"expected {error.abi.name}, got {type(exc).__name__}"
        return
    signature = f"{error.abi.name}({','.join(i.canonical_type for i in error.abi.inputs)})"
    data = str(exc.revert_message or "").replace("custom error ", "").replace(":", "").replace(" ", "")
    selector = keccak(text=signature).hex()[:8]
    assert data.removeprefix("0x").startswith(selector), f"expected {error.abi.name}, got {data!r}"


@pytest.fixture(scope="session")
def reverts():
    return strict_reverts


@pytest.fixture(scope="session")
def spec(factory, keeper, gov, fee_recipient):
    """spec(leverage, market=1, max_leverage=0, **param_overrides) -> TokenSpec tuple."""

    def _spec(leverage, market=1, max_leverage=0, **overrides):
        lev = to_wad(leverage)
        params = params_dict(factory.defaultParams(lev, fee_recipient))
        params.update(overrides)
        return (market, lev, max_leverage, params_tuple(params), keeper.address, gov.address)

    return _spec
