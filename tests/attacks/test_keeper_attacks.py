"""Attacks on the keeper entry points: a stranger rebalancing (to grief or front-run the trade), a
ripcord called before it is due (to collect the bounty), a ripcord sent at an extreme gas price (to
drain the token through a gas-refunding bounty), and a stranger settling requests: before the window
(FallbackNotOpen) or deposits at any time (never: only keepers settle deposits, and past the window
they expire). The access-control and RipcordNotDue reverts alone are
in tests/unit/token/test_token_rebalance.py; here the state around them is checked too."""

import pytest
from web3.exceptions import ContractCustomError, ContractLogicError, Web3RPCError

from levtoken.shapes import Action
from levtoken.units import to_feed, to_units
from tests.utils.chain import advance, head_time
from tests.utils.constants import KEEPER_ROLE
from tests.utils.reverts import error_selector


@pytest.fixture
def token(create_token, deposit, whale):
    token = create_token(3)
    deposit(token, whale, 100_000)
    return token


@pytest.mark.parametrize("price", [26_100, 25_500, 30_000], ids=["band-due", "ripcord-due", "nothing-due"])
def test_rebalance__stranger__AccessControl_state_unchanged(token, stranger, whale, set_price, state_of, price, reverts):
    set_price(price)
    before = state_of(token, stranger, whale)
    with reverts(token.AccessControlUnauthorizedAccount, account=stranger.address, neededRole=KEEPER_ROLE):
        token.rebalance(sender=stranger)
    assert state_of(token, stranger, whale) == before


@pytest.mark.parametrize("price", [30_000, 26_100], ids=["at-target", "out-of-band-below-ripcord"])
def test_ripcord__not_due__RipcordNotDue_no_bounty(token, stranger, whale, usd, set_price, pin, state_of, price, reverts):
    set_price(price)
    pin()
    leverage = token.leverage()
    before = state_of(token, stranger, whale)
    with reverts(token.RipcordNotDue, leverage=leverage):
        token.ripcord(sender=stranger)
    assert state_of(token, stranger, whale) == before
    assert usd.balanceOf(stranger) == 0


def test_ripcord__extreme_gas_price__same_fixed_bounty(token, chain, stranger, usd, set_price, pin):
    set_price(25_500)  # about 4.64x, past the 4.5x ripcord
    pin()
    status = token.rebalanceStatus()
    assert status.action == Action.RIPCORD
    bounty = min(token.params().ripcordBounty, status.equity * 100 // 10_000)
    assert bounty == to_units(10)

    paid = {}
    for gas_price in (chain.provider.base_fee + 1, 10**13):  # ~1 gwei and 10,000 gwei
        snapshot = chain.snapshot()
        pin()
        tx = token.ripcord(sender=stranger, gas_price=gas_price)
        assert tx.gas_price == gas_price
        event = tx.events.filter(token.RipcordBountyPaid)[0]
        paid[gas_price] = (usd.balanceOf(stranger), event.amount, token.equity())
        chain.restore(snapshot)
    low, high = paid.values()
    # Paid in collateral, capped by ripcordBounty and 1% of equity; the gas price enters nothing.
    assert low == high
    assert low[0] == low[1] == bounty


def test_settle__stranger_before_window__FallbackNotOpen_state_unchanged(
    token, chain, feed, gov, request_deposit, whale, fish, stranger, state_of, reverts
):
    request_deposit(token, fish, 10_000)
    token.requestRedeem(token.balanceOf(whale) // 10, whale, whale, sender=whale)
    advance(chain, 1)
    feed.submit(to_feed(30_000), sender=gov)
    formed = head_time(chain)
    window = token.params().settlementWindow
    before = state_of(token, stranger, whale, fish)
    chain.pending_timestamp = formed + window - 1
    with reverts(token.FallbackNotOpen, opensAt=formed + window):
        token.settle(sender=stranger)
    # The keeper's forwarder entry point stays the keeper's while SETTLE is due.
    assert token.rebalanceStatus().action == Action.SETTLE
    with reverts(token.AccessControlUnauthorizedAccount, account=stranger.address, neededRole=KEEPER_ROLE):
        token.performUpkeep(b"", sender=stranger)
    assert state_of(token, stranger, whale, fish) == before
    assert token.pendingRedeemRequest(0, whale) > 0 and token.pendingDepositRequest(0, fish) > 0


def test_settle__stranger_after_window__deposits_never_settled(
    token, chain, feed, gov, keeper, request_deposit, fish, stranger, state_of, reverts
):
    assets = request_deposit(token, fish, 10_000)
    advance(chain, 1)
    feed.submit(to_feed(30_000), sender=gov)
    chain.pending_timestamp = head_time(chain) + 2 * token.params().settlementWindow
    before = state_of(token, stranger, fish)
    with reverts(token.NothingToSettle):
        token.settle(sender=stranger)
    assert state_of(token, stranger, fish) == before
    # Past the window the batch has expired: the keeper cannot settle it either, and the depositor gets a refund.
    with reverts(token.NothingToSettle):
        token.settle(sender=keeper)
    assert token.cancelDepositRequest(fish, fish, sender=fish).return_value == assets


def test_settle__keeper_sends_too_little_gas__reverts_never_defers_the_deposits(
    token, chain, feed, gov, keeper, request_deposit, whale, fish
):
    """A settlement's plan asks the venue for quotes inside try/catch: a keeper that starves the call of gas must
    not make a caught out-of-gas read as the venue refusing the deposits (which would settle the redemptions and
    leave the deposits to expire). Every gas limit from the estimate down to half of it either settles both sides
    or reverts, and the limits where the quote ran dry revert InsufficientGas."""
    request_deposit(token, fish, 5_000)
    token.requestRedeem(token.balanceOf(whale) // 10, whale, whale, sender=whale)
    advance(chain, 1)
    feed.submit(feed.latestRoundData()[1], sender=gov)
    w3 = chain.provider.web3
    tx = {"from": keeper.address, "to": token.address, "data": token.settle.as_transaction(sender=keeper).data}
    estimate = w3.eth.estimate_gas(tx)
    reverted = set()
    for gas in range(estimate, estimate // 2, -(estimate // 100)):
        try:
            w3.eth.call({**tx, "gas": gas})
        except ContractCustomError as err:
            reverted.add(err.data[:10])
            continue
        except (ContractLogicError, Web3RPCError):  # out of gas outside the guarded calls
            continue
        snapshot = chain.snapshot()
        assert w3.eth.wait_for_transaction_receipt(w3.eth.send_transaction({**tx, "gas": gas})).status == 1
        assert token.pendingDepositRequest(0, fish) == 0 and token.pendingRedeemRequest(0, whale) == 0, gas
        chain.restore(snapshot)
    assert error_selector(token.InsufficientGas) in reverted
