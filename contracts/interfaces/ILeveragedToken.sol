// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {IPerpVenue} from "./IPerpVenue.sol";

/// @title ILeveragedToken
/// @notice An ERC-20 (with EIP-2612 permit and ERC-4626 entry and exit) that holds a perpetual-futures
/// position of `targetLeverage` times its equity and is rebalanced back to it daily and whenever its
/// leverage leaves its band. Mint and redeem keep leverage unchanged; the caller pays its own hedge.
/// @dev Accounting (DESIGN.md section 3): equity E = venue account value + idle collateral; NAV = E / S.
/// Shares use OpenZeppelin's virtual offset (10^(18 - asset decimals) virtual shares, 1 virtual asset),
/// so a first depositor cannot be robbed by a donation: the attacker would have to donate about 10^12
/// times what they hope to steal. Every share and asset amount rounds in favour of the holders who stay.
/// Mint and redeem cost is measured from the venue's own accounting (value before and after the hedge
/// trade), so the caller pays exactly its hedge, to the unit, and previews reproduce it with the venue's
/// quote of the same arithmetic.
/// Warning: the admin sets parameters within immutable bounds; keepers decide only *when* to
/// rebalance, never what or at what price (the chain computes the trade); the guardian can pause
/// minting and rebalancing up, never redemptions; the venue and its oracle are trusted.
interface ILeveragedToken {
    /// @notice Action due now, as computed on-chain from leverage, band, time and the last rebalance.
    enum Action {
        NONE,
        REBALANCE,
        ITERATE,
        RIPCORD
    }

    /// @notice Why an action is due.
    enum Reason {
        NONE,
        TIME,
        BAND,
        ITERATION,
        RIPCORD
    }

    /// @notice Parameters the admin may change, all validated against hard bounds.
    struct Params {
        uint64 leverageMax; // upper edge of the band of |leverage|, WAD
        uint64 leverageMin; // lower edge of the band of |leverage|, WAD
        uint64 ripcordLeverage; // |leverage| at which anyone may ripcord, WAD; <= immutable maxLeverage
        uint64 minDrift; // smallest |leverage - target| a time rebalance acts on, WAD
        uint32 rebalanceInterval; // seconds between time rebalances
        uint16 mintFeeBps; // fee on mints, paid in tokens to the fee recipient
        uint16 redeemFeeBps; // fee on redemptions, paid in tokens to the fee recipient
        uint64 streamingFeePerDay; // management fee, WAD fraction of supply per day
        address feeRecipient;
        uint128 maxTradeNotional; // cap on one rebalance trade, collateral units (larger ones iterate)
        uint128 ripcordBounty; // paid to a ripcord caller, collateral units
        uint256 supplyCap; // maximum total supply, 18 decimals
    }

    /// @notice Everything the rebalance decision looks at, read in one call.
    struct Status {
        Action action;
        Reason reason;
        int256 leverage; // current signed leverage, WAD
        int256 sizeDelta; // trade the action would make (capped unless ripcord)
        bool capped; // sizeDelta was cut to maxTradeNotional: another (ITERATE) step will follow
        int256 equity; // collateral units
        uint256 price; // oracle price, WAD
    }

    // Errors shared with other contracts (ZeroAmount, SlippageExceeded, LeverageOutOfRange) are declared
    // once in Errors.sol.

    /// @dev The transaction was mined after its deadline.
    error DeadlineExpired(uint256 deadline);
    /// @dev The mint would take total supply above the cap.
    error SupplyCapExceeded(uint256 supplyAfter, uint256 cap);
    /// @dev No rebalance is due now.
    error RebalanceNotDue();
    /// @dev |leverage| has not reached the ripcord limit.
    error RipcordNotDue(int256 leverage);
    /// @dev A parameter is outside its bounds; `name` is its Params field. Fields are checked in struct
    /// order and the first that fails is named.
    error InvalidParameter(string name);
    /// @dev The token holds no equity to mint against (wiped out).
    error NoEquity(int256 equity);
    /// @dev The asset amount cannot be reached by redeeming the owner's shares.
    error ExceedsMaxWithdraw(uint256 assets, uint256 max);

    /// @param holdersFee Shares minted to the fee recipient for the streaming fee.
    event StreamingFeeAccrued(uint256 holdersFee, uint256 elapsed);
    event ParamsUpdated(Params params);
    /// @param cost Equity lost to the trade (fee, impact, rounding), collateral units.
    event Rebalanced(
        Action indexed action,
        Reason reason,
        address indexed caller,
        int256 leverageBefore,
        int256 sizeDelta,
        uint256 price,
        uint256 cost,
        bool completed
    );
    event RipcordBountyPaid(address indexed caller, uint256 amount);
    /// @param hedgeCost Equity the hedge trade cost, paid by the minter (or redeemer).
    event HedgeExecuted(address indexed caller, int256 sizeDelta, uint256 price, uint256 hedgeCost, uint256 feeShares);

    /// @notice The venue the position lives in.
    function venue() external view returns (IPerpVenue);
    /// @notice Market id in the venue.
    function marketId() external view returns (uint256);
    /// @notice Signed target leverage, WAD (3e18 = 3x long, -1e18 = 1x short).
    function targetLeverage() external view returns (int256);
    /// @notice Immutable hard cap on |leverage| parameters, WAD.
    function maxLeverage() external view returns (uint256);
    /// @notice Current parameters.
    function params() external view returns (Params memory);
    /// @notice Start of the current rebalance interval: creation time plus a whole number of intervals,
    /// moved forward by each completed rebalance once an interval has passed (band rebalances within
    /// an interval do not move it, so time rebalances keep a fixed daily schedule).
    function lastRebalance() external view returns (uint64);

    /// @notice Equity: venue account value plus idle collateral, collateral units (can be negative).
    function equity() external view returns (int256);
    /// @notice Current signed leverage, WAD (0 without position or equity).
    function leverage() external view returns (int256);
    /// @notice Net asset value of one whole token (1e18 shares) in collateral units, fees accrued.
    function navPerToken() external view returns (uint256);
    /// @notice Shares the streaming fee would mint if accrued now.
    function pendingStreamingFee() external view returns (uint256);

    /// @notice The action due now, why, and the trade it would make.
    function rebalanceStatus() external view returns (Status memory);

    /// @notice Accrues the streaming fee (also done before every state change).
    function accrueStreamingFee() external;

    /// @notice Trades toward target leverage when rebalanceStatus says so. Keeper role only. When the
    /// action due is a ripcord, the keeper is paid the ripcord bounty like any other caller.
    /// @return status The status acted on.
    function rebalance() external returns (Status memory status);

    /// @notice Brings leverage back to target when |leverage| reached the ripcord limit. Anyone may
    /// call; pays the caller a bounty capped at `ripcordBounty`.
    function ripcord() external returns (Status memory status);

    /// @notice ERC-4626 deposit with a minimum of shares and a deadline.
    function depositWithMinShares(uint256 assets, address receiver, uint256 minShares, uint256 deadline)
        external
        returns (uint256 shares);

    /// @notice ERC-4626 redeem with a minimum of assets and a deadline.
    function redeemWithMinAssets(uint256 shares, address receiver, address owner, uint256 minAssets, uint256 deadline)
        external
        returns (uint256 assets);

    /// @notice Replaces the parameters. Admin role only; bounds in InvalidParameter.
    function setParams(Params calldata params) external;

    /// @notice Stops mints and rebalances that add exposure. Guardian role only.
    function pause() external;

    /// @notice Lifts the pause. Guardian role only.
    function unpause() external;
}
