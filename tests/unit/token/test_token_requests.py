"""ERC-7540 requests and claims: round trips, claims by input and by output (partial rounds against the
claimer, whole takes exactly the rest), operators, allowances, controller apart from owner, events with
request id 0, and how requests group into epochs by oracle round."""

import pytest

from levtoken.units import to_feed, to_units
from tests.utils import chain as chain_helpers
from tests.utils.requests import settled, settlement_of


def _up(a, b, c):
    return -(-a * b // c)


def _round(chain, feed, gov, seconds=1):
    """Publishes a round of the latest answer `seconds` later."""
    chain_helpers.advance(chain, seconds)
    feed.submit(feed.latestRoundData()[1], sender=gov)


# ----------------------------------------------------------------------------------------------- round trips


def test_requestDeposit__settle_and_claim__round_trip_with_events(token, fund, settle, fish, usd):
    assets = fund(fish, 1_000, token)
    tx = token.requestDeposit(assets, fish, fish, sender=fish)
    assert tx.return_value == 0
    event = tx.events.filter(token.DepositRequest)[0]
    assert (event.controller, event.owner, event.requestId, event.sender, event.assets) == (fish, fish, 0, fish, assets)
    assert usd.balanceOf(fish) == 0
    assert usd.balanceOf(token) == token.escrowAssets() == assets
    assert token.totalSupply() == 0
    (receipt,) = settle(token)
    t = settlement_of(token, receipt)
    assert token.escrowAssets() == 0
    assert token.balanceOf(token) == t.shares_out  # the depositors' shares wait in escrow
    tx = token.deposit(assets, fish, sender=fish)
    assert tx.return_value == t.shares_out
    event = tx.events.filter(token.Deposit)[0]
    assert (event.sender, event.owner, event.assets, event.shares) == (fish, fish, assets, t.shares_out)
    assert token.balanceOf(fish) == t.shares_out
    assert token.balanceOf(token) == 0


def test_requestRedeem__settle_and_claim__round_trip_with_events(held, settle, whale, fish, usd):
    token = held
    shares = token.balanceOf(whale) // 2
    tx = token.requestRedeem(shares, whale, whale, sender=whale)
    assert tx.return_value == 0
    event = tx.events.filter(token.RedeemRequest)[0]
    assert (event.controller, event.owner, event.requestId, event.sender, event.shares) == (whale, whale, 0, whale, shares)
    assert token.balanceOf(token) == shares
    (receipt,) = settle(token)
    t = settlement_of(token, receipt)
    assert token.balanceOf(token) == 0  # burnt, the fee shares to the fee recipient
    assert token.escrowAssets() == usd.balanceOf(token) == t.assets_out
    tx = token.redeem(shares, fish, whale, sender=whale)
    assert tx.return_value == t.assets_out
    event = tx.events.filter(token.Withdraw)[0]
    assert (event.sender, event.receiver, event.owner) == (whale, fish, whale)
    assert (event.assets, event.shares) == (t.assets_out, shares)
    assert usd.balanceOf(fish) == t.assets_out
    assert token.escrowAssets() == 0


# ----------------------------------------------------------------------------------------------- claims


@pytest.fixture
def claimable(held, request_deposit, settle, whale, fish):
    """fish's 1,000 deposit and half the whale's shares' redemption, settled and not claimed."""
    token = held
    request_deposit(token, fish, 1_000)
    token.requestRedeem(token.balanceOf(whale) // 2, whale, whale, sender=whale)
    settle(token)
    return token


@pytest.mark.parametrize("claim", ["deposit", "mint", "redeem", "withdraw"])
def test_claim__partial_then_rest__against_the_claimer_then_exactly_the_rest(claimable, fish, whale, usd, claim):
    """A part claimed by input (deposit, redeem) gives its output rounded down, one claimed by output (mint,
    withdraw) takes its input rounded up; the rest then takes exactly what is left on both sides."""
    token = claimable
    deposit_side, by_input = claim in ("deposit", "mint"), claim in ("deposit", "redeem")
    claimer = fish if deposit_side else whale
    views = (token.maxDeposit, token.maxMint) if deposit_side else (token.maxRedeem, token.maxWithdraw)
    received = token if deposit_side else usd  # the claim pays shares, or collateral

    def claimable_pair():  # (input, output)
        return tuple(view(claimer) for view in views)

    def take(amount):
        receiver = (claimer,) if deposit_side else (claimer, claimer)
        return getattr(token, claim)(amount, *receiver, sender=claimer).return_value

    inp, out = claimable_pair()
    given, other = (inp, out) if by_input else (out, inp)
    before = received.balanceOf(claimer)
    part = given // (3 if by_input else 7)
    first = take(part)
    assert first == (part * other // given if by_input else _up(part, other, given))
    assert claimable_pair() == ((inp - part, out - first) if by_input else (inp - first, out - part))
    assert take(given - part) == other - first
    assert received.balanceOf(claimer) - before == out
    assert claimable_pair() == (0, 0)


@pytest.mark.parametrize("claim", ["deposit", "mint", "redeem", "withdraw"])
def test_claims__one_above_claimable__revert_exceeds_claimable(claimable, fish, whale, claim, reverts):
    token = claimable
    limit, call = {
        "deposit": (token.maxDeposit(fish), lambda n: token.deposit(n, fish, sender=fish)),
        "mint": (token.maxMint(fish), lambda n: token.mint(n, fish, sender=fish)),
        "redeem": (token.maxRedeem(whale), lambda n: token.redeem(n, whale, whale, sender=whale)),
        "withdraw": (token.maxWithdraw(whale), lambda n: token.withdraw(n, whale, whale, sender=whale)),
    }[claim]
    with reverts(token.ExceedsClaimable, amount=limit + 1, claimable=limit):
        call(limit + 1)


def test_claimable__accumulates_across_settlements(held, request_deposit, settle, fish):
    token = held
    first = request_deposit(token, fish, 1_000)
    t1 = settlement_of(token, settle(token)[0])
    second = request_deposit(token, fish, 500)  # checkpoints the first into claimable
    assert token.pendingDepositRequest(0, fish) == second
    assert token.maxDeposit(fish) == first
    t2 = settlement_of(token, settle(token)[0])
    assert token.maxDeposit(fish) == first + second
    assert token.maxMint(fish) == t1.shares_out + t2.shares_out


# ----------------------------------------------------------------------------------------------- operators


def test_setOperator__approve_and_revoke__event_and_view(token, fish, stranger):
    tx = token.setOperator(stranger, True, sender=fish)
    assert tx.return_value is True
    event = tx.events.filter(token.OperatorSet)[0]
    assert (event.controller, event.operator, event.approved) == (fish, stranger, True)
    assert token.isOperator(fish, stranger) and not token.isOperator(stranger, fish)
    tx = token.setOperator(stranger, False, sender=fish)
    assert not tx.events.filter(token.OperatorSet)[0].approved
    assert not token.isOperator(fish, stranger)


def test_operator__requests_and_claims_for_the_controller(held, fund, settle, whale, fish, stranger, usd):
    token = held
    token.setOperator(stranger, True, sender=fish)
    token.setOperator(stranger, True, sender=whale)
    assets = fund(fish, 1_000, token)
    tx = token.requestDeposit(assets, fish, fish, sender=stranger)  # fish's assets, fish's approval of the token
    assert tx.events.filter(token.DepositRequest)[0].sender == stranger
    shares = token.balanceOf(whale) // 4
    token.requestRedeem(shares, whale, whale, sender=stranger)  # no allowance needed
    assert token.allowance(whale, stranger) == 0
    settle(token)
    minted = token.maxMint(fish)
    token.deposit(assets, stranger, fish, sender=stranger)
    assert token.balanceOf(stranger) == minted
    paid = token.maxWithdraw(whale)
    token.redeem(shares, stranger, whale, sender=stranger)
    assert usd.balanceOf(stranger) == paid


def test_operator__not_approved_or_revoked__unauthorized(held, fund, settle, whale, fish, stranger, reverts):
    token = held
    assets = fund(fish, 1_000, token)
    with reverts(token.UnauthorizedOperator, controller=fish.address, caller=stranger.address):
        token.requestDeposit(assets, fish, fish, sender=stranger)
    token.requestDeposit(assets, fish, fish, sender=fish)
    token.requestRedeem(token.balanceOf(whale) // 4, whale, whale, sender=whale)
    settle(token)
    token.setOperator(stranger, True, sender=fish)
    token.setOperator(stranger, False, sender=fish)
    calls = [
        lambda: token.deposit(1, stranger, fish, sender=stranger),
        lambda: token.mint(1, stranger, fish, sender=stranger),
    ]
    for call in calls:
        with reverts(token.UnauthorizedOperator, controller=fish.address, caller=stranger.address):
            call()
    for call in (lambda: token.redeem(1, stranger, whale, sender=stranger), lambda: token.withdraw(1, stranger, whale, sender=stranger)):
        with reverts(token.UnauthorizedOperator, controller=whale.address, caller=stranger.address):
            call()
    with reverts(token.UnauthorizedOperator, controller=fish.address, caller=stranger.address):
        token.cancelDepositRequest(stranger, fish, sender=stranger)


def test_requestRedeem__by_allowance__spent_and_controller_claims(held, settle, whale, stranger, usd):
    token = held
    shares = token.balanceOf(whale) // 4
    token.approve(stranger, shares + 17, sender=whale)
    token.requestRedeem(shares, stranger, whale, sender=stranger)
    assert token.allowance(whale, stranger) == 17
    assert token.pendingRedeemRequest(0, stranger) == shares
    assert token.pendingRedeemRequest(0, whale) == 0
    settle(token)
    paid = token.maxWithdraw(stranger)
    token.redeem(shares, stranger, stranger, sender=stranger)
    assert usd.balanceOf(stranger) == paid > 0


def test_requestDeposit__controller_other_than_owner__controller_claims(
    token, fund, settle, fish, stranger, whale, reverts
):
    assets = fund(fish, 1_000, token)
    token.setOperator(fish, True, sender=stranger)  # the controller lets the owner request for it
    tx = token.requestDeposit(assets, stranger, fish, sender=fish)
    event = tx.events.filter(token.DepositRequest)[0]
    assert (event.controller, event.owner, event.sender) == (stranger, fish, fish)
    assert token.pendingDepositRequest(0, stranger) == assets
    assert token.pendingDepositRequest(0, fish) == 0
    settle(token)
    with reverts(token.UnauthorizedOperator, controller=stranger.address, caller=whale.address):
        token.deposit(assets, whale, stranger, sender=whale)
    minted = token.maxMint(stranger)
    token.deposit(assets, stranger, sender=stranger)
    assert token.balanceOf(stranger) == minted > 0


@pytest.mark.parametrize("side", ["deposit", "redeem"])
def test_request__under_a_controller_that_did_not_approve_the_caller__reverts_unauthorized_operator(
    token, fund, deposit, fish, stranger, reverts, side
):
    """A request under someone else's controller would hold that controller's next request once its epoch
    closes (EarlierRequestPending): refused unless the controller approved the caller."""
    if side == "deposit":
        amount = fund(stranger, 1, token)
        request = token.requestDeposit
    else:
        deposit(token, stranger, 10)
        amount = token.balanceOf(stranger)
        request = token.requestRedeem
    with reverts(token.UnauthorizedOperator, controller=fish.address, caller=stranger.address):
        request(amount, fish, stranger, sender=stranger)
    assert token.pendingDepositRequest(0, fish) == token.pendingRedeemRequest(0, fish) == 0


# ----------------------------------------------------------------------------------------------- epochs


def test_request__earlier_request_in_a_closed_epoch__reverts_earlier_request_pending(
    held, request_deposit, fish, whale, chain, feed, gov, reverts
):
    token = held  # the whale's deposit was epoch 1 of the deposit queue
    request_deposit(token, fish, 1_000)
    request_deposit(token, fish, 500)  # the same open epoch: adds up
    assert token.pendingDepositRequest(0, fish) == to_units(1_500)
    _round(chain, feed, gov)
    with reverts(token.EarlierRequestPending, epoch=2):
        request_deposit(token, fish, 1)
    shares = token.balanceOf(whale) // 4
    token.requestRedeem(shares, whale, whale, sender=whale)
    _round(chain, feed, gov)
    with reverts(token.EarlierRequestPending, epoch=1):
        token.requestRedeem(shares, whale, whale, sender=whale)


def test_epochs__round_in_the_request_second__held_then_priced_with_the_next(
    held, request_deposit, fish, stranger, chain, feed, gov, keeper, reverts
):
    token = held
    request_deposit(token, fish, 1_000)
    request_time = chain_helpers.head_time(chain)
    feed.submit(to_feed(31_000), sender=gov)  # same second: does not price fish's request (held)
    request_deposit(token, stranger, 3_000)  # a new epoch
    with reverts(token.NoNewerPrice, lastRequest=request_time, priceTime=request_time):
        token.settle(sender=keeper)
    chain_helpers.advance(chain, 1)
    feed.submit(to_feed(32_000), sender=gov)
    receipt = token.settle(sender=keeper)
    event = settled(token, receipt)
    t = settlement_of(token, receipt)
    assert event.depositEpoch == 2  # the held epoch, with the next one merged in
    assert (t.assets, t.price) == (to_units(4_000), 32_000 * 10**18)
    assert token.pendingDepositRequest(0, fish) == token.pendingDepositRequest(0, stranger) == 0


def test_epochs__request_after_a_round__waits_for_the_next(
    held, request_deposit, fish, stranger, chain, feed, gov, keeper, settle
):
    token = held
    request_deposit(token, fish, 1_000)
    _round(chain, feed, gov)
    request_deposit(token, stranger, 3_000)
    receipt = token.settle(sender=keeper)
    assert settled(token, receipt).depositEpoch == 2
    assert settlement_of(token, receipt).assets == to_units(1_000)
    assert token.pendingDepositRequest(0, stranger) == to_units(3_000)
    (receipt,) = settle(token)
    assert settled(token, receipt).depositEpoch == 3
    assert token.maxDeposit(stranger) == to_units(3_000)


def test_batch__several_requesters__pro_rata_at_one_price(held, request_deposit, settle, fish, stranger, whale):
    token = held
    request_deposit(token, fish, 1_000)
    request_deposit(token, stranger, 3_000)
    shares = token.balanceOf(whale)
    token.approve(fish, shares // 2, sender=whale)
    token.requestRedeem(shares // 4, whale, whale, sender=whale)
    token.requestRedeem(shares // 2, fish, whale, sender=fish)  # by allowance, fish controls it
    t = settlement_of(token, settle(token)[0])
    assert t.assets == to_units(4_000)
    assert token.maxMint(fish) == t.shares_out * 1_000 // 4_000
    assert token.maxMint(stranger) == t.shares_out * 3_000 // 4_000
    assert t.shares_out - token.maxMint(fish) - token.maxMint(stranger) < 2
    total = shares // 4 + shares // 2
    assert t.shares == total
    assert token.maxWithdraw(whale) == t.assets_out * (shares // 4) // total
    assert token.maxWithdraw(fish) == t.assets_out * (shares // 2) // total
