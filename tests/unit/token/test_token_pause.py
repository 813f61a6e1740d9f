"""The guardian's pause stops mints and rebalances that add exposure, never redemptions."""

import pytest

from levtoken.units import WAD, to_units
from tests.utils.checks import LEVERAGE_TOLERANCE
from tests.utils.constants import GUARDIAN_ROLE


@pytest.fixture
def paused(token, deposit, whale, gov):
    deposit(token, whale, 10_000)
    tx = token.pause(sender=gov)
    assert tx.events.filter(token.Paused)[0].account == gov.address
    assert token.paused()
    return token


def test_deposit_mint__paused__revert(paused, fund, fish, chain, reverts):
    assets = fund(fish, 1_000, paused)
    with reverts(paused.EnforcedPause):
        paused.deposit(assets, fish, sender=fish)
    with reverts(paused.EnforcedPause):
        paused.mint(10**18, fish, sender=fish)
    with reverts(paused.EnforcedPause):
        paused.depositWithMinShares(assets, fish, 0, chain.pending_timestamp + 60, sender=fish)


def test_maxDeposit_maxMint__paused__zero(paused, fish):
    assert paused.maxDeposit(fish) == 0
    assert paused.maxMint(fish) == 0


def test_redeem_withdraw__paused__still_pay(paused, whale, usd, chain):
    shares = paused.balanceOf(whale)
    paused.redeem(shares // 4, whale, whale, sender=whale)
    paused.withdraw(to_units(1_000), whale, whale, sender=whale)
    paused.redeemWithMinAssets(shares // 4, whale, whale, 1, chain.pending_timestamp + 60, sender=whale)
    assert usd.balanceOf(whale) > to_units(4_000)
    assert paused.maxWithdraw(whale) > 0


def test_rebalance__paused_adding_exposure__reverts(paused, keeper, set_price, reverts):
    set_price(37_500)  # 3x after +25%: the rebalance would buy
    assert paused.rebalanceStatus().sizeDelta > 0
    with reverts(paused.EnforcedPause):
        paused.rebalance(sender=keeper)


def test_rebalance__paused_reducing_exposure__proceeds(paused, keeper, set_price, rel):
    set_price(26_100)  # 3x after -13%: the rebalance sells
    paused.rebalance(sender=keeper)
    assert rel(paused.leverage(), 3 * WAD) < LEVERAGE_TOLERANCE


def test_ripcord__paused__proceeds(paused, stranger, usd, set_price):
    set_price(25_500)
    paused.ripcord(sender=stranger)
    assert usd.balanceOf(stranger) == to_units(10)


def test_unpause__guardian__deposits_resume(paused, gov, deposit, fish):
    tx = paused.unpause(sender=gov)
    assert tx.events.filter(paused.Unpaused)[0].account == gov.address
    assert not paused.paused()
    deposit(paused, fish, 1_000)
    assert paused.balanceOf(fish) > 0


@pytest.mark.parametrize("who", ["keeper", "stranger"])
def test_pause_unpause__not_guardian__revert(token, gov, keeper, stranger, who, reverts):
    account = {"keeper": keeper, "stranger": stranger}[who]
    with reverts(token.AccessControlUnauthorizedAccount, account=account.address, neededRole=GUARDIAN_ROLE):
        token.pause(sender=account)
    token.pause(sender=gov)
    with reverts(token.AccessControlUnauthorizedAccount, account=account.address, neededRole=GUARDIAN_ROLE):
        token.unpause(sender=account)


def test_pause_unpause__wrong_state__revert(token, gov, reverts):
    with reverts(token.ExpectedPause):
        token.unpause(sender=gov)
    token.pause(sender=gov)
    with reverts(token.EnforcedPause):
        token.pause(sender=gov)
