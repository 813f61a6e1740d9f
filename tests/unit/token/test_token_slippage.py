"""depositWithMinShares and redeemWithMinAssets: the caller's minimum and deadline bound a sandwich."""

from levtoken.units import to_units


def test_depositWithMinShares__minimum_met__mints_preview(token, deposit, fund, whale, fish, chain, pin):
    deposit(token, whale, 10_000)
    assets = fund(fish, 1_000, token)
    pin()
    preview = token.previewDeposit(assets)
    token.depositWithMinShares(assets, fish, preview, chain.blocks.head.timestamp, sender=fish)
    assert token.balanceOf(fish) == preview


def test_depositWithMinShares__minimum_one_above__reverts(token, deposit, fund, whale, fish, chain, pin, reverts):
    deposit(token, whale, 10_000)
    assets = fund(fish, 1_000, token)
    pin()
    preview = token.previewDeposit(assets)
    with reverts(token.SlippageExceeded, amount=preview, minimum=preview + 1):
        token.depositWithMinShares(assets, fish, preview + 1, chain.pending_timestamp + 60, sender=fish)


def test_depositWithMinShares__price_moved_against_minter__reverts(
    token, deposit, fund, whale, fish, chain, set_price, reverts
):
    deposit(token, whale, 10_000)
    assets = fund(fish, 1_000, token)
    expected = token.previewDeposit(assets)
    set_price(29_000)  # NAV falls, so the same assets buy more shares; a rise buys fewer
    set_price(31_000)
    with reverts(token.SlippageExceeded, minimum=expected):
        token.depositWithMinShares(assets, fish, expected, chain.pending_timestamp + 60, sender=fish)


def test_depositWithMinShares__past_deadline__reverts(token, fund, fish, chain, reverts):
    assets = fund(fish, 1_000, token)
    deadline = chain.blocks.head.timestamp - 1
    with reverts(token.DeadlineExpired, deadline=deadline):
        token.depositWithMinShares(assets, fish, 0, deadline, sender=fish)


def test_depositWithMinShares__zero_assets__reverts(token, fish, chain, reverts):
    with reverts(token.ZeroAmount):
        token.depositWithMinShares(0, fish, 0, chain.pending_timestamp + 60, sender=fish)


def test_redeemWithMinAssets__minimum_met__pays_preview(token, deposit, whale, usd, chain, pin):
    deposit(token, whale, 10_000)
    shares = token.balanceOf(whale) // 2
    balance = usd.balanceOf(whale)
    pin()
    preview = token.previewRedeem(shares)
    token.redeemWithMinAssets(shares, whale, whale, preview, chain.blocks.head.timestamp, sender=whale)
    assert usd.balanceOf(whale) - balance == preview


def test_redeemWithMinAssets__minimum_one_above__reverts(token, deposit, whale, chain, pin, reverts):
    deposit(token, whale, 10_000)
    shares = token.balanceOf(whale) // 2
    pin()
    preview = token.previewRedeem(shares)
    with reverts(token.SlippageExceeded, amount=preview, minimum=preview + 1):
        token.redeemWithMinAssets(shares, whale, whale, preview + 1, chain.pending_timestamp + 60, sender=whale)


def test_redeemWithMinAssets__price_fell__reverts(token, deposit, whale, chain, set_price, reverts):
    deposit(token, whale, 10_000)
    shares = token.balanceOf(whale) // 2
    expected = token.previewRedeem(shares)
    set_price(29_000)
    with reverts(token.SlippageExceeded, minimum=expected):
        token.redeemWithMinAssets(shares, whale, whale, expected, chain.pending_timestamp + 60, sender=whale)


def test_redeemWithMinAssets__past_deadline__reverts(token, deposit, whale, chain, reverts):
    deposit(token, whale, 1_000)
    deadline = chain.blocks.head.timestamp - 1
    with reverts(token.DeadlineExpired, deadline=deadline):
        token.redeemWithMinAssets(10**18, whale, whale, 0, deadline, sender=whale)


def test_redeemWithMinAssets__zero_shares__reverts(token, whale, chain, reverts):
    with reverts(token.ZeroAmount):
        token.redeemWithMinAssets(0, whale, whale, 0, chain.pending_timestamp + 60, sender=whale)


def test_redeemWithMinAssets__approved_spender__allowance_spent(token, deposit, whale, stranger, usd, chain):
    deposit(token, whale, 1_000)
    token.approve(stranger, 10**21, sender=whale)
    token.redeemWithMinAssets(4 * 10**20, stranger, whale, 1, chain.pending_timestamp + 60, sender=stranger)
    assert token.allowance(whale, stranger) == 6 * 10**20
    assert usd.balanceOf(stranger) > to_units(39)
