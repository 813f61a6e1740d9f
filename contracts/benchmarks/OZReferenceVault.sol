// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

import {IERC20, ERC20} from "@openzeppelin/contracts/token/ERC20/ERC20.sol";
import {ERC4626} from "@openzeppelin/contracts/token/ERC20/extensions/ERC4626.sol";

/// @title OZReferenceVault
/// @notice A plain OpenZeppelin ERC-4626 vault that only holds its asset: the gas baseline that the
/// leveraged token's deposit and redeem are compared against (levtoken.bench). It uses the same
/// virtual-share offset as the leveraged token on a 6-decimal asset, so share amounts are alike.
/// @dev Warning: a benchmark fixture for local chains only.
contract OZReferenceVault is ERC4626 {
    constructor(IERC20 asset_) ERC20("OZ Reference Vault", "OZVAULT") ERC4626(asset_) {}

    /// @inheritdoc ERC4626
    function _decimalsOffset() internal pure override returns (uint8) {
        return 12;
    }
}
