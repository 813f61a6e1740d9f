"""A leveraged token's life on the money-market venue."""

from __future__ import annotations


def test_smoke(mm, mm_token, deposit, fish, usd):
    token = mm_token(3)
    deposit(token, fish, 10_000)
    value, size, price = mm.venue.accountState(1, token.address)
    print(value, size, price, mm.venue.book(1, token.address))
    assert size > 0
