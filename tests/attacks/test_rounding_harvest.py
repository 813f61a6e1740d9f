"""Harvesting rounding: many tiny requests and claims at one price.

Every amount rounds in favour of the holders who stay: a settlement's shares and assets round down, its fee
shares and its cost share up; a controller's part of an epoch rounds down; a partial claim rounds its output
down (by input) or its input up (by output), and the last claim takes exactly what is left. A loop of tiny
deposits and redemptions, netted in one settlement per round, can therefore only lose: the attacker's
collateral never rises above its start, and no other holder's claim (convertToAssets of its shares) ever
falls. Time must pass for each round, so the token's streaming fee and the market's funding are set to
zero here: they would move the claims by more than any rounding.
"""

import random

import pytest

from levtoken.shapes import MarketConfig
from levtoken.units import to_feed
from tests.utils.chain import advance
from tests.utils.constants import BTC
from tests.utils.requests import settlement_of

ROUNDS = 12
P0 = 30_000


@pytest.fixture
def quiet_token(create_token, deposit, venue, gov, whale, fish):
    """A 3x token without streaming fee on a market without funding, with two holders."""
    config = {**MarketConfig.abi_dict(venue.marketConfig(BTC)), "maxFundingRatePerDay": 0}
    venue.setMarketConfig(BTC, config, sender=gov)
    token = create_token(3, streamingFeePerDay=0)
    deposit(token, whale, 100_000)
    deposit(token, fish, 1_000)
    return token


def test_tiny_requests_and_claims__attacker_never_gains_holders_never_lose(
    quiet_token, chain, feed, gov, keeper, fund, usd, whale, fish, stranger, fee_recipient
):
    token, attacker = quiet_token, stranger
    start = fund(attacker, 1, token)  # 1 USD = 1,000,000 units, enough for every round
    holders = [whale, fish, fee_recipient]
    shares = {h: token.balanceOf(h) for h in holders}
    claims = {h: token.convertToAssets(shares[h]) for h in holders}
    rng = random.Random(7)
    amounts = [1, 2, 3, 10, 999, 1_000] + [rng.randint(1, 1_000) for _ in range(ROUNDS - 6)]
    redeemed = 0

    for amount in amounts:
        # This round's tiny deposit and the full redemption of what the last one gave, settled together.
        token.requestDeposit(amount, attacker, attacker, sender=attacker)
        held = token.balanceOf(attacker)
        if held:
            token.requestRedeem(held, attacker, attacker, sender=attacker)
        advance(chain, 1)
        feed.submit(to_feed(P0), sender=gov)
        token.settle(sender=keeper)
        token.deposit(amount, attacker, sender=attacker)
        if held:
            token.redeem(held, attacker, attacker, sender=attacker)
            redeemed += 1
        assert usd.balanceOf(attacker) <= start
        for h in holders:
            if h != fee_recipient:  # the fee recipient's shares grow with every fee; its claim is checked below
                assert token.balanceOf(h) == shares[h]
            now = token.convertToAssets(token.balanceOf(h) if h == fee_recipient else shares[h])
            assert now >= claims[h], f"claim of {h} fell from {claims[h]} to {now}"
            claims[h] = now

    held = token.balanceOf(attacker)
    value = token.convertToAssets(held)
    assert usd.balanceOf(attacker) + value <= start
    assert redeemed >= ROUNDS - 1  # every round really went in and out
    print(f"rounding harvest: {ROUNDS} rounds, {redeemed} redeemed, attacker lost "
          f"{start - usd.balanceOf(attacker) - value} units")


@pytest.mark.parametrize("side", ["deposit", "redeem"])
def test_claim_in_tiny_pieces__never_more_than_pro_rata__sums_to_the_whole(
    quiet_token, chain, feed, gov, keeper, request_deposit, usd, whale, fish, side
):
    token = quiet_token
    if side == "deposit":
        request_deposit(token, fish, 10_000)
    else:
        token.requestRedeem(token.balanceOf(whale) // 3, whale, whale, sender=whale)
    advance(chain, 1)
    feed.submit(to_feed(P0), sender=gov)
    token.settle(sender=keeper)
    account = fish if side == "deposit" else whale
    if side == "deposit":
        pair = lambda: (token.maxDeposit(account), token.maxMint(account))  # noqa: E731
        by_input = lambda n: token.deposit(n, account, sender=account)  # noqa: E731
        by_output = lambda n: token.mint(n, account, sender=account)  # noqa: E731
        got = lambda: token.balanceOf(account)  # noqa: E731
    else:
        pair = lambda: (token.maxRedeem(account), token.maxWithdraw(account))  # noqa: E731
        by_input = lambda n: token.redeem(n, account, account, sender=account)  # noqa: E731
        by_output = lambda n: token.withdraw(n, account, account, sender=account)  # noqa: E731
        got = lambda: usd.balanceOf(account)  # noqa: E731
    total_in, total_out = pair()
    start = got()
    for piece in (1, 2, 3, 7, 10**6 + 1):
        (claim_in, claim_out), before = pair(), got()
        by_input(piece)  # output rounded down
        assert got() - before == piece * claim_out // claim_in
        (claim_in, claim_out), before = pair(), got()
        by_output(piece)  # input rounded up
        assert got() - before == piece
        assert claim_in - pair()[0] == -(-piece * claim_in // claim_out)
    by_input(pair()[0])  # the rest, exactly
    assert got() - start == total_out
    assert pair() == (0, 0)


def test_dust_redemption__its_close_trade_cost__not_paid_by_remaining_holders(
    quiet_token, chain, feed, gov, keeper, whale, fish
):
    token = quiet_token
    claim = token.convertToAssets(token.balanceOf(whale))
    token.requestRedeem(10**12, fish, fish, sender=fish)  # about one unit of value
    advance(chain, 1)
    feed.submit(to_feed(P0), sender=gov)
    settlement = settlement_of(token, token.settle(sender=keeper))
    # Worth less than its close would cost, the redemption does not trade: no cost for anyone to pay.
    assert settlement.shares == 10**12 and settlement.size_delta == 0 and settlement.cost == 0
    assert token.convertToAssets(token.balanceOf(whale)) >= claim
