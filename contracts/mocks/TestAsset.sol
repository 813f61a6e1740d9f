// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

import {ERC20} from "@openzeppelin/contracts/token/ERC20/ERC20.sol";

/// @title TestAsset
/// @notice An 18-decimal stand-in for a market's underlying (BTC, ETH) on local chains, where a lending market holds
/// it as collateral and a DEX trades it: anyone may mint to anyone.
/// @dev Warning: never deploy this on a real network; the asset there is the chain's own token.
contract TestAsset is ERC20 {
    /// @param name_ Token name, e.g. "Test Bitcoin".
    /// @param symbol_ Token symbol, e.g. "tBTC".
    constructor(string memory name_, string memory symbol_) ERC20(name_, symbol_) {}

    /// @notice Creates `amount` tokens for `to` (faucet; local chains only).
    /// @param to Receiver of the new tokens.
    /// @param amount Amount in 18-decimal units.
    function mint(address to, uint256 amount) external {
        _mint(to, amount);
    }
}
