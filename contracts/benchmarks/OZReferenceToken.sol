// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

import {ERC20} from "@openzeppelin/contracts/token/ERC20/ERC20.sol";
import {ERC20Permit} from "@openzeppelin/contracts/token/ERC20/extensions/ERC20Permit.sol";

/// @title OZReferenceToken
/// @notice A plain OpenZeppelin ERC-20 with EIP-2612 permit: the gas baseline that the leveraged
/// token's transfer, approve and permit are compared against (levtoken.bench).
/// @dev Warning: anyone may mint; a benchmark fixture for local chains only.
contract OZReferenceToken is ERC20, ERC20Permit {
    constructor() ERC20("OZ Reference", "OZREF") ERC20Permit("OZ Reference") {}

    /// @notice Creates `amount` tokens for `to`.
    function mint(address to, uint256 amount) external {
        _mint(to, amount);
    }
}
