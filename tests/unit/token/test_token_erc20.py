"""ERC-20 and EIP-2612 behaviour of the token: metadata, transfers, allowances, permit, ERC-165."""

import pytest
from ape import project
from eth_utils import keccak

from levtoken.permit import sign_permit
from levtoken.shapes import UINT256_MAX
from levtoken.units import to_units


@pytest.mark.parametrize(
    "leverage, name, symbol", [(3, "BTC 3x Long", "BTC3L"), (-1, "BTC 1x Short", "BTC1S"), (2.5, "BTC 2.5x Long", "BTC2.5L")]
)
def test_metadata__factory_token__name_symbol_and_18_decimals(create_token, leverage, name, symbol):
    token = create_token(leverage)
    assert token.name() == name
    assert token.symbol() == symbol
    assert token.decimals() == 18
    assert token.totalSupply() == 0


def test_transfer__holder_sends__balances_move(token, deposit, whale, fish):
    deposit(token, whale, 1_000)
    balance = token.balanceOf(whale)
    tx = token.transfer(fish, balance // 3, sender=whale)
    assert token.balanceOf(fish) == balance // 3
    assert token.balanceOf(whale) == balance - balance // 3
    assert tx.events.filter(token.Transfer)[0].amount == balance // 3


def test_transfer__more_than_balance__reverts(token, deposit, whale, fish, reverts):
    deposit(token, whale, 1_000)
    balance = token.balanceOf(whale)
    with reverts(token.InsufficientBalance):
        token.transfer(fish, balance + 1, sender=whale)


def test_transferFrom__approved_spender__allowance_spent(token, deposit, whale, fish, stranger):
    deposit(token, whale, 1_000)
    tx = token.approve(stranger, 10**18, sender=whale)
    assert tx.events.filter(token.Approval)[0].amount == 10**18
    token.transferFrom(whale, fish, 4 * 10**17, sender=stranger)
    assert token.allowance(whale, stranger) == 6 * 10**17
    assert token.balanceOf(fish) == 4 * 10**17


def test_transferFrom__without_allowance__reverts(token, deposit, whale, fish, stranger, reverts):
    deposit(token, whale, 1_000)
    with reverts(token.InsufficientAllowance):
        token.transferFrom(whale, fish, 1, sender=stranger)


def test_transferFrom__infinite_allowance__not_spent(token, deposit, whale, fish, stranger):
    deposit(token, whale, 1_000)
    token.approve(stranger, UINT256_MAX, sender=whale)
    token.transferFrom(whale, fish, 10**18, sender=stranger)
    assert token.allowance(whale, stranger) == UINT256_MAX


def _sign_permit(token, chain, owner, spender, value, nonce, deadline, signer=None):
    """levtoken.permit.sign_permit, after checking the token's EIP-712 domain is the one EIP-2612 expects."""
    _, name, version, chain_id, verifying, _, _ = token.eip712Domain()
    assert (name, version, chain_id, verifying) == (token.name(), "1", chain.chain_id, token.address)
    return sign_permit(token, owner, spender, value, deadline, nonce=nonce, signer=signer)


def test_permit__owner_signature__sets_allowance_and_nonce(token, chain, whale, stranger):
    deadline = chain.pending_timestamp + 3600
    v, r, s = _sign_permit(token, chain, whale, stranger, 5 * 10**18, 0, deadline)
    tx = token.permit(whale, stranger, 5 * 10**18, deadline, v, r, s, sender=stranger)
    assert token.allowance(whale, stranger) == 5 * 10**18
    assert token.nonces(whale) == 1
    assert tx.events.filter(token.Approval)[0].owner == whale.address


def test_permit__then_requestRedeem_by_spender__allowance_spent(token, chain, deposit, whale, stranger):
    deposit(token, whale, 1_000)
    shares = token.balanceOf(whale) // 2
    deadline = chain.pending_timestamp + 3600
    v, r, s = _sign_permit(token, chain, whale, stranger, shares, 0, deadline)
    token.permit(whale, stranger, shares, deadline, v, r, s, sender=stranger)
    token.requestRedeem(shares, stranger, whale, sender=stranger)
    assert token.allowance(whale, stranger) == 0
    assert token.pendingRedeemRequest(0, stranger) == shares


def test_permit__replayed_signature__reverts(token, chain, whale, stranger, reverts):
    deadline = chain.pending_timestamp + 3600
    v, r, s = _sign_permit(token, chain, whale, stranger, 10**18, 0, deadline)
    token.permit(whale, stranger, 10**18, deadline, v, r, s, sender=stranger)
    with reverts(token.InvalidPermit):
        token.permit(whale, stranger, 10**18, deadline, v, r, s, sender=stranger)


def test_permit__signed_by_another_key__reverts(token, chain, whale, fish, stranger, reverts):
    deadline = chain.pending_timestamp + 3600
    v, r, s = _sign_permit(token, chain, whale, stranger, 10**18, 0, deadline, signer=fish)
    with reverts(token.InvalidPermit):
        token.permit(whale, stranger, 10**18, deadline, v, r, s, sender=stranger)


def test_permit__past_deadline__reverts(token, chain, whale, stranger, reverts):
    deadline = chain.blocks.head.timestamp - 1
    v, r, s = _sign_permit(token, chain, whale, stranger, 10**18, 0, deadline)
    with reverts(token.PermitExpired):
        token.permit(whale, stranger, 10**18, deadline, v, r, s, sender=stranger)


def _interface_id(contract_type) -> bytes:
    value = 0
    for abi in contract_type.abi:
        if abi.type == "function":
            signature = f"{abi.name}({','.join(i.canonical_type for i in abi.inputs)})"
            value ^= int.from_bytes(keccak(text=signature)[:4], "big")
    return value.to_bytes(4, "big")


def _own_interface_id(contract_type, *parents) -> bytes:
    """Solidity's type(I).interfaceId: the functions `I` declares itself, not those it inherits."""
    value = int.from_bytes(_interface_id(contract_type), "big")
    for parent in parents:
        value ^= int.from_bytes(_interface_id(parent), "big")
    return value.to_bytes(4, "big")


def test_supportsInterface__known_and_unknown_ids__answers(token):
    parents = [getattr(project, name).contract_type for name in ("IERC7540Operator", "IERC7540Deposit", "IERC7540Redeem", "IERC7575Share", "ILeveragedTokenState")]
    assert token.supportsInterface(_own_interface_id(project.ILeveragedToken.contract_type, *parents))
    assert token.supportsInterface(_interface_id(parents[-1]))
    assert token.supportsInterface(bytes.fromhex("84b0196e"))  # ERC-5267
    assert _interface_id(parents[0]) == bytes.fromhex("e3bc4e65")  # the ids ERC-7540 and ERC-7575 state
    assert _interface_id(parents[2]) == bytes.fromhex("620ee8e4")
    for interface_id in ("e3bc4e65", "ce3bbe50", "620ee8e4", "2f0a18c5"):  # ERC-7540 operator, deposit, redeem; ERC-7575
        assert token.supportsInterface(bytes.fromhex(interface_id))
    assert token.supportsInterface(bytes.fromhex("01ffc9a7"))  # ERC-165
    assert token.supportsInterface(bytes.fromhex("7965db0b"))  # IAccessControl
    assert not token.supportsInterface(bytes.fromhex("deadbeef"))


def test_asset_and_immutables__factory_token__match_spec(token, usd, venue):
    assert token.asset() == usd.address
    assert token.venue() == venue.address
    assert token.marketId() == 1
    assert token.targetLeverage() == 3 * 10**18
    assert token.maxLeverage() == 6 * 10**18
    assert token.totalAssets() == 0
    assert token.equity() == 0
    assert token.leverage() == 0
    assert to_units(1) == 10**6
