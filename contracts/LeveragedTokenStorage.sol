// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

import {ERC20} from "solady/ERC20.sol";
import {IERC20} from "@openzeppelin/contracts/token/ERC20/IERC20.sol";
import {AccessControl} from "@openzeppelin/contracts/access/AccessControl.sol";
import {SafeCast} from "@openzeppelin/contracts/utils/math/SafeCast.sol";
import {Pausable} from "@openzeppelin/contracts/utils/Pausable.sol";
import {ReentrancyGuardTransient} from "@openzeppelin/contracts/utils/ReentrancyGuardTransient.sol";
import {ILeveragedToken, ILeveragedTokenState} from "./interfaces/ILeveragedToken.sol";
import {ITokenVenue} from "./interfaces/ITokenVenue.sol";
import {AggregatorV3Interface} from "./interfaces/AggregatorV3Interface.sol";
import {FixedPointMath as FPM, WAD} from "./libraries/FixedPointMath.sol";
import {RequestQueue} from "./libraries/RequestQueue.sol";

/// @title LeveragedTokenStorage
/// @notice The state of one leveraged token and the internals both halves of its code share: the token itself
/// (LeveragedToken with AsyncRequests: ERC-20, permit, requests, claims, views) and the logic it delegates its
/// settlements, rebalances and parameter changes to (LeveragedTokenLogic, deployed once, run by DELEGATECALL).
/// @dev Both halves inherit this contract and declare no state of their own, so they share this one storage
/// layout by construction. A token is an EIP-1167 clone: its constants are the clone's immutable arguments,
/// appended to its code and read from there (ARG_*). The ERC-20 balances live at Solady's hashed slots.
abstract contract LeveragedTokenStorage is ILeveragedTokenState, ERC20, AccessControl, Pausable, ReentrancyGuardTransient {
    using RequestQueue for RequestQueue.Book;

    /* CONSTANTS */

    /// @notice May call rebalance(), settle() and performUpkeep() for anything but a ripcord.
    bytes32 public constant KEEPER_ROLE = keccak256("KEEPER_ROLE");
    /// @notice May pause and unpause.
    bytes32 public constant GUARDIAN_ROLE = keccak256("GUARDIAN_ROLE");

    /// @dev Offset of the clone's immutable arguments in its code: they follow the 45-byte EIP-1167 proxy.
    uint256 internal constant ARGS_OFFSET = 0x2d;
    /// @dev The clone's immutable arguments, packed (LeveragedTokenFactory._args): the factory, the venue and
    /// the collateral (20 bytes each), the market id (uint64), the signed target leverage (int128), the hard
    /// cap (uint128) and the collateral's decimals below 18 (uint8). Byte offsets into the arguments:
    uint256 internal constant ARG_FACTORY = 0;
    uint256 internal constant ARG_VENUE = 20;
    uint256 internal constant ARG_ASSET = 40;
    uint256 internal constant ARG_MARKET = 60;
    uint256 internal constant ARG_TARGET = 68;
    uint256 internal constant ARG_MAX_LEVERAGE = 84;
    uint256 internal constant ARG_DECIMALS_OFFSET = 100;

    /* STORAGE */

    /// @dev A controller's requests on one side: pending in `epoch`, and what settled epochs left claimable:
    /// (assets in, shares out) for deposits, (shares in, assets out) for redemptions; for deposits, the part of
    /// `claimIn` the supply cap left unfilled, which the claims return.
    struct Account {
        uint128 pending;
        uint48 epoch;
        uint128 claimIn;
        uint128 claimOut;
        uint128 claimRefund;
    }

    RequestQueue.Book internal _deposits;
    RequestQueue.Book internal _redemptions;
    mapping(address => Account) internal _depositAccounts;
    mapping(address => Account) internal _redeemAccounts;
    /// @dev ERC-7540 operators: controller => operator => approved.
    mapping(address => mapping(address => bool)) internal _operators;
    /// @inheritdoc ILeveragedTokenState
    uint256 public escrowAssets;

    string internal _name;
    string internal _symbol;
    ILeveragedToken.Params internal _params;
    /// @inheritdoc ILeveragedTokenState
    uint64 public lastRebalance;
    /// @notice Timestamp the streaming fee was last accrued (0 only before initialization).
    uint64 public lastFeeAccrual;
    /// @notice True while a capped rebalance has not reached target.
    bool public iterating;
    /// @dev Equity (collateral units) and supply after the last settlement or rebalance: the valuation
    /// views fall back on while the oracle is stale.
    uint128 internal lastEquity;
    uint128 internal lastSupply;

    /// @dev Equity state read from the venue in one call, plus idle collateral and supply.
    struct Snapshot {
        int256 value;
        int256 size;
        uint256 price;
        uint256 idle;
        int256 equity;
        uint256 supply;
    }

    /* THE TOKEN'S CONSTANTS */

    /// @inheritdoc ILeveragedTokenState
    function factory() public view returns (address) {
        return address(uint160(_arg(ARG_FACTORY, 160)));
    }

    /// @inheritdoc ILeveragedTokenState
    function venue() public view returns (ITokenVenue) {
        return ITokenVenue(address(uint160(_arg(ARG_VENUE, 160))));
    }

    /// @inheritdoc ILeveragedTokenState
    function marketId() public view returns (uint256) {
        return _arg(ARG_MARKET, 64);
    }

    /// @inheritdoc ILeveragedTokenState
    function targetLeverage() public view returns (int256) {
        return int256(int128(uint128(_arg(ARG_TARGET, 128))));
    }

    /// @inheritdoc ILeveragedTokenState
    function maxLeverage() public view returns (uint256) {
        return _arg(ARG_MAX_LEVERAGE, 128);
    }

    /// @notice The token's ERC-20 name, e.g. "BTC 3x Long" (also the EIP-712 domain's name).
    function name() public view override returns (string memory) {
        return _name;
    }

    /// @notice The token's ERC-20 symbol, e.g. "BTC3L".
    function symbol() public view override returns (string memory) {
        return _symbol;
    }

    /// @dev The collateral (ERC-4626's asset).
    function _asset() internal view returns (IERC20) {
        return IERC20(address(uint160(_arg(ARG_ASSET, 160))));
    }

    /// @dev 10^(18 - collateral decimals): collateral units * this = 18 decimals; also the virtual shares.
    function _assetToWad() internal view returns (uint256) {
        return 10 ** _arg(ARG_DECIMALS_OFFSET, 8);
    }

    /// @dev The `bits`-bit unsigned value at byte `offset` of the clone's immutable arguments (ARG_*), read from
    /// this clone's own code.
    function _arg(uint256 offset, uint256 bits) internal view returns (uint256 value) {
        assembly ("memory-safe") {
            extcodecopy(address(), 0x00, add(ARGS_OFFSET, offset), 0x20)
            value := shr(sub(256, bits), mload(0x00))
        }
    }

    /// @dev No allowance is implied for Permit2: every spender needs an approval or a permit.
    function _givePermit2InfiniteAllowance() internal pure override returns (bool) {
        return false;
    }

    /* VALUATION */

    /// @inheritdoc ILeveragedTokenState
    function pendingStreamingFee() public view returns (uint256) {
        uint256 elapsed = block.timestamp - lastFeeAccrual;
        uint256 supply = totalSupply();
        uint256 feePerDay = _params.streamingFeePerDay;
        if (elapsed == 0 || supply == 0 || feePerDay == 0) return 0;
        // Fraction f of the supply's value taken over `elapsed`: minting S*f/(1-f) shares dilutes by f.
        uint256 fraction = FPM.min(FPM.mulDivDown(feePerDay, elapsed, 1 days), WAD / 2);
        return FPM.mulDivDown(supply, fraction, WAD - fraction);
    }

    /// @dev Equity state: the venue's account value, size and price in one call, plus free idle collateral
    /// (the balance not held in escrow) and supply (escrowed shares included).
    function _snapshot() internal view returns (Snapshot memory s) {
        bool ok;
        (ok, s) = _trySnapshot();
        if (!ok) venue().indexPrice(marketId()); // reverts with the venue's price error
    }

    /// @dev _snapshot, or ok = false when the venue cannot value the account (its price is invalid).
    function _trySnapshot() internal view returns (bool ok, Snapshot memory s) {
        try venue().accountState(marketId(), address(this)) returns (int256 value, int256 size, uint256 price) {
            (s.value, s.size, s.price) = (value, size, price);
            s.idle = _asset().balanceOf(address(this)) - escrowAssets;
            s.equity = s.value + int256(s.idle);
            s.supply = totalSupply();
            ok = true;
        } catch {}
    }

    /// @dev Equity and supply (streaming fee accrued) now, or at the last recorded valuation.
    function _valuation() internal view returns (uint256, uint256) {
        (bool ok, Snapshot memory s) = _trySnapshot();
        if (!ok) return (lastEquity, lastSupply);
        return (_equityOrZero(s), s.supply + pendingStreamingFee());
    }

    function _equityOrZero(Snapshot memory s) internal pure returns (uint256) {
        return s.equity > 0 ? uint256(s.equity) : 0;
    }

    /// @dev Stores the valuation after a settlement or rebalance, for views while the oracle is stale.
    function _recordValuation(int256 equityAfter) internal {
        lastEquity = SafeCast.toUint128(equityAfter > 0 ? uint256(equityAfter) : 0);
        lastSupply = SafeCast.toUint128(totalSupply());
    }

    function _accrueStreamingFee() internal {
        uint256 elapsed = block.timestamp - lastFeeAccrual;
        if (elapsed == 0) return;
        uint256 feeShares = pendingStreamingFee();
        lastFeeAccrual = uint64(block.timestamp);
        if (feeShares != 0) {
            _mint(_params.feeRecipient, feeShares);
            emit ILeveragedToken.StreamingFeeAccrued(feeShares, elapsed);
        }
    }

    /* REQUEST QUEUES */

    /// @dev `updatedAt` of the latest round of the feed the venue names for the market now (0 when the feed
    /// reverts; never later than now), and that feed's heartbeat: a request never depends on the feed answering.
    function _roundTime() internal view returns (uint256 u, uint256 heartbeat) {
        AggregatorV3Interface feed;
        (feed, heartbeat) = venue().marketFeed(marketId());
        try feed.latestRoundData() returns (uint80, int256, uint256, uint256 updatedAt, uint80) {
            u = FPM.min(updatedAt, block.timestamp);
        } catch {}
    }

    /// @dev Seconds after a batch qualified that keepers have to settle it.
    function _window() internal view returns (uint256) {
        return _params.settlementWindow;
    }

    /// @dev Rolls the deposit queue to the latest round: a batch keepers left unsettled for the window, or an
    /// epoch no round qualified for the feed's heartbeat plus the window, expires (DepositsExpired).
    function _rollDeposits() internal returns (uint256 u) {
        uint256 heartbeat;
        (u, heartbeat) = _roundTime();
        uint256 window = _window();
        _deposits.roll(u, block.timestamp, window, heartbeat + window);
    }

    /// @dev Rolls the redemption queue to the latest round (redemptions never expire); returns its time.
    function _rollRedemptions() internal returns (uint256 u) {
        (u,) = _roundTime();
        _redemptions.roll(u, block.timestamp, 0, 0);
    }
}
