"""Margin in and out: deposits for any account, withdrawals bounded by margin balance and initial margin."""

import pytest

from levtoken.units import to_units, to_wad
from tests.utils.constants import BTC


pytestmark = pytest.mark.usefixtures("no_funding")


@pytest.fixture
def open_position(fish, cfg, model, price0, open_account):
    """open_position(margin_usd, size) -> fish's margin after the opening trade's fee and impact."""

    def _open(margin, size):
        units = open_account(fish, margin, size)
        fee, impact, _ = model.trade_cost(cfg, size, price0)
        return units - fee - impact

    return _open


def test_depositMargin__own_account__credits_margin_and_emits(venue, usd, fish, fund):
    amount = fund(fish, 1_234.5, venue)

    receipt = venue.depositMargin(BTC, fish, amount, sender=fish)

    assert venue.position(BTC, fish).margin == amount
    assert venue.accountValue(BTC, fish) == amount
    assert usd.balanceOf(fish) == 0
    assert usd.balanceOf(venue) == venue.poolCash() + amount
    events = receipt.events.filter(venue.MarginDeposited)
    assert len(events) == 1
    assert (events[0].marketId, events[0].account, events[0]["from"], events[0].amount) == (
        BTC,
        fish.address,
        fish.address,
        amount,
    )


def test_depositMargin__other_account__credits_that_account(venue, fish, whale, fund, open_account):
    open_account(fish, 100)
    amount = fund(whale, 50, venue)

    receipt = venue.depositMargin(BTC, fish, amount, sender=whale)

    assert venue.position(BTC, fish).margin == to_units(150)
    assert venue.position(BTC, whale).margin == 0
    event = receipt.events.filter(venue.MarginDeposited)[0]
    assert event.account == fish.address and event["from"] == whale.address and event.amount == amount


def test_depositMargin__zero__reverts_ZeroAmount(venue, fish, reverts):
    with reverts(venue.ZeroAmount):
        venue.depositMargin(BTC, fish, 0, sender=fish)


def test_withdrawMargin__zero__reverts_ZeroAmount(venue, fish, open_account, reverts):
    open_account(fish, 100)
    with reverts(venue.ZeroAmount):
        venue.withdrawMargin(BTC, 0, fish, sender=fish)


def test_modifyPosition__nothing__reverts_ZeroAmount(venue, fish, reverts):
    with reverts(venue.ZeroAmount):
        venue.modifyPosition(BTC, 0, 0, fish, sender=fish)


def test_withdrawMargin__no_position__pays_receiver_and_emits(venue, usd, fish, stranger, open_account):
    open_account(fish, 1_000)
    amount = to_units(400) + 1

    receipt = venue.withdrawMargin(BTC, amount, stranger, sender=fish)

    assert venue.position(BTC, fish).margin == to_units(1_000) - amount
    assert usd.balanceOf(stranger) == amount
    assert usd.balanceOf(venue) == venue.poolCash() + to_units(1_000) - amount
    events = receipt.events.filter(venue.MarginWithdrawn)
    assert len(events) == 1
    assert (events[0].marketId, events[0].account, events[0].to, events[0].amount) == (
        BTC,
        fish.address,
        stranger.address,
        amount,
    )


def test_withdrawMargin__whole_balance_without_position__leaves_zero(venue, usd, fish, open_account):
    units = open_account(fish, 1_000)
    venue.withdrawMargin(BTC, units, fish, sender=fish)
    assert venue.position(BTC, fish).margin == 0
    assert usd.balanceOf(fish) == units


def test_withdrawMargin__more_than_margin__reverts_InsufficientFreeMargin(venue, fish, open_account, reverts):
    units = open_account(fish, 1_000)
    with reverts(venue.InsufficientFreeMargin, margin=units, amount=units + 1):
        venue.withdrawMargin(BTC, units + 1, fish, sender=fish)


def test_withdrawMargin__other_account_margin__reverts_InsufficientFreeMargin(
    venue, fish, stranger, open_account, reverts
):
    open_account(fish, 1_000)
    with reverts(venue.InsufficientFreeMargin, margin=0, amount=1):
        venue.withdrawMargin(BTC, 1, stranger, sender=stranger)


def test_withdrawMargin__with_position__limited_to_initial_margin(
    venue, fish, cfg, model, price0, open_position, reverts
):
    size = to_wad("0.5")
    margin = open_position(5_000, size)
    required = model.margin_bps(model.notional(size, price0), cfg["initialMarginBps"])
    free = margin - required
    assert venue.position(BTC, fish).margin == margin

    with reverts(venue.InsufficientMargin, value=required - 1, required=required):
        venue.withdrawMargin(BTC, free + 1, fish, sender=fish)

    venue.withdrawMargin(BTC, free, fish, sender=fish)
    assert venue.accountValue(BTC, fish) == required


def test_withdrawMargin__unrealised_profit__not_withdrawable(venue, fish, open_position, set_price, reverts):
    margin = open_position(10_000, to_wad(1))
    set_price(40_000)
    assert venue.accountValue(BTC, fish) == margin + to_units(10_000)

    with reverts(venue.InsufficientFreeMargin, margin=margin, amount=margin + 1):
        venue.withdrawMargin(BTC, margin + 1, fish, sender=fish)

    # The whole margin can go: the profit alone covers initial margin at the new price.
    venue.withdrawMargin(BTC, margin, fish, sender=fish)
    assert venue.accountValue(BTC, fish) == to_units(10_000)


def test_withdrawMargin__unrealised_loss__counts_against_initial_margin(
    venue, fish, cfg, model, open_position, set_price, reverts
):
    size = to_wad(1)
    margin = open_position(10_000, size)
    set_price(29_000)
    price = 29_000 * 10**18
    value = margin - to_units(1_000)
    required = model.margin_bps(model.notional(size, price), cfg["initialMarginBps"])
    free = value - required

    with reverts(venue.InsufficientMargin, value=required - 1, required=required):
        venue.withdrawMargin(BTC, free + 1, fish, sender=fish)
    venue.withdrawMargin(BTC, free, fish, sender=fish)
    assert venue.position(BTC, fish).margin == margin - free
