// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

// The standards' own functions and events, ABI-identical to ERC-4626 (its vault half: the share token's
// ERC-20 functions come from the token's ERC20), ERC-7540 (asynchronous ERC-4626), ERC-7575
// (`share()`). The project's own errors, events
// and views live in ILeveragedToken.

/// @notice ERC-7540 operators: an operator may request, claim and cancel for its controller.
interface IERC7540Operator {
    event OperatorSet(address indexed controller, address indexed operator, bool approved);

    /// @notice Approves or revokes `operator` for the caller's requests. Returns true.
    function setOperator(address operator, bool approved) external returns (bool);

    /// @notice Whether `operator` may act for `controller`.
    function isOperator(address controller, address operator) external view returns (bool status);
}

/// @notice ERC-7540 asynchronous deposit: the request and its views. The claim forms of `deposit` and
/// `mint` take a third argument, the controller.
interface IERC7540Deposit {
    event DepositRequest(
        address indexed controller, address indexed owner, uint256 indexed requestId, address sender, uint256 assets
    );

    /// @notice Moves `assets` from `owner` into escrow as a deposit request controlled by `controller`.
    function requestDeposit(uint256 assets, address controller, address owner) external returns (uint256 requestId);

    /// @notice Assets of `controller`'s deposit request not yet priced.
    function pendingDepositRequest(uint256 requestId, address controller) external view returns (uint256 assets);

    /// @notice Assets of `controller`'s deposit request priced and ready to claim.
    function claimableDepositRequest(uint256 requestId, address controller) external view returns (uint256 assets);

    /// @notice Claims the shares of `assets` of claimable deposit for `receiver`.
    function deposit(uint256 assets, address receiver, address controller) external returns (uint256 shares);

    /// @notice Claims exactly `shares` of claimable deposit for `receiver`.
    function mint(uint256 shares, address receiver, address controller) external returns (uint256 assets);
}

/// @notice ERC-7540 asynchronous redemption: the request and its views. The claims are ERC-4626's
/// `redeem` and `withdraw`, whose third argument is the controller.
interface IERC7540Redeem {
    event RedeemRequest(
        address indexed controller, address indexed owner, uint256 indexed requestId, address sender, uint256 shares
    );

    /// @notice Moves `shares` from `owner` into escrow as a redemption request controlled by `controller`.
    function requestRedeem(uint256 shares, address controller, address owner) external returns (uint256 requestId);

    /// @notice Shares of `controller`'s redemption request not yet priced.
    function pendingRedeemRequest(uint256 requestId, address controller) external view returns (uint256 shares);

    /// @notice Shares of `controller`'s redemption request priced and ready to claim.
    function claimableRedeemRequest(uint256 requestId, address controller) external view returns (uint256 shares);
}

/// @notice ERC-7575: the vault's share token.
interface IERC7575Share {
    /// @notice The share token: this contract.
    function share() external view returns (address);
}

/// @notice ERC-4626's vault functions and events (the standard's interface without its ERC-20 half). In an
/// asynchronous vault (ERC-7540) the previews revert and deposit, mint, withdraw and redeem claim what a
/// settlement priced.
interface IERC4626Vault {
    event Deposit(address indexed sender, address indexed owner, uint256 assets, uint256 shares);
    event Withdraw(
        address indexed sender, address indexed receiver, address indexed owner, uint256 assets, uint256 shares
    );

    /// @notice The collateral the vault takes and pays out.
    function asset() external view returns (address);
    /// @notice Assets the shares are worth in total.
    function totalAssets() external view returns (uint256);
    /// @notice Shares `assets` are worth now, rounded down.
    function convertToShares(uint256 assets) external view returns (uint256);
    /// @notice Assets `shares` are worth now, rounded down.
    function convertToAssets(uint256 shares) external view returns (uint256);
    /// @notice The most `deposit` accepts for `receiver`.
    function maxDeposit(address receiver) external view returns (uint256);
    /// @notice Shares a deposit of `assets` would give now.
    function previewDeposit(uint256 assets) external view returns (uint256);
    /// @notice Deposits `assets` for shares to `receiver`.
    function deposit(uint256 assets, address receiver) external returns (uint256 shares);
    /// @notice The most `mint` accepts for `receiver`.
    function maxMint(address receiver) external view returns (uint256);
    /// @notice Assets minting `shares` would take now.
    function previewMint(uint256 shares) external view returns (uint256);
    /// @notice Mints exactly `shares` to `receiver`.
    function mint(uint256 shares, address receiver) external returns (uint256 assets);
    /// @notice The most `withdraw` accepts for `owner`.
    function maxWithdraw(address owner) external view returns (uint256);
    /// @notice Shares withdrawing `assets` would burn now.
    function previewWithdraw(uint256 assets) external view returns (uint256);
    /// @notice Pays exactly `assets` to `receiver` out of `owner`'s shares.
    function withdraw(uint256 assets, address receiver, address owner) external returns (uint256 shares);
    /// @notice The most `redeem` accepts for `owner`.
    function maxRedeem(address owner) external view returns (uint256);
    /// @notice Assets redeeming `shares` would pay now.
    function previewRedeem(uint256 shares) external view returns (uint256);
    /// @notice Redeems `shares` of `owner` for assets to `receiver`.
    function redeem(uint256 shares, address receiver, address owner) external returns (uint256 assets);
}
