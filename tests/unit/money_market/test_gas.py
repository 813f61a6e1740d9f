"""What a transaction on the money market's protocols costs depends on the second it lands in: the first change of
each second in a Uniswap pool writes an oracle observation, and the first call of each second into a Morpho market
accrues its interest. An estimate made in one second is therefore short when the transaction lands in the next,
as `levtoken deploy` found under load. A node named by its URL (`--network http://...`, the way the tests and an
operator's own node are reached) sends with ape's estimate times a margin that covers it."""

from __future__ import annotations

from decimal import Decimal

from ape import networks

from levtoken.protocols import position_params
from tests.unit.money_market.conftest import PRICE

AMOUNT = 10_000  # dollars, and as much BTC, per position


def _mint_gas(chain, mm, btc, usd, lp, same_block: bool) -> int:
    """The gas two equal in-range positions' second mint uses: mined in the first's block (its second has its
    observation already) or in a block a second later."""
    web3 = chain.provider.web3
    params = position_params(mm.pool, btc, usd, PRICE * Decimal("0.9"), PRICE * Decimal("1.1"),
                             int(AMOUNT / PRICE * 10**18), AMOUNT * 10**6, lp.address)
    data = mm.protocols.positions.mint.encode_input(params)
    send = {"from": lp.address, "to": mm.protocols.positions.address, "data": data, "gas": 2_000_000}
    for token, amount in ((btc, 2 * params[5 if mm.pool.token0() == btc.address else 6]),
                          (usd, 2 * AMOUNT * 10**6)):
        token.mint(lp, amount, sender=lp)
        token.approve(mm.protocols.positions.address, amount, sender=lp)
    if same_block:
        web3.provider.make_request("evm_setAutomine", [False])
        try:
            nonce = web3.eth.get_transaction_count(lp.address)
            web3.eth.send_transaction({**send, "nonce": nonce})
            second = web3.eth.send_transaction({**send, "nonce": nonce + 1})
            web3.provider.make_request("evm_mine", [])
        finally:
            web3.provider.make_request("evm_setAutomine", [True])
    else:
        web3.eth.send_transaction(send)
        chain.mine(deltatime=1)
        second = web3.eth.send_transaction(send)
    receipt = web3.eth.wait_for_transaction_receipt(second)
    assert receipt.status == 1
    return receipt.gasUsed


def test_a_mint_in_a_later_second_costs_more__a_url_node_sends_with_a_margin_over_it(chain, mm, btc, usd, lp):
    """A position's mint costs more in a second of its own than in the second of the pool's last write (its
    observation), and the margin a URL-named node's estimates get (ape's auto gas multiplier for a custom network)
    covers the difference with room to spare."""
    snapshot = chain.snapshot()
    in_its_second = _mint_gas(chain, mm, btc, usd, lp, same_block=True)
    chain.restore(snapshot)
    a_second_later = _mint_gas(chain, mm, btc, usd, lp, same_block=False)
    assert a_second_later > in_its_second  # the estimate of the first is short for the second
    custom = networks.ethereum.config.get("custom")
    multiplier = custom.gas_limit.multiplier if custom else 1.0  # ape's default for a network it does not know
    assert a_second_later * 1.2 <= in_its_second * multiplier
