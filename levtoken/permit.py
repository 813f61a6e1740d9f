"""EIP-2612 permits: an owner's signed approval that anyone may submit with `token.permit(...)`."""

from __future__ import annotations

from typing import Any

from eth_account import Account

PERMIT_TYPES = {
    "EIP712Domain": [
        {"name": "name", "type": "string"},
        {"name": "version", "type": "string"},
        {"name": "chainId", "type": "uint256"},
        {"name": "verifyingContract", "type": "address"},
    ],
    "Permit": [
        {"name": "owner", "type": "address"},
        {"name": "spender", "type": "address"},
        {"name": "value", "type": "uint256"},
        {"name": "nonce", "type": "uint256"},
        {"name": "deadline", "type": "uint256"},
    ],
}


def _address(account: Any) -> str:
    return str(getattr(account, "address", account))


def sign_permit(
    token: Any,
    owner: Any,
    spender: Any,
    value: int,
    deadline: int,
    *,
    nonce: int | None = None,
    signer: Any = None,
) -> tuple[int, bytes, bytes]:
    """Signs an EIP-2612 permit for `token` (an ape contract with ERC20Permit) and returns (v, r, s),
    the last three arguments of `token.permit(owner, spender, value, deadline, v, r, s)`.

    The EIP-712 domain is the token's own (ERC-5267 `eip712Domain()`); `nonce` defaults to the owner's
    current one; `signer` (an account holding a private key) defaults to `owner`, and another signer
    gives a permit the token must refuse."""
    _, name, version, chain_id, verifying_contract, _, _ = token.eip712Domain()
    owner_address = _address(owner)
    message = {
        "types": PERMIT_TYPES,
        "primaryType": "Permit",
        "domain": {"name": name, "version": version, "chainId": chain_id, "verifyingContract": verifying_contract},
        "message": {
            "owner": owner_address,
            "spender": _address(spender),
            "value": value,
            "nonce": token.nonces(owner_address) if nonce is None else nonce,
            "deadline": deadline,
        },
    }
    signed = Account.sign_typed_data((signer or owner).private_key, full_message=message)
    return signed.v, signed.r.to_bytes(32, "big"), signed.s.to_bytes(32, "big")
