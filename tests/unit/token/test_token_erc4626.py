"""ERC-4626 entry and exit: previews equal what transactions give to the unit, conversions, limits,
zero amounts, spenders and the errors of each path."""

import pytest

from levtoken.shapes import UINT256_MAX, Action
from levtoken.units import DAY, WAD, to_units
from tests.utils.constants import VIRTUAL_SHARES


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


def test_previewDeposit__then_deposit__same_shares_to_the_unit(funded, fund, fish, fee_recipient, pin):
    assets = fund(fish, 5_000, funded)
    fee_before = funded.balanceOf(fee_recipient)
    pin()
    preview = funded.previewDeposit(assets)
    tx = funded.deposit(assets, fish, sender=fish)
    assert funded.balanceOf(fish) == preview
    assert tx.return_value == preview
    hedge = tx.events.filter(funded.HedgeExecuted)[0]
    streaming = tx.events.filter(funded.StreamingFeeAccrued)[0].holdersFee
    assert funded.balanceOf(fee_recipient) - fee_before == streaming + hedge.feeShares
    # The preview is below the fee-free conversion: it includes the mint fee and the hedge's cost.
    assert preview < funded.convertToShares(assets)


def test_previewMint__then_mint__same_assets_and_exact_shares(funded, fund, fish, usd, pin):
    fund(fish, 10_000, funded)
    shares = 3 * 10**21
    balance = usd.balanceOf(fish)
    pin()
    preview = funded.previewMint(shares)
    tx = funded.mint(shares, fish, sender=fish)
    assert balance - usd.balanceOf(fish) == preview
    assert tx.return_value == preview
    assert funded.balanceOf(fish) == shares


def test_previewRedeem__then_redeem__same_assets_to_the_unit(funded, whale, usd, pin):
    shares = funded.balanceOf(whale) // 3
    balance = usd.balanceOf(whale)
    pin()
    preview = funded.previewRedeem(shares)
    tx = funded.redeem(shares, whale, whale, sender=whale)
    assert usd.balanceOf(whale) - balance == preview
    assert tx.return_value == preview
    # Below the fee-free conversion: the redeem fee and the closing trade's cost.
    assert preview < funded.convertToAssets(shares)


def test_previewWithdraw__then_withdraw__same_shares_and_exact_assets(funded, whale, usd, pin):
    assets = to_units(2_500)
    shares_before = funded.balanceOf(whale)
    balance = usd.balanceOf(whale)
    pin()
    preview = funded.previewWithdraw(assets)
    tx = funded.withdraw(assets, whale, whale, sender=whale)
    assert usd.balanceOf(whale) - balance == assets
    assert shares_before - funded.balanceOf(whale) == preview
    assert tx.return_value == preview
    event = tx.events.filter(funded.Withdraw)[0]
    assert (event.assets, event.shares) == (assets, preview)


def test_redeem__all_shares__closes_the_holders_part_and_pays_preview(token, deposit, whale, venue, usd, pin):
    deposit(token, whale, 10_000)
    shares = token.balanceOf(whale)
    balance = usd.balanceOf(whale)
    pin()
    preview = token.previewRedeem(shares)
    token.redeem(shares, whale, whale, sender=whale)
    assert usd.balanceOf(whale) - balance == preview
    assert token.balanceOf(whale) == 0
    # What is left belongs to the fee recipient's shares (mint fee plus the redeem fee just paid).
    _, size, _ = venue.accountState(1, token)
    assert 0 < size < 10**16


def test_redeem__fee_recipient__pays_no_redeem_fee(token, deposit, whale, fee_recipient, pin):
    deposit(token, whale, 10_000)
    fee_shares = token.balanceOf(fee_recipient)
    assert fee_shares > 0
    pin()
    tx = token.redeem(fee_shares, fee_recipient, fee_recipient, sender=fee_recipient)
    assert tx.events.filter(token.HedgeExecuted)[0].feeShares == 0
    assert token.balanceOf(fee_recipient) == 0


def test_maxDeposit_maxMint__no_cap__unlimited_and_supply_bound(token, deposit, whale):
    assert token.maxDeposit(whale) == UINT256_MAX
    deposit(token, whale, 1_000)
    assert token.maxMint(whale) == UINT256_MAX - token.totalSupply() - token.pendingStreamingFee()


def test_maxDeposit_maxMint__supply_cap__remaining_room(token, deposit, whale, set_params):
    deposit(token, whale, 1_000)
    cap = token.totalSupply() + 500 * WAD
    set_params(token, supplyCap=cap)  # accrues the streaming fee first: supply grows a little
    room = cap - token.totalSupply() - token.pendingStreamingFee()
    assert 0 < room <= 500 * WAD
    assert token.maxMint(whale) == room
    equity = token.equity()
    virtual = token.totalSupply() + token.pendingStreamingFee() + VIRTUAL_SHARES
    assert token.maxDeposit(whale) == room * (equity + 1) // virtual


def test_maxDeposit_maxMint__supply_reached__zero(token, deposit, whale, set_params):
    deposit(token, whale, 1_000)
    set_params(token, supplyCap=token.totalSupply())
    assert token.maxDeposit(whale) == 0
    assert token.maxMint(whale) == 0


def test_deposit__above_supply_cap__reverts(token, deposit, fund, whale, fish, set_params, reverts, pin):
    deposit(token, whale, 1_000)
    cap = token.totalSupply() + 100 * WAD
    set_params(token, supplyCap=cap)
    assets = fund(fish, 1_000, token)
    with reverts(token.SupplyCapExceeded, cap=cap):
        token.deposit(assets, fish, sender=fish)


def test_maxWithdraw_maxRedeem__holder__preview_of_balance(funded, whale, stranger):
    shares = funded.balanceOf(whale)
    assert funded.maxRedeem(whale) == shares
    assert funded.maxWithdraw(whale) == funded.previewRedeem(shares)
    assert funded.maxWithdraw(stranger) == 0


def test_withdraw__max_withdraw__pays_and_burns_at_most_balance(funded, whale, usd, pin):
    pin()
    assets = funded.maxWithdraw(whale)
    preview = funded.previewWithdraw(assets)
    balance = usd.balanceOf(whale)
    tx = funded.withdraw(assets, whale, whale, sender=whale)
    assert usd.balanceOf(whale) - balance == assets
    assert funded.balanceOf(whale) == 0
    assert tx.return_value == funded.balanceOf(whale) + tx.events.filter(funded.Withdraw)[0].shares
    assert tx.return_value <= preview


def test_withdraw__above_max_withdraw__reverts(funded, whale, reverts, pin):
    pin()
    maximum = funded.maxWithdraw(whale)
    with reverts(funded.ExceedsMaxWithdraw, assets=maximum * 2, max=maximum):
        funded.withdraw(maximum * 2, whale, whale, sender=whale)


@pytest.mark.parametrize("entry", ["deposit", "mint", "withdraw", "redeem"])
def test_entry_and_exit__zero_amount__reverts(funded, whale, entry, reverts):
    call = {
        "deposit": lambda: funded.deposit(0, whale, sender=whale),
        "mint": lambda: funded.mint(0, whale, sender=whale),
        "withdraw": lambda: funded.withdraw(0, whale, whale, sender=whale),
        "redeem": lambda: funded.redeem(0, whale, whale, sender=whale),
    }[entry]
    with reverts(funded.ZeroAmount):
        call()


def test_previews__zero__zero(funded):
    assert funded.previewDeposit(0) == funded.previewMint(0) == 0
    assert funded.previewRedeem(0) == funded.previewWithdraw(0) == 0


def test_redeem__approved_spender__allowance_spent_and_receiver_paid(funded, whale, stranger, fish, usd, pin):
    shares = funded.balanceOf(whale) // 4
    funded.approve(stranger, shares + 17, sender=whale)
    balance = usd.balanceOf(fish)
    pin()
    preview = funded.previewRedeem(shares)
    funded.redeem(shares, fish, whale, sender=stranger)
    assert funded.allowance(whale, stranger) == 17
    assert usd.balanceOf(fish) - balance == preview
    assert usd.balanceOf(stranger) == 0


def test_withdraw__approved_spender__allowance_spent(funded, whale, stranger, usd, pin):
    funded.approve(stranger, 10**24, sender=whale)
    pin()
    shares = funded.previewWithdraw(to_units(1_000))
    funded.withdraw(to_units(1_000), stranger, whale, sender=stranger)
    assert funded.allowance(whale, stranger) == 10**24 - shares
    assert usd.balanceOf(stranger) == to_units(1_000)


def test_redeem__spender_without_allowance__reverts(funded, whale, stranger, reverts):
    with reverts(funded.ERC20InsufficientAllowance, spender=stranger.address, allowance=0, needed=10**18):
        funded.redeem(10**18, stranger, whale, sender=stranger)


def test_redeem__more_than_balance__reverts(funded, whale, reverts):
    balance = funded.balanceOf(whale)
    with reverts(funded.ERC20InsufficientBalance):
        funded.redeem(balance + 1, whale, whale, sender=whale)


def test_deposit__token_wiped_out__reverts_no_equity(token, deposit, fund, whale, fish, set_price, venue, reverts, pin):
    deposit(token, whale, 10_000)
    set_price(19_500)  # -35% on a 3x long: equity below zero
    pin()
    equity = token.equity()
    assert equity < 0
    assert token.totalAssets() == 0
    assert token.previewDeposit(to_units(100)) == 0
    assert token.rebalanceStatus().action == Action.NONE
    # A small deposit cannot even bring the venue account back to its initial margin ...
    assets = fund(fish, 100, token)
    with reverts(venue.InsufficientMargin):
        token.deposit(assets, fish, sender=fish)
    # ... a large one could, and the token refuses to mint against negative equity.
    assets = fund(fish, 20_000, token)
    pin()
    equity = token.equity()
    with reverts(token.NoEquity, equity=equity):
        token.deposit(assets, fish, sender=fish)


def test_mint__fee_shares__rounded_up_against_the_caller(token, deposit, whale, fee_recipient):
    tx = deposit(token, whale, 10_000)
    hedge = tx.events.filter(token.HedgeExecuted)[0]
    shares = token.balanceOf(whale)
    total = shares + hedge.feeShares
    assert hedge.feeShares == _mul_div_up(total, 10, 10_000)
    assert token.balanceOf(fee_recipient) == hedge.feeShares
    contribution = to_units(10_000) - hedge.hedgeCost
    assert total == contribution * VIRTUAL_SHARES // 1  # empty token: supply 0, equity 0
