"""Fixtures for the factory unit tests: a token spec builder."""

from __future__ import annotations

import pytest

from levtoken.deployment import params_dict, params_tuple
from levtoken.units import to_wad


@pytest.fixture(scope="session")
def spec(factory, keeper, gov, fee_recipient):
    """spec(leverage, market=1, max_leverage=0, **param_overrides) -> TokenSpec tuple."""

    def _spec(leverage, market=1, max_leverage=0, **overrides):
        lev = to_wad(leverage)
        params = params_dict(factory.defaultParams(lev, fee_recipient))
        params.update(overrides)
        return (market, lev, max_leverage, params_tuple(params), keeper.address, gov.address)

    return _spec
