"""A first end-to-end pass: deploy, request a deposit, settle, move the price, rebalance, redeem."""

from levtoken.shapes import Action
from levtoken.units import to_units


def test_request_settle_move_rebalance_redeem(create_token, fund, settle, whale, keeper, set_price, usd):
    token = create_token(3)
    fund(whale, 10_000, token)
    token.requestDeposit(to_units(10_000), whale, whale, sender=whale)
    settle(token)
    token.deposit(to_units(10_000), whale, sender=whale)
    assert abs(token.leverage() - 3 * 10**18) < 10**15
    set_price(26_000)
    status = token.rebalanceStatus()
    assert status.action == Action.REBALANCE  # (band: 3x after -13.3% is 4.33x)
    token.rebalance(sender=keeper)
    assert abs(token.leverage() - 3 * 10**18) < 10**15
    shares = token.balanceOf(whale)
    token.requestRedeem(shares, whale, whale, sender=whale)
    settle(token)
    assets = token.maxWithdraw(whale)
    token.redeem(shares, whale, whale, sender=whale)
    assert token.balanceOf(whale) == 0
    assert usd.balanceOf(whale) == assets > to_units(5_000)  # 3x of -13.3%
