"""LeveragedTokenFactory: CREATE2 creation at the predicted address, registry, names, default
parameters and every rejection."""

import pytest
from ape import project
from eth_abi import encode
from eth_utils import keccak, to_checksum_address, to_hex
from web3.exceptions import ContractCustomError
from hexbytes import HexBytes

from levtoken.shapes import Params
from levtoken.units import WAD, to_units, to_wad

ZERO = "0x" + "00" * 20


def _strip_metadata(code) -> bytes:
    code = bytes(HexBytes(code))
    length = int.from_bytes(code[-2:], "big") + 2
    return code[:-length] if length <= len(code) else code


def test_tokenCodeHash__deployed__hash_of_creation_code_without_metadata(factory, creation_code, venue):
    assert factory.tokenCodeHash() == keccak(_strip_metadata(creation_code))
    assert factory.venue() == venue.address


def test_createToken__owner__deploys_at_predicted_address_and_registers(factory, spec, creation_code, gov, keeper, venue):
    s = spec(3)
    predicted = factory.predictAddress(s, creation_code)
    tx = factory.createToken(s, creation_code, sender=gov)
    event = tx.events.filter(factory.TokenCreated)[0]
    assert event.token == predicted
    assert (event.marketId, event.targetLeverage, event.name, event.symbol) == (1, 3 * WAD, "BTC 3x Long", "BTC3L")
    assert factory.tokenFor(1, 3 * WAD) == predicted
    assert factory.tokenCount() == 1
    assert factory.tokens(0) == predicted
    token = project.LeveragedToken.at(predicted)
    assert (token.name(), token.symbol()) == ("BTC 3x Long", "BTC3L")
    assert token.venue() == venue.address
    assert token.marketId() == 1
    assert token.targetLeverage() == 3 * WAD
    assert token.maxLeverage() == 6 * WAD  # 0 in the spec: twice |target|
    assert token.hasRole(b"\x00" * 32, gov)
    assert token.hasRole(keccak(text="KEEPER_ROLE"), keeper)
    assert token.hasRole(keccak(text="GUARDIAN_ROLE"), gov)


def test_createToken__several__registry_in_creation_order(factory, spec, creation_code, gov):
    for leverage in (3, -1, 2.5):
        factory.createToken(spec(leverage), creation_code, sender=gov)
    assert factory.tokenCount() == 3
    addresses = [factory.tokens(i) for i in range(3)]
    assert addresses == [factory.tokenFor(1, to_wad(l)) for l in (3, -1, 2.5)]
    assert len(set(addresses)) == 3
    assert factory.tokenFor(1, 2 * WAD) == ZERO
    symbols = [project.LeveragedToken.at(a).symbol() for a in addresses]
    assert symbols == ["BTC3L", "BTC1S", "BTC2.5L"]


def test_createToken__explicit_hard_cap__stored(factory, spec, creation_code, gov):
    factory.createToken(spec(-3, max_leverage=to_wad(10)), creation_code, sender=gov)
    token = project.LeveragedToken.at(factory.tokenFor(1, -3 * WAD))
    assert token.maxLeverage() == 10 * WAD
    assert token.targetLeverage() == -3 * WAD


def test_createToken__same_market_and_leverage__reverts(factory, spec, creation_code, gov, reverts):
    factory.createToken(spec(3), creation_code, sender=gov)
    existing = factory.tokenFor(1, 3 * WAD)
    with reverts(factory.TokenExists, token=existing):
        factory.createToken(spec(3, mintFeeBps=0), creation_code, sender=gov)


@pytest.mark.parametrize("market", [0, 2])
def test_createToken__unknown_market__reverts(factory, spec, creation_code, gov, market, reverts):
    with reverts(factory.UnknownMarket, marketId=market):
        factory.createToken(spec(3, market=market), creation_code, sender=gov)


def test_createToken__other_bytecode__reverts(factory, spec, creation_code, gov, reverts):
    other = bytes(HexBytes(project.TestStablecoin.contract_type.deployment_bytecode.bytecode))
    with reverts(factory.WrongCreationCode, codeHash=keccak(_strip_metadata(other))):
        factory.createToken(spec(3), other, sender=gov)
    tampered = bytearray(HexBytes(creation_code))
    tampered[100] ^= 1
    with reverts(factory.WrongCreationCode):
        factory.createToken(spec(3), bytes(tampered), sender=gov)


def test_createToken__not_owner__reverts(factory, spec, creation_code, stranger, reverts):
    with reverts(factory.OwnableUnauthorizedAccount, account=stranger.address):
        factory.createToken(spec(3), creation_code, sender=stranger)


@pytest.mark.parametrize("leverage", [0, "2.55"])
def test_createToken__leverage_not_multiple_of_tenth__reverts(factory, spec, creation_code, gov, leverage, reverts):
    s = list(spec(3))
    s[1] = to_wad(leverage)
    with reverts(factory.LeverageOutOfRange, targetLeverage=to_wad(leverage)):
        factory.createToken(tuple(s), creation_code, sender=gov)


def test_createToken__hard_cap_below_target__token_constructor_reverts(factory, spec, creation_code, gov, reverts):
    with reverts(factory.LeverageOutOfRange, targetLeverage=3 * WAD):
        factory.createToken(spec(3, max_leverage=to_wad(2)), creation_code, sender=gov)
    assert factory.tokenCount() == 0


@pytest.mark.parametrize("field, value", [("ripcordLeverage", to_wad(7)), ("supplyCap", 0)])
def test_createToken__invalid_params__token_constructor_reverts(factory, spec, creation_code, gov, chain, field, value):
    # The error comes from the token's constructor, which the factory's ABI does not know; ape would
    # search the whole creation trace for it (minutes), so the call is made directly and decoded here.
    data = factory.createToken.encode_input(spec(3, **{field: value}), creation_code)
    with pytest.raises(ContractCustomError) as info:
        chain.provider.web3.eth.call({"from": gov.address, "to": factory.address, "data": to_hex(data)})
    revert = str(info.value.data)
    assert revert == "0x" + keccak(text="InvalidParameter(string)")[:4].hex() + encode(["string"], [field]).hex()
    assert factory.tokenCount() == 0


def test_createToken__new_owner_after_two_steps__creates_and_administers(factory, spec, creation_code, gov, stranger, reverts):
    factory.transferOwnership(stranger, sender=gov)
    assert factory.pendingOwner() == stranger.address
    with reverts(factory.OwnableUnauthorizedAccount, account=stranger.address):
        factory.createToken(spec(3), creation_code, sender=stranger)
    factory.acceptOwnership(sender=stranger)
    factory.createToken(spec(3), creation_code, sender=stranger)
    token = project.LeveragedToken.at(factory.tokenFor(1, 3 * WAD))
    assert token.hasRole(b"\x00" * 32, stranger)
    assert not token.hasRole(b"\x00" * 32, gov)


def test_predictAddress__spec__create2_of_salt_and_init_code(factory, spec, creation_code, venue, gov, keeper):
    s = spec(3)
    args = encode(
        ["address", "uint256", "int256", "uint256",
         "(uint64,uint64,uint64,uint64,uint32,uint32,uint16,uint16,uint64,address,uint128,uint128,uint256)",
         "string", "string", "address", "address", "address"],
        [venue.address, 1, 3 * WAD, 6 * WAD, s[3], "BTC 3x Long", "BTC3L", gov.address, keeper.address, gov.address],
    )
    salt = keccak(encode(["uint256", "int256"], [1, 3 * WAD]))
    init_hash = keccak(bytes(HexBytes(creation_code)) + args)
    expected = to_checksum_address(keccak(b"\xff" + bytes(HexBytes(factory.address)) + salt + init_hash)[12:])
    assert factory.predictAddress(s, creation_code) == expected
    assert factory.predictAddress(spec(-3), creation_code) != expected
    assert factory.predictAddress(spec(3, mintFeeBps=0), creation_code) != expected  # parameters are in the init code


@pytest.mark.parametrize(
    "leverage, maximum, minimum, ripcord",
    [
        (3, 4 * WAD, 9 * WAD // 4, 9 * WAD // 2),
        (-1, 4 * WAD // 3, WAD * WAD // (4 * WAD // 3), 3 * WAD // 2),
        (2.5, to_wad("2.5") * 4 // 3, to_wad("2.5") ** 2 // (to_wad("2.5") * 4 // 3), to_wad("3.75")),
    ],
)
def test_defaultParams__leverage__geometric_band_and_defaults(factory, fee_recipient, leverage, maximum, minimum, ripcord):
    p = factory.defaultParams(to_wad(leverage), fee_recipient)
    assert (p.leverageMax, p.leverageMin, p.ripcordLeverage) == (maximum, minimum, ripcord)
    target = abs(to_wad(leverage))
    assert abs(p.leverageMin * p.leverageMax - target * target) <= p.leverageMax  # L_min = L^2 / L_max, floored
    assert p.minDrift == target // 100
    assert p.rebalanceInterval == 86_400
    assert p.settlementWindow == 3_600
    assert (p.mintFeeBps, p.redeemFeeBps, p.streamingFeePerDay) == (10, 10, 10**14)
    assert p.feeRecipient == fee_recipient.address
    assert p.maxTradeNotional == to_units(1_000_000)
    assert p.ripcordBounty == to_units(10)
    assert p.supplyCap == 2**256 - 1
    assert len(Params.sol_names()) == 13


def test_defaultParams__three_x__band_2_25_to_4(factory, fee_recipient):
    p = factory.defaultParams(3 * WAD, fee_recipient)
    assert (p.leverageMin, p.leverageMax) == (to_wad("2.25"), 4 * WAD)


@pytest.mark.parametrize(
    "leverage, name, symbol",
    [(3, "BTC 3x Long", "BTC3L"), (-1, "BTC 1x Short", "BTC1S"), (2.5, "BTC 2.5x Long", "BTC2.5L"), (-0.5, "BTC 0.5x Short", "BTC0.5S"), (20, "BTC 20x Long", "BTC20L")],
)
def test_tokenName__leverage__name_and_symbol(factory, leverage, name, symbol):
    assert tuple(factory.tokenName(1, to_wad(leverage))) == (name, symbol)


@pytest.mark.parametrize("leverage", [0, "2.55", "-0.01"])
def test_tokenName__not_a_tenth_multiple__reverts(factory, leverage, reverts):
    with reverts(factory.LeverageOutOfRange, targetLeverage=to_wad(leverage)):
        factory.tokenName(1, to_wad(leverage))


def test_tokenName__unknown_market__reverts(factory, reverts):
    with reverts(factory.UnknownMarket, marketId=2):
        factory.tokenName(2, 3 * WAD)
