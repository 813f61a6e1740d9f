// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

import {ERC20} from "@openzeppelin/contracts/token/ERC20/ERC20.sol";

/// @notice Receives a call on every transfer of a HookStablecoin.
interface ITransferHook {
    function onTransfer(address from, address to, uint256 amount) external;
}

/// @title HookStablecoin
/// @notice A 6-decimal stablecoin that calls a hook contract after every transfer, mint and burn, as
/// an ERC-777-style token or a malicious upgrade of a stablecoin would: it hands control to a third
/// party in the middle of any protocol call that moves it. For reentrancy tests only.
/// @dev Warning: test-only; anyone may mint and anyone may set the hook.
contract HookStablecoin is ERC20 {
    /// @notice Contract called after every balance change (zero: none).
    address public hook;

    constructor() ERC20("Hook USD", "hUSD") {}

    /// @notice Sets the contract called after every transfer (zero disables it).
    function setHook(address hook_) external {
        hook = hook_;
    }

    /// @notice Creates `amount` tokens for `to`.
    function mint(address to, uint256 amount) external {
        _mint(to, amount);
    }

    /// @inheritdoc ERC20
    function decimals() public pure override returns (uint8) {
        return 6;
    }

    /// @dev Moves the balances, then hands control to the hook.
    function _update(address from, address to, uint256 amount) internal override {
        super._update(from, to, amount);
        address h = hook;
        if (h != address(0)) ITransferHook(h).onTransfer(from, to, amount);
    }
}
