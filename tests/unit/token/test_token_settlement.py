"""Settlement: deposits and redemptions net into one venue trade whose cost is split by what each side
would cost alone (holders who did nothing lose nothing); NoNewerPrice and NothingToSettle; the fallback
for redemptions after the window; deposit expiry and cancellation; the supply cap; the SETTLE action of
rebalanceStatus and performUpkeep; escrow outside equity."""

from ape.exceptions import ContractLogicError

from levtoken.shapes import Action, Reason
from levtoken.units import to_units
from tests.utils import chain as chain_helpers
from tests.utils.constants import KEEPER_ROLE
from tests.utils.requests import quiet, settled, settlement_of

WINDOW = 3_600  # the factory's default settlement window
MAX = 2**256 - 1


def _up(a, b, c):
    return -(-a * b // c)


def _round(chain, feed, gov, seconds=1):
    """Publishes a round of the latest answer `seconds` later; returns its updatedAt."""
    chain_helpers.advance(chain, seconds)
    feed.submit(feed.latestRoundData()[1], sender=gov)
    return feed.latestRoundData()[3]


def _quote_total(venue, size_delta, block):
    """Fee plus impact the venue quotes for `size_delta` alone at `block` (0 for no trade)."""
    if size_delta == 0:
        return 0
    _, _, fee, impact = venue.quoteTrade(1, size_delta, block_id=block)
    return fee + impact


# ----------------------------------------------------------------------------------------------- netting


def test_settlement__deposits_and_redemptions__one_trade_cost_split_by_cost_alone(
    held, deposit, request_deposit, settle, whale, fish, stranger, venue
):
    token = held
    deposit(token, stranger, 5_000)  # a holder who does nothing
    request_deposit(token, fish, 20_000)
    shares = token.balanceOf(whale) // 3
    token.requestRedeem(shares, whale, whale, sender=whale)
    (receipt,) = settle(token)
    t = settlement_of(token, receipt)
    before = receipt.block_number - 1

    trades = [e for e in receipt.events.filter(venue.PositionModified) if e.account == token.address]
    assert len(trades) == 1
    assert trades[0].sizeDelta == t.size_delta
    # Each side's share is the netted cost in proportion to its own trade's quoted cost, rounded up.
    supply = token.totalSupply(block_id=before) + token.pendingStreamingFee(block_id=before)
    _, size, _ = venue.accountState(1, token, block_id=before)
    close = -(size * (t.shares - t.redeem_fee) // supply)
    hedge = t.size_delta - close
    quote_d, quote_r = _quote_total(venue, hedge, before), _quote_total(venue, close, before)
    assert quote_d > 0 and quote_r > 0
    assert t.cost_d == _up(t.cost, quote_d, quote_d + quote_r)
    assert t.cost_r == _up(t.cost, quote_r, quote_d + quote_r)
    assert t.cost < quote_d + quote_r  # netting: one smaller trade
    # The holders who did nothing lose nothing: NAV across the settlement (same second) does not fall.
    assert token.navPerToken(block_id=receipt.block_number) >= token.navPerToken(block_id=before)
    assert token.convertToAssets(token.balanceOf(stranger), block_id=receipt.block_number) >= token.convertToAssets(
        token.balanceOf(stranger), block_id=before
    )


# ----------------------------------------------------------------------------------------------- errors


def test_settle__no_request__reverts_nothing_to_settle(held, keeper, settle, reverts, chain, feed, gov):
    token = held
    with reverts(token.NothingToSettle):
        token.settle(sender=keeper)
    _round(chain, feed, gov)
    with reverts(token.NothingToSettle):
        token.settle(sender=keeper)


def test_settle__no_round_after_the_request__reverts_no_newer_price(held, fund, fish, whale, keeper, feed, chain, reverts):
    token = held
    price_time = feed.latestRoundData()[3]
    chain_helpers.advance(chain, 5)
    token.requestRedeem(10**18, whale, whale, sender=whale)
    request_time = chain_helpers.head_time(chain)
    with reverts(token.NoNewerPrice, lastRequest=request_time, priceTime=price_time):
        token.settle(sender=keeper)


def test_settle__keeper_role__redeemers_in_the_batch_only_for_redemptions_after_the_window(
    held, request_deposit, whale, fish, stranger, keeper, chain, feed, gov, reverts
):
    token = held
    assets = request_deposit(token, fish, 1_000)
    token.requestRedeem(token.balanceOf(whale) // 2, whale, whale, sender=whale)
    price_time = _round(chain, feed, gov)
    with reverts(token.FallbackNotOpen, opensAt=price_time + WINDOW):
        token.settle(sender=stranger)
    chain.pending_timestamp = price_time + WINDOW - 1
    with reverts(token.FallbackNotOpen, opensAt=price_time + WINDOW):
        token.settle(sender=stranger)
    chain.pending_timestamp = price_time + WINDOW
    for outsider in (stranger, fish):  # no redemption at all, or only a deposit: nobody else picks the round
        with reverts(token.NotInRedemptionBatch, caller=outsider.address):
            token.settle(sender=outsider)
    receipt = token.settle(sender=whale)
    event = settled(token, receipt)
    assert event.fallback_ and event.depositEpoch == 0 and event.redeemEpoch != 0
    assert event.priceTime == price_time
    # The deposits are not settled by it: their batch expired with the window.
    expired = receipt.events.filter(token.DepositsExpired)[0]
    assert (expired.epoch, expired.assets) == (2, assets)
    assert token.pendingDepositRequest(0, fish) == assets
    assert token.maxWithdraw(whale) > 0


def test_settle__stranger_with_only_deposits_waiting__settles_nothing(
    held, request_deposit, fish, stranger, chain, feed, gov, reverts
):
    token = held
    request_deposit(token, fish, 1_000)
    price_time = _round(chain, feed, gov)
    chain.pending_timestamp = price_time + WINDOW
    with reverts(token.NothingToSettle):
        token.settle(sender=stranger)


# ----------------------------------------------------------------------------------------------- expiry and cancel


def test_deposit_batch__window_passed__expires_and_only_cancels(
    held, venue, fund, request_deposit, fish, stranger, keeper, chain, feed, gov, usd, reverts
):
    token = held
    assets = request_deposit(token, fish, 1_000)
    # Not yet qualified: cancellable only if the feed stays silent past its heartbeat and the window.
    deadline = feed.latestRoundData()[3] + venue.marketConfig(1).heartbeat + WINDOW
    with reverts(token.CancelTooEarly, allowedAt=deadline):
        token.cancelDepositRequest(fish, fish, sender=fish)
    price_time = _round(chain, feed, gov)
    # A request by someone else rolls the queue: fish's epoch becomes the batch, its window starts.
    request_deposit(token, stranger, 10)
    with reverts(token.CancelTooEarly, allowedAt=price_time + WINDOW):
        token.cancelDepositRequest(fish, fish, sender=fish)
    assert token.rebalanceStatus().action == Action.SETTLE
    chain_helpers.mine_at(chain, price_time + WINDOW)
    assert token.rebalanceStatus().action == Action.NONE  # an expired batch is not settled
    with reverts(token.NoNewerPrice, lastRequest=price_time, priceTime=price_time):  # only stranger's waits
        token.settle(sender=keeper)
    # The next roll retires the batch: DepositsExpired.
    tx = token.requestDeposit(fund(stranger, 10, token), stranger, stranger, sender=stranger)
    expired = tx.events.filter(token.DepositsExpired)[0]
    assert (expired.epoch, expired.assets) == (2, assets)
    assert token.pendingDepositRequest(0, fish) == assets  # pending until cancelled
    with reverts(token.EarlierRequestPending, epoch=2):
        request_deposit(token, fish, 10)
    escrow = token.escrowAssets()
    tx = token.cancelDepositRequest(stranger, fish, sender=fish)
    assert tx.return_value == assets
    event = tx.events.filter(token.DepositRequestCancelled)[0]
    assert (event.controller, event.receiver, event.sender, event.assets) == (fish, stranger, fish, assets)
    assert usd.balanceOf(stranger) == assets
    assert token.escrowAssets() == escrow - assets
    assert token.pendingDepositRequest(0, fish) == 0
    with reverts(token.NoPendingRequest, controller=fish.address):
        token.cancelDepositRequest(fish, fish, sender=fish)
    request_deposit(token, fish, 10)  # free to request again


def test_cancelDepositRequest__settled_or_none__reverts(token, request_deposit, settle, fish, stranger, reverts):
    with reverts(token.NoPendingRequest, controller=stranger.address):
        token.cancelDepositRequest(stranger, stranger, sender=stranger)
    request_deposit(token, fish, 1_000)
    settle(token)
    token.deposit(1, fish, sender=fish)  # a claim checkpoints the settled request into claimable
    with reverts(token.NoPendingRequest, controller=fish.address):
        token.cancelDepositRequest(fish, fish, sender=fish)


def test_cancelDepositRequest__settled_not_checkpointed__reverts_request_already_settled(
    token, request_deposit, settle, fish, reverts
):
    request_deposit(token, fish, 1_000)
    settle(token)
    # fish has not touched the book since: the settled request still sits in fish's account as pending.
    with reverts(token.RequestAlreadySettled, epoch=1):
        token.cancelDepositRequest(fish, fish, sender=fish)


def test_fallback__rounds_more_often_than_the_window__opens_a_window_after_a_poke(
    held, whale, stranger, chain, feed, gov
):
    """A settle() that reverts FallbackNotOpen undoes its own roll, so with rounds every half window
    and nothing else happening opensAt moves with each round; the redeemer's poke() after the qualifying round
    keeps the roll, and the fallback opens one window after that round."""
    token = held
    token.requestRedeem(token.balanceOf(whale) // 2, whale, whale, sender=whale)
    first = _round(chain, feed, gov)  # qualifies the redemption; keepers then stay silent
    token.poke(sender=whale)
    settled_at = None
    for _ in range(6):  # three hours of half-hourly rounds; the redeemer tries after each one
        _round(chain, feed, gov, WINDOW // 2)
        try:
            with quiet():
                token.settle(sender=whale)
            settled_at = chain_helpers.head_time(chain)
            break
        except ContractLogicError:
            continue
    assert settled_at is not None and first + WINDOW <= settled_at <= first + WINDOW + WINDOW // 2


# ----------------------------------------------------------------------------------------------- supply cap


def test_requestDeposit__supply_at_cap__reverts_supply_cap_exceeded(held, request_deposit, fish, set_params, reverts):
    token = held
    set_params(token, supplyCap=token.totalSupply())  # accrues the streaming fee first
    supply = token.totalSupply()
    set_params(token, supplyCap=supply)
    with reverts(token.SupplyCapExceeded, supplyAfter=supply, cap=supply):
        request_deposit(token, fish, 1_000)


def test_requestDeposit__alone_past_the_cap__reverts_and_takes_nothing(held, fund, fish, usd, set_params, reverts):
    token = held
    set_params(token, supplyCap=token.totalSupply() + 100 * 10**18)  # room for about 100 USD of shares
    cap = token.params().supplyCap
    assets = fund(fish, 1_000, token)
    with reverts(token.SupplyCapExceeded, cap=cap) as info:
        token.requestDeposit(assets, fish, fish, sender=fish)
    assert info.value.inputs["supplyAfter"] > cap
    assert usd.balanceOf(fish) == assets and token.pendingDepositRequest(0, fish) == 0
    token.requestDeposit(assets // 20, fish, fish, sender=fish)  # 50 USD fits
    assert token.pendingDepositRequest(0, fish) == assets // 20


def test_settlement__batch_past_the_cap__fills_pro_rata_and_claims_return_the_rest(
    held, request_deposit, settle, whale, fish, stranger, usd, set_params
):
    token = held
    room = 1_000 * 10**18 * token.totalSupply() // token.totalAssets() // 10**12  # about 1,000 USD of shares
    set_params(token, supplyCap=token.totalSupply() + room)
    cap = token.params().supplyCap
    requested = {fish: request_deposit(token, fish, 800), stranger: request_deposit(token, stranger, 600)}
    shares = token.balanceOf(whale) // 100
    token.requestRedeem(shares, whale, whale, sender=whale)  # redemptions make room in the same settlement
    (receipt,) = settle(token)
    t = settlement_of(token, receipt)
    total = sum(requested.values())
    assert t.shares == shares and t.assets + t.refunded == total and 0 < t.refunded < total
    # The cap is filled to within a cent's shares, never passed.
    supply = token.totalSupply()
    assert supply <= cap
    assert cap - supply < token.convertToShares(10**4)
    # Every depositor gets the same fraction, shares and refund, and nothing more than its request.
    for account, assets in requested.items():
        assert token.maxDeposit(account) == assets
        before = usd.balanceOf(account)
        claim = token.deposit(assets, account, account, sender=account)
        (refunded,) = claim.decode_logs(token.DepositRefunded)
        (deposited,) = claim.decode_logs(token.Deposit)
        assert refunded.assets == t.refunded * assets // total
        assert usd.balanceOf(account) - before == refunded.assets
        assert deposited.assets == assets - refunded.assets
        assert deposited.shares == t.shares_out * assets // total
    # What escrow keeps besides the redeemer's assets is the claims' rounding.
    assert token.maxDeposit(fish) == 0 and token.escrowAssets() - token.maxWithdraw(whale) <= 2


def test_settlement__deposits_claimed_in_parts__take_the_whole_refund(
    held, request_deposit, settle, whale, fish, usd, set_params
):
    token = held
    room = 500 * 10**18 * token.totalSupply() // token.totalAssets() // 10**12
    set_params(token, supplyCap=token.totalSupply() + room)
    assets = request_deposit(token, fish, 400)
    request_deposit(token, whale, 400)  # another depositor makes the batch pass the cap
    (receipt,) = settle(token)
    t = settlement_of(token, receipt)
    before = usd.balanceOf(fish)
    shares_before = token.balanceOf(fish)
    for part in (assets // 3, assets // 3, assets - 2 * (assets // 3)):
        token.deposit(part, fish, fish, sender=fish)
    assert usd.balanceOf(fish) - before == t.refunded * assets // (2 * assets)
    assert token.balanceOf(fish) - shares_before == t.shares_out * assets // (2 * assets)


# ----------------------------------------------------------------------------------------------- status and upkeep


def test_rebalanceStatus__requests_qualified__reports_settle_and_upkeep_settles(
    held, request_deposit, whale, fish, keeper, stranger, chain, feed, gov, reverts
):
    token = held
    assets = request_deposit(token, fish, 1_000)
    shares = token.balanceOf(whale) // 5
    token.requestRedeem(shares, whale, whale, sender=whale)
    assert token.rebalanceStatus().action == Action.NONE  # no round after them yet
    price_time = _round(chain, feed, gov)
    status = token.rebalanceStatus()
    assert (status.action, status.reason) == (Action.SETTLE, Reason.REQUESTS)
    assert (status.depositAssets, status.redeemShares, status.priceTime) == (assets, shares, price_time)
    needed, data = token.checkUpkeep(b"")
    assert needed
    with reverts(token.AccessControlUnauthorizedAccount, account=stranger.address, neededRole=KEEPER_ROLE):
        token.performUpkeep(data, sender=stranger)
    receipt = token.performUpkeep(data, sender=keeper)
    t = settlement_of(token, receipt)
    assert (t.assets, t.shares, t.size_delta, t.price) == (assets, shares, status.sizeDelta, status.price)
    assert token.rebalanceStatus().action == Action.NONE


def test_rebalanceStatus__priority__ripcord_then_settle_then_rebalance(
    held, request_deposit, fish, keeper, chain, feed, gov, set_price
):
    token = held
    request_deposit(token, fish, 1_000)
    chain_helpers.advance(chain, 1)
    set_price(26_000)  # out of the band: a rebalance is due too
    assert token.rebalanceStatus().action == Action.SETTLE
    chain_helpers.advance(chain, 1)
    set_price(23_500)  # past the ripcord leverage
    assert token.rebalanceStatus().action == Action.RIPCORD
    token.performUpkeep(b"", sender=keeper)  # the ripcord first
    assert token.rebalanceStatus().action == Action.SETTLE
    token.performUpkeep(b"", sender=keeper)
    assert token.maxDeposit(fish) == to_units(1_000)


# ----------------------------------------------------------------------------------------------- escrow


def test_requests__escrow_outside_equity__nav_unchanged(held, request_deposit, settle, whale, fish, usd):
    token = held
    equity, nav, supply = token.equity(), token.navPerToken(), token.totalSupply()
    assets = request_deposit(token, fish, 5_000)
    token.requestRedeem(token.balanceOf(whale) // 2, whale, whale, sender=whale)
    assert (token.equity(), token.navPerToken(), token.totalSupply()) == (equity, nav, supply)
    assert token.escrowAssets() == assets == usd.balanceOf(token)
    settle(token)
    token.deposit(assets, fish, sender=fish)
    # The redeemers' assets wait in escrow, outside equity: claiming them moves no NAV.
    equity, nav = token.equity(), token.navPerToken()
    assert token.escrowAssets() == token.maxWithdraw(whale) == usd.balanceOf(token)
    token.redeem(token.maxRedeem(whale), whale, whale, sender=whale)
    assert (token.equity(), token.navPerToken()) == (equity, nav)
    assert token.escrowAssets() == 0
