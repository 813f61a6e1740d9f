"""A first end-to-end pass: deploy, mint, move the price, rebalance, redeem."""

from levtoken.shapes import Action
from levtoken.units import to_units


def test_mint_move_rebalance_redeem(create_token, fund, whale, keeper, set_price, chain):
    token = create_token(3)
    fund(whale, 10_000, token)
    token.deposit(to_units(10_000), whale, sender=whale)
    assert abs(token.leverage() - 3 * 10**18) < 10**15
    set_price(26_000)
    status = token.rebalanceStatus()
    assert status.action == Action.REBALANCE  # (band: 3x after -13.3% is 4.33x)
    token.rebalance(sender=keeper)
    assert abs(token.leverage() - 3 * 10**18) < 10**15
    shares = token.balanceOf(whale)
    preview = token.previewRedeem(shares)
    token.redeem(shares, whale, whale, sender=whale)
    assert token.balanceOf(whale) == 0
