"""The ERC-7540 / ERC-4626 surface of the token: previews revert PreviewNotAvailable, max* are the claimable
amounts, conversions and limits never revert (a stale oracle gives the last recorded valuation), share(),
zero amounts, and what one settlement gives to the unit."""

import pytest

from levtoken.shapes import Action
from levtoken.units import DAY, WAD, to_units
from tests.utils.constants import HEARTBEAT, VIRTUAL_SHARES
from tests.utils.requests import settlement_of


def _mul_div_up(a, b, c):
    return -(-a * b // c)


@pytest.fixture
def funded(token, deposit, whale, advance):
    """A 3x long with 10,000 of the whale's deposit, a day of streaming fee pending and a moved price."""
    deposit(token, whale, 10_000)
    advance(DAY, 30_600)
    return token


def test_totalAssets__after_price_move__equals_equity(funded, venue):
    value, size, price = venue.accountState(1, funded)
    assert price == 30_600 * WAD
    assert funded.totalAssets() == funded.equity() == value  # no idle collateral
    assert funded.equity() > to_units(10_000)  # a long gained


def test_convertToShares__virtual_offset__floor_formula(funded):
    supply = funded.totalSupply() + funded.pendingStreamingFee()
    equity = funded.equity()
    assets = to_units(1_234)
    assert funded.convertToShares(assets) == assets * (supply + VIRTUAL_SHARES) // (equity + 1)
    assert funded.convertToAssets(7 * 10**18) == 7 * 10**18 * (equity + 1) // (supply + VIRTUAL_SHARES)
    assert funded.navPerToken() == funded.convertToAssets(WAD)


def test_convertToShares__empty_token__one_unit_is_virtual_shares(token):
    assert token.convertToShares(to_units(1)) == to_units(1) * VIRTUAL_SHARES
    assert token.convertToAssets(WAD) == 1 * WAD // VIRTUAL_SHARES


@pytest.mark.parametrize("preview", ["previewDeposit", "previewMint", "previewWithdraw", "previewRedeem"])
@pytest.mark.parametrize("amount", [0, 10**18])
def test_previews__any_amount__revert_preview_not_available(funded, preview, amount, reverts):
    with reverts(funded.PreviewNotAvailable):
        getattr(funded, preview)(amount)


def test_share__is_the_token_itself(token):
    assert token.share() == token.address


def test_max_views__request_then_settlement__zero_until_settled_then_claimable(
    funded, fund, settle, whale, fish
):
    assets = fund(fish, 5_000, funded)
    funded.requestDeposit(assets, fish, fish, sender=fish)
    shares = funded.balanceOf(whale) // 3
    funded.requestRedeem(shares, whale, whale, sender=whale)
    for account in (fish, whale):
        assert (funded.maxDeposit(account), funded.maxMint(account)) == (0, 0)
        assert (funded.maxWithdraw(account), funded.maxRedeem(account)) == (0, 0)
    assert funded.pendingDepositRequest(0, fish) == assets
    assert funded.pendingRedeemRequest(0, whale) == shares

    (receipt,) = settle(funded)
    t = settlement_of(funded, receipt)
    assert (t.assets, t.shares) == (assets, shares)
    assert funded.pendingDepositRequest(0, fish) == funded.pendingRedeemRequest(0, whale) == 0
    assert funded.maxDeposit(fish) == funded.claimableDepositRequest(0, fish) == assets
    assert funded.maxMint(fish) == t.shares_out
    assert funded.maxRedeem(whale) == funded.claimableRedeemRequest(0, whale) == shares
    assert funded.maxWithdraw(whale) == t.assets_out
    # The request id is ignored by the views: every request is id 0 and aggregates per controller.
    assert funded.claimableDepositRequest(7, fish) == assets


def test_claims__max_amounts__pay_exactly_what_the_settlement_fixed(funded, fund, settle, whale, fish, usd):
    assets = fund(fish, 5_000, funded)
    funded.requestDeposit(assets, fish, fish, sender=fish)
    funded.requestRedeem(funded.balanceOf(whale) // 3, whale, whale, sender=whale)
    settle(funded)
    shares_out, assets_out = funded.maxMint(fish), funded.maxWithdraw(whale)
    tx = funded.mint(shares_out, fish, sender=fish)
    assert tx.return_value == assets
    assert funded.balanceOf(fish) == shares_out
    balance = usd.balanceOf(whale)
    tx = funded.withdraw(assets_out, whale, whale, sender=whale)
    assert usd.balanceOf(whale) - balance == assets_out
    for account in (fish, whale):
        assert funded.maxDeposit(account) == funded.maxMint(account) == 0
        assert funded.maxWithdraw(account) == funded.maxRedeem(account) == 0


def test_views__stale_oracle__never_revert_and_give_the_last_recorded_valuation(
    token, deposit, request_deposit, whale, fish, feed, chain, reverts, venue
):
    deposit(token, whale, 10_000)
    equity, supply = token.totalAssets(), token.totalSupply()  # the settlement recorded these
    assets = request_deposit(token, fish, 1_000)
    updated_at = feed.latestRoundData()[3]
    chain.mine(timestamp=updated_at + HEARTBEAT + 1)
    with reverts(venue.StalePrice):
        token.equity()
    assert token.rebalanceStatus().action == Action.NONE
    assert token.totalAssets() == equity
    assert token.convertToAssets(WAD) == WAD * (equity + 1) // (supply + VIRTUAL_SHARES)
    assert token.convertToShares(to_units(1)) == to_units(1) * (supply + VIRTUAL_SHARES) // (equity + 1)
    assert token.navPerToken() == token.convertToAssets(WAD)
    assert (token.maxDeposit(fish), token.maxMint(fish), token.maxWithdraw(whale), token.maxRedeem(whale)) == (0, 0, 0, 0)
    assert token.pendingDepositRequest(0, fish) == assets


@pytest.mark.parametrize("call", ["requestDeposit", "requestRedeem", "deposit", "mint", "withdraw", "redeem"])
def test_requests_and_claims__zero_amount__revert(funded, whale, call, reverts):
    action = {
        "requestDeposit": lambda: funded.requestDeposit(0, whale, whale, sender=whale),
        "requestRedeem": lambda: funded.requestRedeem(0, whale, whale, sender=whale),
        "deposit": lambda: funded.deposit(0, whale, sender=whale),
        "mint": lambda: funded.mint(0, whale, sender=whale),
        "withdraw": lambda: funded.withdraw(0, whale, whale, sender=whale),
        "redeem": lambda: funded.redeem(0, whale, whale, sender=whale),
    }[call]
    with reverts(funded.ZeroAmount):
        action()


@pytest.mark.parametrize("claim", ["deposit", "mint", "withdraw", "redeem"])
def test_claims__nothing_claimable__revert_exceeds_claimable(funded, fish, claim, reverts):
    action = {
        "deposit": lambda: funded.deposit(1, fish, sender=fish),
        "mint": lambda: funded.mint(1, fish, sender=fish),
        "withdraw": lambda: funded.withdraw(1, fish, fish, sender=fish),
        "redeem": lambda: funded.redeem(1, fish, fish, sender=fish),
    }[claim]
    with reverts(funded.ExceedsClaimable, amount=1, claimable=0):
        action()


def test_requestRedeem__more_than_balance__reverts(funded, whale, reverts):
    balance = funded.balanceOf(whale)
    with reverts(funded.InsufficientBalance):
        funded.requestRedeem(balance + 1, whale, whale, sender=whale)


def test_requestRedeem__spender_without_allowance_or_operator__reverts(funded, whale, stranger, reverts):
    with reverts(funded.InsufficientAllowance):
        funded.requestRedeem(10**18, stranger, whale, sender=stranger)


def test_redeem__all_shares__closes_the_holders_part(token, deposit, settle, whale, venue, usd):
    deposit(token, whale, 10_000)
    shares = token.balanceOf(whale)
    token.requestRedeem(shares, whale, whale, sender=whale)
    settle(token)
    balance = usd.balanceOf(whale)
    assets = token.maxWithdraw(whale)
    token.redeem(shares, whale, whale, sender=whale)
    assert usd.balanceOf(whale) - balance == assets > to_units(9_900)
    assert token.balanceOf(whale) == 0
    # What is left belongs to the fee recipient's shares (the mint fee plus the redeem fee just paid).
    _, size, _ = venue.accountState(1, token)
    assert 0 < size < 10**16
    assert token.escrowAssets() == 0


def test_settlement__first_deposit__fee_shares_rounded_up_against_the_depositors(
    token, request_deposit, settle, whale, fee_recipient
):
    assets = request_deposit(token, whale, 10_000)
    (receipt,) = settle(token)
    t = settlement_of(token, receipt)
    minted = t.shares_out + t.mint_fee
    assert t.mint_fee == _mul_div_up(minted, 10, 10_000)
    assert token.balanceOf(fee_recipient) == t.mint_fee
    assert (t.cost_d, t.cost_r) == (t.cost, 0)  # deposits alone pay the whole trade
    assert minted == (assets - t.cost_d) * VIRTUAL_SHARES  # empty token: supply 0, equity 0
    token.deposit(assets, whale, sender=whale)
    assert token.balanceOf(whale) == t.shares_out


def test_settlement__token_wiped_out__deposits_deferred(
    token, deposit, request_deposit, whale, fish, set_price, advance, keeper, reverts, pin
):
    deposit(token, whale, 10_000)
    set_price(19_500)  # -35% on a 3x long: equity below zero
    pin()
    assert token.equity() < 0
    assert token.totalAssets() == 0
    assert token.rebalanceStatus().action == Action.NONE
    assets = request_deposit(token, fish, 20_000)
    advance(1, 19_500)  # a newer round: the request qualifies, and still the token refuses to mint against it
    assert token.rebalanceStatus().action == Action.NONE
    with reverts(token.NothingToSettle):
        token.settle(sender=keeper)
    assert token.pendingDepositRequest(0, fish) == assets
    assert token.escrowAssets() == assets
