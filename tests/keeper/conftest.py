"""Keeper fixtures: tokens with holders, a Keeper on the session's anvil chain, an anvil of a test's own."""

from __future__ import annotations

import logging
from contextlib import contextmanager

import pytest
from keeper_nodes import OwnNode

from levtoken.keeper import Keeper


@pytest.fixture
def funded_token(create_token, deposit, whale):
    """funded_token(leverage, amount=10_000, **params) -> a token with `amount` tUSD deposited by the whale
    (requested, settled and claimed: nothing waits)."""

    def make(leverage=3, amount=10_000, **overrides):
        token = create_token(leverage, **overrides)
        deposit(token, whale, amount)
        return token

    return make


@pytest.fixture
def make_keeper(keeper):
    """make_keeper(*tokens, **options) -> Keeper sending from the `keeper` account (which has KEEPER_ROLE)."""

    def make(*tokens, sender=None, **options):
        options.setdefault("backoff_initial", 0.2)
        options.setdefault("log", logging.getLogger("levtoken.keeper"))
        return Keeper({token.symbol(): token for token in tokens}, sender or keeper, **options)

    return make


@pytest.fixture
def manual_mining(chain):
    """`with manual_mining():` turns anvil's automine off (transactions stay pending until chain.mine())."""

    @contextmanager
    def off():
        chain.provider.auto_mine = False
        try:
            yield chain
        finally:
            chain.provider.auto_mine = True

    return off



@pytest.fixture
def own_node(tmp_path):
    node = OwnNode(tmp_path)
    node.start()
    try:
        yield node
    finally:
        node.stop()
