"""Code size: every compiled contract keeps MARGIN bytes under EIP-170 (runtime) and EIP-3860 (init code); the
token's implementation and the factory's init code keep the rooms the benchmarks target; the optimizer runs at
least 200 times, so no contract fits only by being compiled for size."""

from __future__ import annotations

import pytest
from ape import project

from levtoken.code_size import FACTORY_INIT_ROOM, MARGIN, TOKEN_ROOM, code_size, code_sizes


@pytest.mark.parametrize("size", code_sizes(), ids=lambda size: size.name)
def test_code_size__every_contract__margin_under_both_limits(size):
    assert size.runtime_room >= MARGIN, f"{size.name}: {size.runtime:,} B of runtime code, {size.runtime_room:,} B under EIP-170"
    assert size.initcode_room >= MARGIN, f"{size.name}: {size.initcode:,} B of init code, {size.initcode_room:,} B under EIP-3860"


def test_code_size__token_implementation_and_factory__their_rooms():
    assert code_size("LeveragedToken").runtime_room >= TOKEN_ROOM
    assert code_size("LeveragedTokenFactory").initcode_room >= FACTORY_INIT_ROOM


def test_compiler__optimizer__at_least_200_runs():
    settings = project.config.solidity
    assert settings.optimize and settings.optimization_runs >= 200
