"""The guardian's pause stops deposit requests, the settlement of waiting deposits (deferred) and rebalances
that add exposure, never redemptions or claims."""

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


def test_requestDeposit__paused__reverts(paused, fund, fish, reverts):
    assets = fund(fish, 1_000, paused)
    with reverts(paused.EnforcedPause):
        paused.requestDeposit(assets, fish, fish, sender=fish)


def test_claims__paused__still_pay(token, request_deposit, settle, whale, fish, gov, usd):
    assets = request_deposit(token, fish, 1_000)
    settle(token)
    token.pause(sender=gov)
    shares = token.maxMint(fish)
    token.deposit(assets, fish, sender=fish)
    assert token.balanceOf(fish) == shares > 0


def test_settle__paused__deposits_deferred_redemptions_settled(paused, fund, settle, whale, fish, keeper, gov, advance, reverts):
    token = paused
    gov_assets = fund(gov, 1_000, token)
    token.unpause(sender=gov)
    token.requestDeposit(gov_assets, gov, gov, sender=gov)
    token.pause(sender=gov)
    token.requestRedeem(token.balanceOf(whale) // 2, whale, whale, sender=whale)
    (receipt,) = settle(token)
    event = receipt.events.filter(token.Settled)[0]
    assert event.depositEpoch == 0 and event.redeemEpoch != 0
    assert token.pendingDepositRequest(0, gov) == gov_assets
    assert token.maxWithdraw(whale) > 0
    advance(1)
    with reverts(token.NothingToSettle):  # the deferred deposits alone: nothing a paused token settles
        token.settle(sender=keeper)
    token.unpause(sender=gov)
    token.settle(sender=keeper)  # the same batch, within its window
    assert token.maxDeposit(gov) == gov_assets


def test_maxDeposit_maxMint__paused__zero(paused, fish):
    assert paused.maxDeposit(fish) == 0
    assert paused.maxMint(fish) == 0


def test_redeem_withdraw__paused__requested_settled_and_paid(paused, settle, whale, usd):
    shares = paused.balanceOf(whale)
    paused.requestRedeem(shares // 2, whale, whale, sender=whale)
    settle(paused)
    paused.redeem(shares // 4, whale, whale, sender=whale)
    paused.withdraw(to_units(1_000), whale, whale, sender=whale)
    assert usd.balanceOf(whale) > to_units(3_400)
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
