// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {ITokenVenue} from "./ITokenVenue.sol";
import {
    IERC7540Operator, IERC7540Deposit, IERC7540Redeem, IERC7575Share
} from "./IERC7540.sol";

/// @title ILeveragedTokenState
/// @notice A leveraged token's constants (its clone's immutable arguments) and the state views both halves of
/// its code read: the token (LeveragedToken) and the shared logic it delegates to (LeveragedTokenLogic).
interface ILeveragedTokenState {
    /// @notice The factory that created this token (an immutable argument of its clone).
    function factory() external view returns (address);
    /// @notice The venue the position lives in.
    function venue() external view returns (ITokenVenue);
    /// @notice Market id in the venue.
    function marketId() external view returns (uint256);
    /// @notice Signed target leverage, WAD (3e18 = 3x long, -1e18 = 1x short).
    function targetLeverage() external view returns (int256);
    /// @notice Immutable hard cap on |leverage| parameters, WAD.
    function maxLeverage() external view returns (uint256);
    /// @notice Start of the current rebalance interval: creation time plus a whole number of intervals,
    /// moved forward by each completed rebalance once an interval has passed (band rebalances within
    /// an interval do not move it, so time rebalances keep a fixed daily schedule).
    function lastRebalance() external view returns (uint64);
    /// @notice Shares the streaming fee would mint if accrued now.
    function pendingStreamingFee() external view returns (uint256);
    /// @notice Collateral held for requesters, outside equity: pending deposits and claimable redemption
    /// assets (plus rounding dust of claims).
    function escrowAssets() external view returns (uint256);
}

/// @title ILeveragedToken
/// @notice An ERC-20 (with EIP-2612 permit and asynchronous ERC-4626 entry and exit, ERC-7540) that holds
/// a perpetual-futures position of `targetLeverage` times its equity and is rebalanced back to it daily and
/// whenever its leverage leaves its band. Deposits and redemptions are requests, priced together by a
/// keeper's settlement at an oracle round published after the last of them (DESIGN.md section 7), so no
/// one who knows the next price can trade against the holders. A settlement keeps leverage unchanged and
/// its requesters pay its trade's cost, split between the deposit and redemption sides by what each would
/// cost alone.
/// @dev Accounting (DESIGN.md section 3): equity E = venue account value + idle collateral - escrowed
/// assets (pending deposits, claimable redemptions and refunds); NAV = E / S, escrowed shares included.
/// Shares use OpenZeppelin's virtual offset (10^(18 - asset decimals) virtual shares, 1 virtual asset),
/// so a first depositor cannot be robbed by a donation: the attacker would have to donate about 10^12
/// times what they hope to steal. Every share and asset amount rounds in favour of the holders who stay.
/// A settlement's cost is the venue's own quote of its one trade (exact to the unit).
/// Warning: the admin sets parameters within immutable bounds; keepers decide only *when* to
/// rebalance, never what or at what price (the chain computes the trade); the guardian can pause
/// minting and rebalancing up, never redemptions; the venue and its oracle are trusted.
interface ILeveragedToken is ILeveragedTokenState, IERC7540Operator, IERC7540Deposit, IERC7540Redeem, IERC7575Share {
    /// @notice Action due now, as computed on-chain from leverage, band, time and the last rebalance.
    enum Action {
        NONE,
        REBALANCE,
        ITERATE,
        RIPCORD,
        SETTLE
    }

    /// @notice Why an action is due.
    enum Reason {
        NONE,
        TIME,
        BAND,
        ITERATION,
        RIPCORD,
        REQUESTS
    }

    /// @notice Parameters the admin may change, all validated against hard bounds.
    struct Params {
        uint64 leverageMax; // upper edge of the band of |leverage|, WAD
        uint64 leverageMin; // lower edge of the band of |leverage|, WAD
        uint64 ripcordLeverage; // |leverage| at which anyone may ripcord, WAD; <= immutable maxLeverage
        uint64 minDrift; // smallest |leverage - target| a time rebalance acts on, WAD
        uint32 rebalanceInterval; // seconds between time rebalances
        uint32 settlementWindow; // seconds keepers have to settle a qualified batch before the fallback opens
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
        uint256 depositAssets; // SETTLE: deposit assets the settlement prices, collateral units
        uint256 redeemShares; // SETTLE: shares it redeems, 18 decimals
        uint256 priceTime; // SETTLE: updatedAt of the round that prices them
    }

    /// @notice One settlement: what it prices (a zero amount: that side did not settle) and what it gives.
    struct Settlement {
        uint256 assets; // deposit assets priced, collateral units
        uint256 mintFeeBps; // the lower of the deposit batch's and the current mint fee
        uint256 shares; // shares redeemed, fee included, 18 decimals
        uint256 redeemFeeBps; // the lower of the redemption batch's and the current redeem fee
        uint256 price; // oracle price of the round that prices them, WAD
        uint256 sharesOut; // shares for the depositors
        uint256 mintFee; // fee shares minted to the fee recipient
        uint256 redeemFee; // of `shares`, moved to the fee recipient; the rest is burnt
        uint256 assetsOut; // assets for the redeemers, collateral units
        int256 sizeDelta; // the one venue trade: deposits' hedge plus the redemptions' pro-rata close
        int256 marginDelta; // free idle and deposit assets in, redemption assets out
        uint256 cost; // the trade's cost (fee, impact, rounding), collateral units
        uint256 costD; // the deposit side's share of it
        uint256 costR; // the redemption side's share of it
        uint256 refunded; // of the deposit batch, the assets over the supply cap: returned with the claims
    }

    // Errors shared with other contracts (ZeroAmount, SlippageExceeded, LeverageOutOfRange) are declared
    // once in Errors.sol.

    /// @dev Total supply has reached the cap: no deposit request is accepted.
    error SupplyCapExceeded(uint256 supplyAfter, uint256 cap);
    /// @dev No rebalance is due now.
    error RebalanceNotDue();
    /// @dev |leverage| has not reached the ripcord limit.
    error RipcordNotDue(int256 leverage);
    /// @dev A parameter is outside its bounds; `name` is its Params field. Fields are checked in struct
    /// order and the first that fails is named.
    error InvalidParameter(string name);
    /// @dev A parameter change lowers maxTradeNotional to `proposed` (collateral units), below `floor`, a tenth of
    /// the token's equity.
    error TradeCapBelowFloor(uint256 proposed, uint256 floor);
    /// @dev Previews are not available for asynchronous deposits and redemptions (ERC-7540).
    error PreviewNotAvailable();
    /// @dev `caller` is neither `controller` (or owner) nor an operator it approved.
    error UnauthorizedOperator(address controller, address caller);
    /// @dev A claim asks for more than the controller's claimable amount.
    error ExceedsClaimable(uint256 amount, uint256 claimable);
    /// @dev A deposit request can be cancelled only once keepers left its batch unsettled for the window.
    error CancelTooEarly(uint256 allowedAt);
    /// @dev The request was settled: claim it instead.
    error RequestAlreadySettled(uint256 epoch);
    /// @dev The controller has no pending request (or no refund) to act on.
    error NoPendingRequest(address controller);
    /// @dev The controller's earlier request waits in a closed batch: request again once it is settled.
    error EarlierRequestPending(uint256 epoch);
    /// @dev Requests wait, but no round has been published after the latest of them.
    error NoNewerPrice(uint256 lastRequest, uint256 priceTime);
    /// @dev No request waits to be settled.
    error NothingToSettle();
    /// @dev The venue rejects the settlement's trade (or has no valid price for it); rebalanceStatus reports no
    /// SETTLE while this holds.
    error SettlementRejected();
    /// @dev Only keepers settle until the redemption batch's window has passed.
    error FallbackNotOpen(uint256 opensAt);
    /// @dev Past the window only a redeemer with a request in the batch settles it (nobody else picks the round
    /// that prices other holders' exits).
    error NotInRedemptionBatch(address caller);
    /// @dev initialize was called by another account than the factory that created this clone.
    error OnlyFactory(address caller);
    /// @dev initialize was called on a token already initialized (or on the locked implementation).
    error AlreadyInitialized();
    /// @dev A transfer to the zero address (shares are burnt only by redemptions).
    error ERC20InvalidReceiver(address receiver);
    /// @dev A venue call the decision depends on ran out of gas: send the transaction with more gas (a caught
    /// failure must not be read as the venue's answer, e.g. deferring deposits).
    error InsufficientGas();

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
    /// @notice One settlement of the batches `depositEpoch` and `redeemEpoch` (0: none) at the round published
    /// at `priceTime`; `fallback_` when a non-keeper settled redemptions after the window.
    event Settled(
        uint256 indexed depositEpoch,
        uint256 indexed redeemEpoch,
        bool indexed fallback_,
        uint256 priceTime,
        Settlement settlement
    );
    /// @notice `controller`'s expired deposit request was cancelled and its `assets` paid to `receiver`.
    event DepositRequestCancelled(address indexed controller, address indexed receiver, address sender, uint256 assets);
    /// @notice `assets` of `controller`'s settled deposit that the supply cap left unfilled, paid to `receiver`
    /// with its claim.
    event DepositRefunded(address indexed controller, address indexed receiver, uint256 assets);
    /// @notice A deposit batch keepers left unsettled for the window: its requests may only be cancelled.
    event DepositsExpired(uint256 indexed epoch, uint256 assets);

    /// @notice Sets up a clone the factory just created: its parameters (within their bounds), ERC-20 name
    /// and symbol (the EIP-712 domain's name), the factory's owner as `admin`, and `keeper` and `guardian`
    /// (either may be zero). Once only, from the factory only.
    function initialize(
        Params calldata params,
        string calldata name,
        string calldata symbol,
        address admin,
        address keeper,
        address guardian
    ) external;

    /// @notice Current parameters.
    function params() external view returns (Params memory);

    /// @notice Equity: venue account value plus idle collateral, collateral units (can be negative).
    function equity() external view returns (int256);
    /// @notice Current signed leverage, WAD (0 without position or equity).
    function leverage() external view returns (int256);
    /// @notice Net asset value of one whole token (1e18 shares) in collateral units, fees accrued.
    function navPerToken() external view returns (uint256);

    /// @notice The action due now, why, and the trade it would make.
    function rebalanceStatus() external view returns (Status memory);

    /// @notice Accrues the streaming fee (also done before every state change).
    function accrueStreamingFee() external;

    /// @notice Trades toward target leverage when rebalanceStatus says so. Keeper role only. When the
    /// action due is a ripcord, the keeper is paid the ripcord bounty like any other caller. RebalanceNotDue when
    /// nothing is due; a trade the venue rejects (which rebalanceStatus reports as NONE) reverts with the venue's
    /// own error.
    function rebalance() external;

    /// @notice Brings leverage back to target when |leverage| reached the ripcord limit. Anyone may
    /// call; pays the caller a bounty capped at `ripcordBounty`.
    function ripcord() external;

    /// @notice Prices every qualified request at the latest round and makes it claimable: deposits and
    /// redemptions net into one venue trade. Keepers only (KEEPER_ROLE), until the redemption batch's window
    /// has passed; then a redeemer with a request in the batch may settle the redemptions alone (deposits past
    /// their window only refund).
    function settle() external;

    /// @notice Rolls both request queues to the latest round and keeps the roll: a batch that qualifies starts
    /// its settlement window now, which the redemption fallback and deposit cancellation count from. Keepers'
    /// settlements and any request do the same; call it when keepers are down and nothing else happens.
    function poke() external;

    /// @notice Cancels `controller`'s pending deposit request once its batch expired (keepers left it unsettled
    /// for the settlement window) and pays its assets back to `receiver`.
    function cancelDepositRequest(address receiver, address controller) external returns (uint256 assets);


    /// @notice Replaces the parameters. Admin role only; bounds in InvalidParameter; a fee rises by at most its step
    /// per change (ConfigStepTooLarge) and the trade cap is not lowered below a tenth of equity (TradeCapBelowFloor).
    function setParams(Params calldata params) external;

    /// @notice Stops mints and rebalances that add exposure. Guardian role only.
    function pause() external;

    /// @notice Lifts the pause. Guardian role only.
    function unpause() external;
}
