"""What replaced the caller's minimum and deadline: a request is priced by the settlement at a round published
after it (the price the requester could not know), and a fee raised between request and settlement never
applies to it (each batch pays the lowest fee in force at any of its requests or at settlement)."""

import pytest

from levtoken.units import BPS, WAD, to_feed
from tests.utils import chain as chain_helpers
from tests.utils.constants import VIRTUAL_SHARES
from tests.utils.requests import settled, settlement_of


def _up(a, b, c):
    return -(-a * b // c)


@pytest.mark.parametrize("price", [27_000, 33_000])
def test_settlement__deposit__priced_at_the_later_round(held, request_deposit, settle, fish, feed, chain, price):
    token = held
    assets = request_deposit(token, fish, 1_000)
    at_request = token.convertToShares(assets)
    (receipt,) = settle(token, price=price)
    block = receipt.block_number - 1  # the state the settlement saw: the new round, nothing settled yet
    event = settled(token, receipt)
    t = settlement_of(token, receipt)
    assert event.priceTime == feed.latestRoundData()[3] == chain_helpers.block_time(chain, receipt)
    assert t.price == price * WAD
    supply = token.totalSupply(block_id=block) + token.pendingStreamingFee(block_id=block)
    equity = token.equity(block_id=block)
    minted = (assets - t.cost_d) * (supply + VIRTUAL_SHARES) // (equity + 1)
    assert (t.shares_out, t.mint_fee) == (minted - _up(minted, 10, BPS), _up(minted, 10, BPS))
    # The round the requester saw does not price it: a long's NAV moved with the price.
    assert (t.shares_out < at_request) if price > 30_000 else (t.shares_out > at_request)


@pytest.mark.parametrize("price", [27_000, 33_000])
def test_settlement__redemption__priced_at_the_later_round(held, settle, whale, price):
    token = held
    shares = token.balanceOf(whale) // 2
    token.requestRedeem(shares, whale, whale, sender=whale)
    at_request = token.convertToAssets(shares)
    (receipt,) = settle(token, price=price)
    block = receipt.block_number - 1
    t = settlement_of(token, receipt)
    assert t.price == price * WAD
    assert t.redeem_fee == _up(shares, 10, BPS)
    supply = token.totalSupply(block_id=block) + token.pendingStreamingFee(block_id=block)
    equity = token.equity(block_id=block)
    gross = (shares - t.redeem_fee) * (equity + 1) // (supply + VIRTUAL_SHARES)
    assert t.assets_out == gross - t.cost_r
    assert (t.cost_d, t.cost_r) == (0, t.cost)
    assert token.maxWithdraw(whale) == t.assets_out
    assert (t.assets_out > at_request) if price > 30_000 else (t.assets_out < at_request)


def test_settlement__round_published_with_the_request__does_not_price_it(
    held, request_deposit, fish, feed, gov, keeper, chain, reverts
):
    token = held
    request_deposit(token, fish, 1_000)
    request_time = chain_helpers.head_time(chain)
    feed.submit(to_feed(40_000), sender=gov)  # same second as the request: a front-runner's price
    with reverts(token.NoNewerPrice, lastRequest=request_time, priceTime=request_time):
        token.settle(sender=keeper)
    chain_helpers.advance(chain, 1)
    feed.submit(to_feed(30_000), sender=gov)
    t = settlement_of(token, token.settle(sender=keeper))
    assert t.price == 30_000 * WAD


@pytest.mark.parametrize("side", ["deposit", "redeem"])
@pytest.mark.parametrize("new_bps", [60, 0], ids=["raised", "lowered"])  # 60: one change's most, from 10
def test_settlement__fee_changed_after_request__batch_pays_the_lower_fee(
    held, request_deposit, settle, set_params, whale, fish, side, new_bps
):
    token = held
    field = "mintFeeBps" if side == "deposit" else "redeemFeeBps"
    if side == "deposit":
        request_deposit(token, fish, 1_000)
    else:
        token.requestRedeem(token.balanceOf(whale) // 2, whale, whale, sender=whale)
    set_params(token, **{field: new_bps})  # from 10 bps while the request waits
    t = settlement_of(token, settle(token)[0])
    fee_bps = min(10, new_bps)
    if side == "deposit":
        minted = t.shares_out + t.mint_fee
        assert (t.mint_fee_bps, t.mint_fee) == (fee_bps, _up(minted, fee_bps, BPS))
    else:
        assert (t.redeem_fee_bps, t.redeem_fee) == (fee_bps, _up(t.shares, fee_bps, BPS))


def test_settlement__fee_changed_between_two_requests__the_lowest_for_the_whole_batch(
    held, request_deposit, settle, set_params, whale, fish, stranger
):
    token = held
    request_deposit(token, fish, 1_000)
    set_params(token, mintFeeBps=3)
    request_deposit(token, stranger, 1_000)
    set_params(token, mintFeeBps=50)
    t = settlement_of(token, settle(token)[0])
    assert t.mint_fee_bps == 3
    # One price for the batch: each requester gets shares pro rata to its assets (floored).
    assert token.maxMint(fish) == token.maxMint(stranger) == t.shares_out // 2
