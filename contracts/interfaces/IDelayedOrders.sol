// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {IERC20} from "@openzeppelin/contracts/token/ERC20/IERC20.sol";
import {IPerpVenue} from "./IPerpVenue.sol";

/// @title IDelayedOrders
/// @notice Requests to trade on the venue or to add or remove LP liquidity, executed by keepers at an oracle
/// round published after the request (DESIGN.md 10).
interface IDelayedOrders {
    enum Kind {
        TRADE,
        ADD_LIQUIDITY,
        REMOVE_LIQUIDITY
    }

    enum Status {
        NONE,
        PENDING,
        EXECUTED,
        CANCELLED
    }

    /// @notice One request.
    struct Order {
        address account; // the requester: the venue account (trade) or LP (liquidity) it is for
        uint48 requestTime;
        Kind kind;
        Status status;
        uint64 marketId; // trades only
        int256 amount; // size delta (trade), collateral units (add) or LP shares (remove)
        uint256 limit; // acceptable execution price (trade, 0: any), minimum shares (add) or assets (remove)
        uint128 escrow; // collateral held for the order (an LP deposit's amount)
        uint128 fee; // execution fee held for the keeper
    }

    /// @dev The caller is not one of the owner's keepers.
    error NotKeeper(address caller);
    /// @dev Only the requester may cancel its order.
    error NotRequester(address caller);
    /// @dev The order is executed, cancelled or unknown.
    error OrderNotPending(uint256 id);
    /// @dev The order's window passed: only its requester's cancel remains.
    error OrderExpired(uint256 id);
    /// @dev No round newer than the request yet (`priceTime` is the round the order would execute at).
    error NoNewerPrice(uint256 requestTime, uint256 priceTime);
    /// @dev The window has not passed yet.
    error CancelTooEarly(uint256 allowedAt);
    /// @dev An owner's term outside its bounds (`name`: executionFee or window).
    error InvalidTerms(string name);

    event OrderRequested(
        uint256 indexed id, address indexed account, Kind kind, uint256 marketId, int256 amount, uint256 limit, uint256 fee
    );
    /// @param executed False when the venue refused the order (its revert data in `reason`): cancelled, escrow
    /// refunded, the keeper still paid.
    event OrderExecuted(uint256 indexed id, address indexed keeper, bool executed, bytes reason);
    event OrderCancelled(uint256 indexed id);
    event KeeperSet(address indexed keeper, bool allowed);
    event TermsSet(uint256 executionFee, uint256 window);

    /// @notice Sets the execution fee (collateral units, at most 10 whole units) and the window (1 min to 1 day).
    function setTerms(uint256 executionFee, uint256 window) external;

    /// @notice Allows (or stops) `keeper` executing orders.
    function setKeeper(address keeper, bool allowed) external;

    /// @notice Requests a trade of `sizeDelta` (18 decimals, negative sells) on market `marketId` for the caller's
    /// venue account, filled at the oracle price of a round after this request plus the venue's impact and fee;
    /// `acceptablePrice` bounds the execution price (0: any). Takes the execution fee now.
    function requestTrade(uint256 marketId, int256 sizeDelta, uint256 acceptablePrice) external returns (uint256 id);

    /// @notice Requests to add `amount` of collateral to the LP pool (escrowed now with the execution fee), priced
    /// at rounds after this request; at least `minShares` or the order is cancelled.
    function requestAddLiquidity(uint256 amount, uint256 minShares) external returns (uint256 id);

    /// @notice Requests to remove `shares` of the caller's LP shares, priced at rounds after this request; at
    /// least `minAmount` of collateral or the order is cancelled. Takes the execution fee now.
    function requestRemoveLiquidity(uint256 shares, uint256 minAmount) external returns (uint256 id);

    /// @notice Keepers: executes order `id` at the latest round, which must be newer than the request, within the
    /// window. Returns false (and cancels the order, refunding its escrow) when the venue refuses it; the keeper is
    /// paid the execution fee either way.
    function execute(uint256 id) external returns (bool executed);

    /// @notice The requester cancels its order once the window passed without execution: escrow and fee back.
    function cancel(uint256 id) external;

    /// @notice Order `id`.
    function order(uint256 id) external view returns (Order memory);

    /// @notice The venue this contract executes orders on (it is the venue's `orders()`).
    function venue() external view returns (IPerpVenue);

    /// @notice The venue's collateral: escrow and execution fees are paid in it.
    function collateral() external view returns (IERC20);

    /// @notice Collateral units a keeper is paid per order, taken at the request.
    function executionFee() external view returns (uint256);

    /// @notice Seconds after a request within which a keeper may execute it (and after which its requester may
    /// cancel it).
    function window() external view returns (uint256);

    /// @notice Whether `keeper` may execute orders.
    function isKeeper(address keeper) external view returns (bool);

    /// @notice Number of orders requested so far (the latest order's id).
    function orderCount() external view returns (uint256);
}
