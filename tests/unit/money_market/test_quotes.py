"""quoteModify against modifyPosition on the money-market venue (contracts/venues/MoneyMarketVenue.sol).

For a registered account's short history on one side (opening, growing, levering up to and past the venue's maxLtv
and Morpho's LLTV, shrinking, closing, paying margin in and out, and any change at all), with days of Morpho interest
and small moves of the feed between changes, the quote made just before each change (a view, at the same block
time) is what the change then does, to the unit: the same valueBefore and valueAfter, or the same custom error with
the same arguments. Before and after every change the account's value and size are what the protocols make them,
computed here from Morpho's position and market (its interest since its last update accrued in Python: IrmMock's
rate, Morpho's compounding and share math), the feed's price and the venue's cash; so are the change's valueBefore
and valueAfter. An account the venue has not registered is quoted all the same, but cannot change a position.
"""

from __future__ import annotations

from decimal import Decimal

import pytest
from ape.exceptions import ContractLogicError
from eth_abi import decode
from hypothesis import event, given, note, settings
from hypothesis import strategies as st
from web3.exceptions import ContractLogicError as CallReverted

from levtoken.keeper.reverts import decode_revert_data
from levtoken.money_market import LONG, SHORT, position_from_protocols, scales
from levtoken.protocols import arbitrage
from levtoken.units import BPS, DAY, FEED_DECIMALS, WAD, to_units
from tests.utils import chain as chain_helpers
from tests.utils.requests import quiet
from tests.utils.strategies import HEALTH

MARKET = 1  # the money-market fixture's one market (mm.market_id)
VALUE_SCALE, _ = scales(18, 6)  # raw asset (18 decimals) * price (18) / VALUE_SCALE = stablecoin units (6)
FUNDS = to_units(10_000_000)  # the trader's stablecoin, approved to the venue

# A change: (kind, marginDelta in stablecoin units, amount). "grow" trades `amount` (asset wad) in the side's
# direction with margin paid in; "lever" as much as `amount` tenths of the margin at the feed's price (past 5x on a
# long, 4x on a short, the venue's maxLtv refuses it; past about 7x and 6x, Morpho's LLTV); "shrink" trades back
# `amount` bps of the size held with margin paid out (all of it at 10,000 bps: a close); "any" is any change at all
# (`amount` the signed sizeDelta), the wrong way included.
opening = st.one_of(
    st.tuples(st.just("grow"), st.integers(1, to_units(200_000)), st.integers(1, 10 * WAD)),
    st.tuples(st.just("lever"), st.integers(1, to_units(35_000)), st.integers(10, 80)),
)
change = st.one_of(
    opening,
    st.tuples(st.just("shrink"), st.one_of(st.just(0), st.integers(-to_units(50_000), 0)),
              st.one_of(st.just(BPS), st.integers(1, BPS))),
    st.tuples(st.just("any"), st.integers(-to_units(50_000), to_units(200_000)), st.integers(-10 * WAD, 10 * WAD)),
)
# Before a change: seconds that pass (the feed then publishes again) and a move of the feed (bps, and whether an
# arbitrageur then brings the pool to it), if any.
pause = st.one_of(st.just(0), st.sampled_from([1, 3_600, DAY]), st.integers(1, 30 * DAY))
move = st.one_of(st.none(), st.tuples(st.integers(-300, 300), st.booleans()))


def check_state(mm, feed, chain, account, side: int, label: str) -> tuple[int, int]:
    """Asserts accountState's value and size and book's side are the protocols' (levtoken.money_market's
    position_from_protocols: Morpho's position and market, interest accrued at its IRM's rate to the head block, the
    feed's price and the venue's cash); returns them."""
    value, size = position_from_protocols(mm, account, chain_helpers.head_time(chain))
    state = tuple(mm.venue.accountState(MARKET, account))[:2]
    assert state == (value, size), f"{label}: accountState {state}, the protocols make it {value, size}"
    assert mm.venue.book(MARKET, account)[0] == side, f"{label}: the venue's side is not {side}"
    return value, size


def eth_call(chain, to, data: bytes, sender=None) -> bytes | tuple:
    """The head block's eth_call of `data` to `to` (from `sender`): its return data, or ("reverts", error name,
    arguments) decoded from its exact revert data (ape words a call's custom error lossily, its arguments' bytes as
    text; a revert that is not one of the project's errors is its data in hex)."""
    call = {"to": to.address, "data": data} | ({"from": sender.address} if sender else {})
    try:
        return chain.provider.web3.eth.call(call)
    except CallReverted as err:
        return ("reverts", *(decode_revert_data(err.data) or (err.data, {})))


def quote(chain, venue, account, margin_delta: int, size_delta: int) -> tuple:
    """quoteModify's ("values", valueBefore, valueAfter), or its revert (see eth_call)."""
    out = eth_call(chain, venue, venue.quoteModify.encode_input(MARKET, account, margin_delta, size_delta))
    return out if isinstance(out, tuple) else ("values", *decode(["int256", "int256"], out[:64]))


def execute(chain, venue, account, margin_delta: int, size_delta: int) -> tuple:
    """modifyPosition sent by `account` (paying out to itself): ("values", valueBefore, valueAfter) from its
    PositionModified, or its revert, read from the same call from `account` (nothing was mined; see eth_call)."""
    with quiet():
        try:
            receipt = venue.modifyPosition(MARKET, margin_delta, size_delta, account, sender=account)
        except ContractLogicError:
            reverted = eth_call(chain, venue, venue.modifyPosition.encode_input(MARKET, margin_delta, size_delta,
                                                                               account), account)
            assert isinstance(reverted, tuple), "the transaction reverts but the same call from its sender does not"
            return reverted
    (modified,) = receipt.decode_logs(venue.PositionModified)
    return ("values", modified.valueBefore, modified.valueAfter)


def resolved(kind: str, margin: int, amount: int, direction: int, size: int, price: int) -> tuple[int, int]:
    """A change's (marginDelta, sizeDelta) for an account of `size` whose side buys in `direction` (+1 long, -1
    short), at the 18-decimal `price`: see `change`."""
    if kind == "grow":
        return margin, direction * amount
    if kind == "lever":
        return margin, direction * (margin * amount // 10 * VALUE_SCALE // price)
    if kind == "shrink":
        part = abs(size) * amount // BPS
        return margin, -part if size > 0 else part
    return margin, amount


@pytest.fixture(scope="session", autouse=True)
def _quotes_session(gov, whale, fish, usd, feed, outsiders, reverts):
    """Sets up the session fixtures before any test's snapshot, so ape need not rebase its isolation."""


@pytest.fixture(scope="module")
def trader(mm, usd, gov, fish):
    """A registered EOA with FUNDS of stablecoin approved to the venue."""
    assert mm.market_id == MARKET
    mm.venue.register(fish, True, sender=gov)
    usd.mint(fish, FUNDS, sender=fish)
    usd.approve(mm.venue, FUNDS, sender=fish)
    return fish


@pytest.fixture(scope="module")
def arbitrageur(mm, usd, whale):
    """An account with enough of both tokens to bring the pool to any nearby price."""
    mm.asset.mint(whale, 10_000 * WAD, sender=whale)
    usd.mint(whale, to_units(1_000_000_000), sender=whale)
    return whale


@settings(max_examples=40, deadline=None, suppress_health_check=HEALTH)
@given(side=st.sampled_from([LONG, SHORT]), first=opening,
       steps=st.lists(st.tuples(pause, move, change), max_size=3))
def test_quote_modify__short_histories__equals_the_change_to_the_unit(usd, feed, gov, chain, mm, trader, arbitrageur,
                                                                     side, first, steps):
    """Every quote of a registered account's change is what the change then does (values or the named error and its
    arguments); before and after every change, pauses and moves of the feed included, the account's value and size
    are what Morpho, the feed and the venue's cash make them, and so are the change's valueBefore and valueAfter."""
    venue = mm.venue
    held = 0  # the venue's side of the account: none until a trade executes
    snapshot = chain.snapshot()
    try:
        for index, (seconds, moved, (kind, margin, amount)) in enumerate([(0, None, first), *steps]):
            label = f"change {index}"
            if seconds or moved:
                bps, arbitraged = moved or (0, False)
                chain_helpers.advance(chain, seconds)
                answer = feed.latestRoundData()[1] * (BPS + bps) // BPS
                feed.submit(answer, sender=gov)
                if arbitraged:
                    arbitrage(mm.protocols, mm.pool, mm.asset, usd, Decimal(answer) / 10**FEED_DECIMALS, arbitrageur)
                if seconds and held:
                    event("interest accrues between changes")
                if bps:
                    event(f"the feed moves, the pool {'arbitraged' if arbitraged else 'left'}")
            value, size = check_state(mm, feed, chain, trader, held, f"before {label} ({seconds} s, {moved} later)")
            direction = 1 if (held or side) == LONG else -1
            margin_delta, size_delta = resolved(kind, margin, amount, direction, size, mm.venue.indexPrice(MARKET))
            quoted = quote(chain, venue, trader, margin_delta, size_delta)
            executed = execute(chain, venue, trader, margin_delta, size_delta)
            note(f"{label}: {kind} marginDelta={margin_delta} sizeDelta={size_delta}: quoted {quoted}, "
                 f"executed {executed}")
            assert quoted == executed, f"{label} (marginDelta {margin_delta}, sizeDelta {size_delta})"
            event(f"a change reverts {executed[1]}" if executed[0] == "reverts" else f"a {kind} change executes")
            if executed[0] == "values":
                if not held and size_delta:
                    held = LONG if size_delta > 0 else SHORT
                after, _ = check_state(mm, feed, chain, trader, held, f"after {label}")
                assert executed[1:] == (value, after), f"{label}: the change's values are not the protocols'"
    finally:
        chain.restore(snapshot)


def test_quote_modify__unregistered_account__quotes_but_its_change_reverts_not_registered(usd, outsiders, reverts,
                                                                                        mm):
    """quoteModify is a view: it quotes an account the venue has not registered as any other (nothing before, its
    margin less the swap's cost after), but that account's modifyPosition reverts NotRegistered, though it holds and
    has approved the margin."""
    outsider, margin, size = outsiders[0], to_units(10_000), WAD // 10
    usd.mint(outsider, margin, sender=outsider)
    usd.approve(mm.venue, margin, sender=outsider)
    assert not mm.venue.isRegistered(outsider)
    value_before, value_after, price = mm.venue.quoteModify(MARKET, outsider, margin, size)
    assert value_before == 0 and 0 < value_after < margin
    assert price == mm.venue.indexPrice(MARKET)
    with reverts(mm.venue.NotRegistered, account=outsider.address):
        mm.venue.modifyPosition(MARKET, margin, size, outsider, sender=outsider)
