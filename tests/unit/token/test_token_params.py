"""setParams: every field checked against its bound, each fee's rise per change and the trade cap's floor
(DESIGN.md 11), admin only; the constructor's leverage check."""

import pytest

from levtoken.model.libraries.rebalance_logic import MAX_FEE_STEP_BPS, MAX_STREAMING_FEE_STEP
from levtoken.shapes import Params
from levtoken.units import WAD, to_units, to_wad

ZERO = "0x" + "00" * 20

# (field, rejected value, accepted boundary value or None) for a 3x token (band 2.25-4, ripcord 4.5, cap 6).
# A fee reaches its maximum over several changes (each within its step); one unit more is out of bounds.
BOUNDS = [
    ("leverageMax", 3 * WAD, 3 * WAD + 3 * 10**16 + 1),  # just above target + minDrift
    ("leverageMin", 0, 1),
    ("leverageMin", 3 * WAD, 3 * WAD - 1),
    ("ripcordLeverage", 4 * WAD, 4 * WAD + 1),
    ("ripcordLeverage", 6 * WAD + 1, 6 * WAD),
    ("minDrift", WAD, WAD - 1),
    ("rebalanceInterval", 59, 60),
    ("rebalanceInterval", 7 * 86_400 + 1, 7 * 86_400),
    ("mintFeeBps", 101, 100),
    ("redeemFeeBps", 101, 100),
    ("streamingFeePerDay", 10**15 + 1, 10**15),
    ("feeRecipient", ZERO, None),
    ("maxTradeNotional", 0, 1),
    ("ripcordBounty", to_units(1_000) + 1, to_units(1_000)),
    ("supplyCap", 0, 1),
]


# The most each fee rises in one change (RebalanceLogic.checkSteps).
STEPS = {"mintFeeBps": MAX_FEE_STEP_BPS, "redeemFeeBps": MAX_FEE_STEP_BPS, "streamingFeePerDay": MAX_STREAMING_FEE_STEP}


def _raise_in_steps(token, gov, field, value):
    """Raises `field` to `value` one step at a time, as an admin must."""
    while (current := getattr(token.params(), field)) < value:
        params = Params.abi_dict(token.params())
        params[field] = min(value, current + STEPS[field])
        token.setParams(Params.tuple_of(params), sender=gov)


@pytest.mark.parametrize("field, bad, good", BOUNDS, ids=[f"{b[0]}={b[1]}" for b in BOUNDS])
def test_setParams__out_of_bounds__reverts_naming_the_field(token, gov, field, bad, good, reverts):
    if field in STEPS:
        _raise_in_steps(token, gov, field, good)
    params = Params.abi_dict(token.params())
    params[field] = bad
    with reverts(token.InvalidParameter, name=field):
        token.setParams(Params.tuple_of(params), sender=gov)
    if good is not None:
        params[field] = good
        token.setParams(Params.tuple_of(params), sender=gov)
        assert getattr(token.params(), field) == good


@pytest.mark.parametrize("field", list(STEPS))
def test_setParams__fee_raised_past_its_step__reverts_ConfigStepTooLarge_lowering_is_free(token, gov, field, reverts):
    current = getattr(token.params(), field)
    params = Params.abi_dict(token.params())
    params[field] = current + STEPS[field] + 1
    with reverts(token.ConfigStepTooLarge, name=field, current=current, proposed=current + STEPS[field] + 1,
                 maxStep=STEPS[field]):
        token.setParams(Params.tuple_of(params), sender=gov)
    params[field] = current + STEPS[field]
    token.setParams(Params.tuple_of(params), sender=gov)
    params[field] = 0  # any cut at once
    token.setParams(Params.tuple_of(params), sender=gov)
    assert getattr(token.params(), field) == 0


def test_setParams__trade_cap_cut_below_a_tenth_of_equity__reverts_TradeCapBelowFloor(token, gov, deposit, whale,
                                                                                        reverts):
    deposit(token, whale, 100_000)
    floor = token.equity() // 10
    params = Params.abi_dict(token.params())
    params["maxTradeNotional"] = floor - 1
    with reverts(token.TradeCapBelowFloor, proposed=floor - 1, floor=floor):
        token.setParams(Params.tuple_of(params), sender=gov)
    params["maxTradeNotional"] = floor
    token.setParams(Params.tuple_of(params), sender=gov)
    assert token.params().maxTradeNotional == floor


def test_setParams__trade_cap_already_below_the_floor__may_rise_but_not_fall(token, gov, deposit, whale, reverts):
    """A cap the token outgrew is no reason to block raising it, nor to lower it further."""
    params = Params.abi_dict(token.params())
    params["maxTradeNotional"] = to_units(1_000)
    token.setParams(Params.tuple_of(params), sender=gov)  # an empty token: no floor
    deposit(token, whale, 100_000)
    floor = token.equity() // 10
    params["maxTradeNotional"] = to_units(2_000)
    token.setParams(Params.tuple_of(params), sender=gov)
    params["maxTradeNotional"] = to_units(1_500)
    with reverts(token.TradeCapBelowFloor, proposed=to_units(1_500), floor=floor):
        token.setParams(Params.tuple_of(params), sender=gov)


def test_setParams__admin__stores_and_emits(token, gov, stranger):
    params = Params.abi_dict(token.params())
    params.update(leverageMax=to_wad("3.6"), leverageMin=to_wad("2.5"), ripcordLeverage=to_wad(5), minDrift=to_wad("0.05"),
                  rebalanceInterval=3_600, mintFeeBps=20, redeemFeeBps=30, streamingFeePerDay=2 * 10**14,
                  feeRecipient=stranger.address, maxTradeNotional=to_units(50_000), ripcordBounty=to_units(5),
                  supplyCap=10**30)
    tx = token.setParams(Params.tuple_of(params), sender=gov)
    assert Params.abi_dict(token.params()) == params
    emitted = dict(zip(Params.sol_names(), tx.events.filter(token.ParamsUpdated)[0].params))
    assert emitted.pop("feeRecipient").lower() == params.pop("feeRecipient").lower()
    assert emitted == params


def test_setParams__not_admin__reverts(token, keeper, reverts):
    params = Params.tuple_of(Params.abi_dict(token.params()))
    with reverts(token.AccessControlUnauthorizedAccount, account=keeper.address, neededRole=b"\x00" * 32):
        token.setParams(params, sender=keeper)


def test_setParams__band_narrowed__rebalance_falls_due(token, deposit, whale, keeper, set_price, set_params):
    deposit(token, whale, 10_000)
    set_price(28_500)  # -5%: about 3.35x, inside 2.25-4x
    assert token.rebalanceStatus().action == 0
    set_params(token, leverageMax=to_wad("3.2"))
    status = token.rebalanceStatus()
    assert (status.action, status.reason) == (1, 2)


def test_roles__factory_token__admin_keeper_guardian(token, gov, keeper, stranger):
    from eth_utils import keccak

    assert token.hasRole(b"\x00" * 32, gov)
    assert token.hasRole(keccak(text="KEEPER_ROLE"), keeper)
    assert token.hasRole(keccak(text="GUARDIAN_ROLE"), gov)
    assert not token.hasRole(keccak(text="KEEPER_ROLE"), stranger)


@pytest.mark.parametrize("max_leverage", [to_wad(2), to_wad("2.9"), to_wad(21)])
def test_constructor__hard_cap_below_target_or_above_limit__reverts(create_token, factory, max_leverage, reverts):
    with reverts(factory.LeverageOutOfRange, targetLeverage=3 * WAD):
        create_token(3, max_leverage=max_leverage)


def test_constructor__hard_cap_equal_to_target_band__accepted(create_token):
    token = create_token(2, max_leverage=to_wad(3))
    assert token.maxLeverage() == 3 * WAD
