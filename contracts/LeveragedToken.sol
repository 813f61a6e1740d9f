// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

import {IERC20, IERC20Metadata, ERC20} from "@openzeppelin/contracts/token/ERC20/ERC20.sol";
import {ERC20Permit} from "@openzeppelin/contracts/token/ERC20/extensions/ERC20Permit.sol";
import {ERC4626} from "@openzeppelin/contracts/token/ERC20/extensions/ERC4626.sol";
import {SafeERC20} from "@openzeppelin/contracts/token/ERC20/utils/SafeERC20.sol";
import {AccessControl} from "@openzeppelin/contracts/access/AccessControl.sol";
import {Pausable} from "@openzeppelin/contracts/utils/Pausable.sol";
import {Math} from "@openzeppelin/contracts/utils/math/Math.sol";
import {ILeveragedToken} from "./interfaces/ILeveragedToken.sol";
import {IERC7540Operator, IERC7540Redeem} from "./interfaces/IERC7540.sol";
import {IPerpVenue} from "./interfaces/IPerpVenue.sol";
import {AggregatorV3Interface} from "./interfaces/AggregatorV3Interface.sol";
import {AutomationCompatibleInterface} from "./interfaces/AutomationCompatibleInterface.sol";
import {LeverageOutOfRange} from "./interfaces/Errors.sol";
import {FixedPointMath as FPM, WAD, BPS} from "./libraries/FixedPointMath.sol";
import {SharesMath} from "./libraries/SharesMath.sol";
import {HedgeMath} from "./libraries/HedgeMath.sol";
import {RebalanceLogic} from "./libraries/RebalanceLogic.sol";
import {RequestQueue} from "./libraries/RequestQueue.sol";
import {AsyncRequests} from "./AsyncRequests.sol";
import {LeveragedTokenLogic, MAX_HARD_CAP} from "./LeveragedTokenLogic.sol";

/// @title LeveragedToken
/// @notice A constant-leverage token on a perpetual-futures venue: see ILeveragedToken (accounting and
/// rounding included). Requests and claims live in AsyncRequests, the arithmetic in SharesMath, HedgeMath,
/// RebalanceLogic, RequestQueue and SettlementMath; this contract values the token, settles, rebalances
/// and moves the assets.
/// @dev Not checked on purpose: the asset must be a plain ERC-20 (no fee on transfer, no rebasing).
contract LeveragedToken is AsyncRequests, ERC20Permit, AccessControl, Pausable, AutomationCompatibleInterface {
    using SafeERC20 for IERC20;
    using RequestQueue for RequestQueue.Book;

    /* IMMUTABLES */

    /// @notice May call rebalance(), settle() and performUpkeep() for anything but a ripcord.
    bytes32 public constant KEEPER_ROLE = keccak256("KEEPER_ROLE");
    /// @notice May pause and unpause.
    bytes32 public constant GUARDIAN_ROLE = keccak256("GUARDIAN_ROLE");

    /// @inheritdoc ILeveragedToken
    IPerpVenue public immutable venue;
    /// @inheritdoc ILeveragedToken
    uint256 public immutable marketId;
    /// @inheritdoc ILeveragedToken
    int256 public immutable targetLeverage;
    /// @inheritdoc ILeveragedToken
    uint256 public immutable maxLeverage;
    /// @notice This token's view-only decisions (rebalance, settlement pricing, parameter bounds).
    LeveragedTokenLogic public immutable logic;
    uint8 internal immutable OFFSET;
    uint256 internal immutable VIRTUAL_SHARES;
    /// @dev collateral units * ASSET_TO_WAD = 18 decimals.
    uint256 internal immutable ASSET_TO_WAD;

    /* STORAGE */

    Params internal _params;
    /// @inheritdoc ILeveragedToken
    uint64 public lastRebalance;
    /// @notice Timestamp the streaming fee was last accrued.
    uint64 public lastFeeAccrual;
    /// @notice True while a capped rebalance has not reached target.
    bool public iterating;
    /// @dev The market's price feed, as the venue names it; refreshed by every settlement.
    AggregatorV3Interface internal feed;
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

    /// @dev One settlement: the batches it prices (epoch 0: none) and what the logic priced for them.
    struct Plan {
        bool feasible; // false when even the redemptions alone cannot settle now
        uint256 priceTime; // updatedAt of the latest round
        uint256 depositEpoch;
        uint256 redeemEpoch;
        Settlement t;
    }

    /* CONSTRUCTOR */

    /// @dev Deployed by LeveragedTokenFactory: the venue, the fields of its TokenSpec (`maxLeverage_` caps the
    /// |leverage| parameters; `keeper` and `guardian` may be zero), the ERC-20 name and symbol ("BTC 3x Long",
    /// "BTC3L") and the factory's owner as `admin`. Requires 0 < |targetLeverage_| <= maxLeverage_ <= 20x.
    constructor(
        IPerpVenue venue_,
        uint256 marketId_,
        int256 targetLeverage_,
        uint256 maxLeverage_,
        Params memory params_,
        string memory name_,
        string memory symbol_,
        address admin,
        address keeper,
        address guardian
    ) ERC20(name_, symbol_) ERC20Permit(name_) ERC4626(venue_.collateral()) {
        if (targetLeverage_ == 0 || FPM.abs(targetLeverage_) > maxLeverage_ || maxLeverage_ > MAX_HARD_CAP) {
            revert LeverageOutOfRange(targetLeverage_);
        }
        venue = venue_;
        marketId = marketId_;
        targetLeverage = targetLeverage_;
        maxLeverage = maxLeverage_;
        OFFSET = 18 - IERC20Metadata(asset()).decimals();
        VIRTUAL_SHARES = 10 ** OFFSET;
        ASSET_TO_WAD = 10 ** OFFSET;
        logic = new LeveragedTokenLogic(venue_, marketId_, targetLeverage_, 10 ** OFFSET);
        _setParams(params_);
        lastRebalance = uint64(block.timestamp);
        lastFeeAccrual = uint64(block.timestamp);
        _grantRole(DEFAULT_ADMIN_ROLE, admin);
        if (keeper != address(0)) _grantRole(KEEPER_ROLE, keeper);
        if (guardian != address(0)) _grantRole(GUARDIAN_ROLE, guardian);
        IERC20(asset()).forceApprove(address(venue_), type(uint256).max);
        feed = venue_.marketConfig(marketId_).feed;
    }

    /* SETTLEMENT */

    /// @inheritdoc ILeveragedToken
    /// @dev DESIGN.md 7.6. Only keepers settle deposits; a stranger may settle redemptions once their batch's
    /// window has passed (FallbackNotOpen before). NothingToSettle without requests, NoNewerPrice when none
    /// qualifies yet; a stale price reverts with the venue's error.
    function settle() external nonReentrant {
        _settle(hasRole(KEEPER_ROLE, msg.sender));
    }

    /* REBALANCING */

    /// @inheritdoc ILeveragedToken
    function rebalance() external nonReentrant onlyRole(KEEPER_ROLE) {
        _rebalanceDue(false);
    }

    /// @inheritdoc ILeveragedToken
    function ripcord() external nonReentrant {
        Snapshot memory s = _snapshot();
        Status memory status = _status(s);
        if (status.action != Action.RIPCORD) revert RipcordNotDue(status.leverage);
        _rebalance(status, s, msg.sender);
    }

    /// @inheritdoc AutomationCompatibleInterface
    /// @dev performData carries the action for information only; performUpkeep decides again on-chain.
    function checkUpkeep(bytes calldata) external view returns (bool upkeepNeeded, bytes memory performData) {
        Status memory status = rebalanceStatus();
        return (status.action != Action.NONE, abi.encode(status.action));
    }

    /// @inheritdoc AutomationCompatibleInterface
    /// @dev A ripcord is open to anyone (and pays the bounty to the caller); other actions need KEEPER_ROLE,
    /// which is granted to the Automation forwarder.
    function performUpkeep(bytes calldata) external nonReentrant {
        if (rebalanceStatus().action == Action.SETTLE) {
            _checkRole(KEEPER_ROLE);
            _settle(true);
        } else {
            _rebalanceDue(true);
        }
    }

    /// @inheritdoc ILeveragedToken
    /// @dev The one decision view of keepers and checkUpkeep: RIPCORD, then SETTLE (a batch qualifies and its
    /// settlement would succeed), then ITERATE and REBALANCE. NONE when the venue cannot value the token.
    function rebalanceStatus() public view returns (Status memory status) {
        (bool ok, Snapshot memory s) = _trySnapshot();
        if (!ok) return status;
        status = _status(s);
        if (status.action == Action.RIPCORD) return status;
        Plan memory p = _planSettlement(true, s);
        if (p.feasible && (p.depositEpoch != 0 || p.redeemEpoch != 0)) {
            (status.action, status.reason) = (Action.SETTLE, Reason.REQUESTS);
            (status.sizeDelta, status.capped, status.price) = (p.t.sizeDelta, false, p.t.price);
            (status.depositAssets, status.redeemShares, status.priceTime) = (p.t.assets, p.t.shares, p.priceTime);
        }
    }

    /// @dev The rebalance decision for the state in `s` (LeveragedTokenLogic.rebalanceDecision).
    function _status(Snapshot memory s) internal view returns (Status memory) {
        return logic.rebalanceDecision(_state(s, s.supply), _params);
    }

    function _state(Snapshot memory s, uint256 supply) internal view returns (LeveragedTokenLogic.State memory) {
        bool intervalElapsed = block.timestamp >= uint256(lastRebalance) + _params.rebalanceInterval;
        return LeveragedTokenLogic.State(s.size, s.price, s.equity, s.idle, supply, iterating, intervalElapsed);
    }

    /* ADMIN AND GUARDIAN */

    /// @inheritdoc ILeveragedToken
    function setParams(Params calldata params_) external onlyRole(DEFAULT_ADMIN_ROLE) {
        _accrueStreamingFee();
        _setParams(params_);
    }

    /// @inheritdoc ILeveragedToken
    function pause() external onlyRole(GUARDIAN_ROLE) {
        _pause();
    }

    /// @inheritdoc ILeveragedToken
    function unpause() external onlyRole(GUARDIAN_ROLE) {
        _unpause();
    }

    /// @inheritdoc ILeveragedToken
    function accrueStreamingFee() external nonReentrant {
        _accrueStreamingFee();
    }

    /* VIEWS */

    /// @inheritdoc ILeveragedToken
    function params() external view returns (Params memory) {
        return _params;
    }

    /// @inheritdoc ILeveragedToken
    function equity() public view returns (int256) {
        return _snapshot().equity;
    }

    /// @inheritdoc ILeveragedToken
    function leverage() external view returns (int256) {
        Snapshot memory s = _snapshot();
        if (s.equity <= 0 || s.size == 0) return 0;
        return HedgeMath.leverage(s.size, s.price, uint256(s.equity) * ASSET_TO_WAD);
    }

    /// @inheritdoc ILeveragedToken
    function navPerToken() external view returns (uint256) {
        return convertToAssets(WAD);
    }

    /// @inheritdoc ILeveragedToken
    function pendingStreamingFee() public view returns (uint256) {
        uint256 elapsed = block.timestamp - lastFeeAccrual;
        uint256 supply = totalSupply();
        uint256 feePerDay = _params.streamingFeePerDay;
        if (elapsed == 0 || supply == 0 || feePerDay == 0) return 0;
        // Fraction f of the supply's value taken over `elapsed`: minting S*f/(1-f) shares dilutes by f.
        uint256 fraction = FPM.min(FPM.mulDivDown(feePerDay, elapsed, 1 days), WAD / 2);
        return FPM.mulDivDown(supply, fraction, WAD - fraction);
    }

    /// @inheritdoc ERC4626
    /// @dev Never reverts: when the venue cannot value the token (stale oracle), the equity recorded by the
    /// last settlement or rebalance (an integrator sees the last known value, not a crash to zero).
    function totalAssets() public view override returns (uint256) {
        (bool ok, Snapshot memory s) = _trySnapshot();
        return ok ? _equityOrZero(s) : lastEquity;
    }

    /// @inheritdoc ERC20
    function decimals() public view override(ERC20, ERC4626) returns (uint8) {
        return ERC4626.decimals();
    }

    /// @inheritdoc AccessControl
    /// @dev Also ERC-7540 (operator 0xe3bc4e65, asynchronous deposit 0xce3bbe50, asynchronous redemption
    /// 0x620ee8e4) and ERC-7575 (0x2f0a18c5).
    function supportsInterface(bytes4 interfaceId) public view override returns (bool) {
        return interfaceId == type(ILeveragedToken).interfaceId || interfaceId == type(IERC7540Operator).interfaceId
            || interfaceId == 0xce3bbe50 || interfaceId == type(IERC7540Redeem).interfaceId
            || interfaceId == 0x2f0a18c5
            || super.supportsInterface(interfaceId);
    }

    /* INTERNAL: SETTLEMENT */

    function _settle(bool keeper) internal {
        _accrueStreamingFee();
        feed = venue.marketConfig(marketId).feed;
        Snapshot memory s = _snapshot();
        Plan memory p = _planSettlement(keeper, s);
        if (!p.feasible) revert SettlementRejected();
        _rollDeposits();
        _redemptions.roll(p.priceTime, block.timestamp, 0);
        if (p.depositEpoch == 0 && p.redeemEpoch == 0) {
            uint256 last = _redemptions.lastUnqualified();
            if (keeper) last = Math.max(last, _deposits.lastUnqualified());
            if (last != 0) revert NoNewerPrice(last, p.priceTime);
            revert NothingToSettle();
        }
        if (!keeper) {
            uint256 opensAt = uint256(_redemptions.queue.batchSince) + _params.settlementWindow;
            if (block.timestamp < opensAt) revert FallbackNotOpen(opensAt);
        }
        address recipient = _params.feeRecipient;
        if (p.depositEpoch != 0) {
            _deposits.settle(p.depositEpoch, p.t.sharesOut);
            escrowAssets -= p.t.assets;
            _mint(address(this), p.t.sharesOut);
            if (p.t.mintFee != 0) _mint(recipient, p.t.mintFee);
        }
        if (p.redeemEpoch != 0) {
            _redemptions.settle(p.redeemEpoch, p.t.assetsOut);
            escrowAssets += p.t.assetsOut;
            if (p.t.redeemFee != 0) _transfer(address(this), recipient, p.t.redeemFee);
            _burn(address(this), p.t.shares - p.t.redeemFee);
        }
        if (p.t.marginDelta != 0 || p.t.sizeDelta != 0) {
            venue.modifyPosition(marketId, p.t.marginDelta, p.t.sizeDelta, address(this));
        }
        _recordValuation(s.equity + int256(p.t.assets) - int256(p.t.assetsOut) - int256(p.t.cost));
        emit Settled(p.depositEpoch, p.redeemEpoch, !keeper, p.priceTime, p.t);
    }

    /// @dev What a settlement now would do, on the state in `s` (streaming fee not yet accrued): the batches
    /// a roll leaves qualified (deposits only for a keeper, and only when they can be settled: not paused,
    /// equity to mint against, within the supply cap, and a trade the venue accepts) and their pricing.
    /// `feasible` is false when even the redemptions alone cannot be settled now.
    function _planSettlement(bool keeper, Snapshot memory s) internal view returns (Plan memory p) {
        p.priceTime = _roundTime();
        p.feasible = true;
        uint256 feeBps;
        if (keeper) {
            (p.depositEpoch, p.t.assets, feeBps,) = _deposits.peekBatch(p.priceTime, block.timestamp, _window());
            p.t.mintFeeBps = FPM.min(feeBps, _params.mintFeeBps);
        }
        (p.redeemEpoch, p.t.shares, feeBps,) = _redemptions.peekBatch(p.priceTime, block.timestamp, 0);
        p.t.redeemFeeBps = FPM.min(feeBps, _params.redeemFeeBps);
        if (p.depositEpoch == 0 && p.redeemEpoch == 0) return p;
        p.t.price = s.price;
        bool withDeposits;
        (p.feasible, withDeposits, p.t) = logic.planSettlement(
            _state(s, s.supply + pendingStreamingFee()), _params.supplyCap, !paused(), p.t
        );
        if (!withDeposits) p.depositEpoch = 0;
    }

    /* INTERNAL: REBALANCING */

    /// @dev The rebalance due now, for rebalance() and performUpkeep(): a ripcord pays its bounty to
    /// whoever executes it, keepers included (its trade is sized for that); with `keeperUnlessRipcord`
    /// any other action needs KEEPER_ROLE.
    function _rebalanceDue(bool keeperUnlessRipcord) internal returns (Status memory status) {
        Snapshot memory s = _snapshot();
        status = _status(s);
        if (status.action == Action.NONE) revert RebalanceNotDue();
        bool isRipcord = status.action == Action.RIPCORD;
        if (keeperUnlessRipcord && !isRipcord) _checkRole(KEEPER_ROLE);
        _rebalance(status, s, isRipcord ? msg.sender : address(0));
    }

    /// @dev Trades `status.sizeDelta`. A ripcord (bountyTo != 0) pays the bounty out of margin; an
    /// ordinary rebalance first sweeps idle collateral (donations) into margin.
    function _rebalance(Status memory status, Snapshot memory s, address bountyTo) internal {
        _accrueStreamingFee();
        bool addsExposure = FPM.abs(s.size + status.sizeDelta) > FPM.abs(s.size);
        if (addsExposure) _requireNotPaused();
        uint256 bounty = bountyTo == address(0) ? 0 : logic.bounty(uint256(status.equity), _params.ripcordBounty);
        int256 marginDelta = bountyTo == address(0) ? int256(s.idle) : -int256(bounty);
        (int256 before, int256 afterTrade) =
            venue.modifyPosition(marketId, marginDelta, status.sizeDelta, bountyTo == address(0) ? address(this) : bountyTo);
        uint256 cost = uint256(before + marginDelta - afterTrade);
        bool completed = !status.capped;
        iterating = !completed;
        if (completed) {
            uint256 last = lastRebalance;
            uint256 next = RebalanceLogic.nextLastRebalance(last, block.timestamp, _params.rebalanceInterval);
            if (next != last) lastRebalance = uint64(next);
        }
        _recordValuation(s.equity - int256(cost) - int256(bounty));
        emit Rebalanced(status.action, status.reason, msg.sender, status.leverage, status.sizeDelta, status.price, cost, completed);
        if (bounty != 0) emit RipcordBountyPaid(bountyTo, bounty);
    }

    /* INTERNAL: ACCOUNTING */

    /// @dev Equity state: the venue's account value, size and price in one call, plus free idle collateral
    /// (the balance not held in escrow) and supply (escrowed shares included).
    function _snapshot() internal view returns (Snapshot memory s) {
        bool ok;
        (ok, s) = _trySnapshot();
        if (!ok) venue.indexPrice(marketId); // reverts with the venue's price error
    }

    /// @dev _snapshot, or ok = false when the venue cannot value the account (its price is invalid).
    function _trySnapshot() internal view returns (bool ok, Snapshot memory s) {
        try venue.accountState(marketId, address(this)) returns (int256 value, int256 size, uint256 price) {
            (s.value, s.size, s.price) = (value, size, price);
            s.idle = IERC20(asset()).balanceOf(address(this)) - escrowAssets;
            s.equity = s.value + int256(s.idle);
            s.supply = totalSupply();
            ok = true;
        } catch {}
    }

    function _equityOrZero(Snapshot memory s) internal pure returns (uint256) {
        return s.equity > 0 ? uint256(s.equity) : 0;
    }

    /// @dev Stores the valuation after a settlement or rebalance, for views while the oracle is stale.
    function _recordValuation(int256 equityAfter) internal {
        lastEquity = uint128(equityAfter > 0 ? uint256(equityAfter) : 0);
        lastSupply = uint128(totalSupply());
    }

    /// @inheritdoc ERC4626
    /// @dev Never reverts: on a stale oracle, at the last recorded valuation.
    function _convertToShares(uint256 assets, Math.Rounding rounding) internal view override returns (uint256) {
        (uint256 total, uint256 supply) = _valuation();
        if (Math.unsignedRoundsUp(rounding)) return SharesMath.toSharesUp(assets, total, supply, VIRTUAL_SHARES);
        return SharesMath.toSharesDown(assets, total, supply, VIRTUAL_SHARES);
    }

    /// @inheritdoc ERC4626
    /// @dev Never reverts: on a stale oracle, at the last recorded valuation.
    function _convertToAssets(uint256 shares, Math.Rounding rounding) internal view override returns (uint256) {
        (uint256 total, uint256 supply) = _valuation();
        if (Math.unsignedRoundsUp(rounding)) return SharesMath.toAssetsUp(shares, total, supply, VIRTUAL_SHARES);
        return SharesMath.toAssetsDown(shares, total, supply, VIRTUAL_SHARES);
    }

    /// @dev Equity and supply (streaming fee accrued) now, or at the last recorded valuation.
    function _valuation() internal view returns (uint256, uint256) {
        (bool ok, Snapshot memory s) = _trySnapshot();
        if (!ok) return (lastEquity, lastSupply);
        return (_equityOrZero(s), s.supply + pendingStreamingFee());
    }

    /// @inheritdoc ERC4626
    function _decimalsOffset() internal view override returns (uint8) {
        return OFFSET;
    }

    /* INTERNAL: REQUEST HOOKS */

    /// @inheritdoc AsyncRequests
    function _roundTime() internal view override returns (uint256 updatedAt) {
        (,,, updatedAt,) = feed.latestRoundData();
    }

    /// @inheritdoc AsyncRequests
    function _feeBps(bool isDeposit) internal view override returns (uint256) {
        return isDeposit ? _params.mintFeeBps : _params.redeemFeeBps;
    }

    /// @inheritdoc AsyncRequests
    function _window() internal view override returns (uint256) {
        return _params.settlementWindow;
    }

    /// @inheritdoc AsyncRequests
    /// @dev Paused: EnforcedPause. Supply at its cap: SupplyCapExceeded (settlement defers deposits that would
    /// pass it, exactly, fee shares included).
    function _checkDepositRequest() internal view override {
        _requireNotPaused();
        uint256 supply = totalSupply();
        if (supply >= _params.supplyCap) revert SupplyCapExceeded(supply, _params.supplyCap);
    }

    /* INTERNAL: FEES AND PARAMETERS */

    function _accrueStreamingFee() internal {
        uint256 elapsed = block.timestamp - lastFeeAccrual;
        if (elapsed == 0) return;
        uint256 feeShares = pendingStreamingFee();
        lastFeeAccrual = uint64(block.timestamp);
        if (feeShares != 0) {
            _mint(_params.feeRecipient, feeShares);
            emit StreamingFeeAccrued(feeShares, elapsed);
        }
    }

    /// @dev Stores `p` once every field is within its bounds (see LeveragedTokenLogic.checkParams).
    function _setParams(Params memory p) internal {
        logic.checkParams(p, maxLeverage);
        _params = p;
        emit ParamsUpdated(p);
    }
}
