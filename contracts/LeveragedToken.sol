// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

import {IERC20, IERC20Metadata, ERC20} from "@openzeppelin/contracts/token/ERC20/ERC20.sol";
import {ERC20Permit} from "@openzeppelin/contracts/token/ERC20/extensions/ERC20Permit.sol";
import {ERC4626} from "@openzeppelin/contracts/token/ERC20/extensions/ERC4626.sol";
import {SafeERC20} from "@openzeppelin/contracts/token/ERC20/utils/SafeERC20.sol";
import {AccessControl} from "@openzeppelin/contracts/access/AccessControl.sol";
import {Pausable} from "@openzeppelin/contracts/utils/Pausable.sol";
import {ReentrancyGuardTransient} from "@openzeppelin/contracts/utils/ReentrancyGuardTransient.sol";
import {Math} from "@openzeppelin/contracts/utils/math/Math.sol";
import {ILeveragedToken} from "./interfaces/ILeveragedToken.sol";
import {IPerpVenue} from "./interfaces/IPerpVenue.sol";
import {AutomationCompatibleInterface} from "./interfaces/AutomationCompatibleInterface.sol";
import {ZeroAmount, SlippageExceeded, LeverageOutOfRange} from "./interfaces/Errors.sol";
import {FixedPointMath as FPM, WAD, BPS} from "./libraries/FixedPointMath.sol";
import {SharesMath} from "./libraries/SharesMath.sol";
import {HedgeMath} from "./libraries/HedgeMath.sol";
import {RebalanceLogic} from "./libraries/RebalanceLogic.sol";

/// @title LeveragedToken
/// @notice A constant-leverage token on a perpetual-futures venue: see ILeveragedToken (accounting and
/// rounding included). Its arithmetic lives in SharesMath, HedgeMath and RebalanceLogic; this contract
/// holds the state, reads the venue and moves the assets.
/// @dev Not checked on purpose: the asset must be a plain ERC-20 (no fee on transfer, no rebasing).
contract LeveragedToken is
    ILeveragedToken, ERC4626, ERC20Permit, AccessControl, Pausable, ReentrancyGuardTransient, AutomationCompatibleInterface
{
    using SafeERC20 for IERC20;

    /* IMMUTABLES */

    /// @notice May call rebalance() and performUpkeep() for a non-emergency rebalance.
    bytes32 public constant KEEPER_ROLE = keccak256("KEEPER_ROLE");
    /// @notice May pause and unpause.
    bytes32 public constant GUARDIAN_ROLE = keccak256("GUARDIAN_ROLE");
    /// @notice Largest accepted hard leverage cap.
    uint256 public constant MAX_HARD_CAP = 20e18;
    /// @notice Largest streaming fee, 0.1% per day.
    uint256 public constant MAX_STREAMING_FEE_PER_DAY = 1e15;
    /// @notice Largest mint or redeem fee, 1%.
    uint256 public constant MAX_FEE_BPS = 100;
    /// @notice Largest fraction of equity a ripcord bounty may take, 1%.
    uint256 public constant MAX_BOUNTY_BPS = 100;

    /// @inheritdoc ILeveragedToken
    IPerpVenue public immutable venue;
    /// @inheritdoc ILeveragedToken
    uint256 public immutable marketId;
    /// @inheritdoc ILeveragedToken
    int256 public immutable targetLeverage;
    /// @inheritdoc ILeveragedToken
    uint256 public immutable maxLeverage;
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

    /// @dev Equity state read from the venue in one call, plus idle collateral and supply.
    struct Snapshot {
        int256 value;
        int256 size;
        uint256 price;
        uint256 idle;
        int256 equity;
        uint256 supply;
    }

    /// @dev How a redemption of shares splits, what it closes and what it pays.
    struct RedeemPlan {
        uint256 burnShares;
        uint256 feeShares;
        uint256 gross; // value of the burnt shares
        int256 sizeDelta; // the pro-rata close
        uint256 hedgeCost; // what the close is charged (see _quoteRedeem)
        uint256 assets; // gross - hedgeCost, at least zero
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
        _setParams(params_);
        lastRebalance = uint64(block.timestamp);
        lastFeeAccrual = uint64(block.timestamp);
        _grantRole(DEFAULT_ADMIN_ROLE, admin);
        if (keeper != address(0)) _grantRole(KEEPER_ROLE, keeper);
        if (guardian != address(0)) _grantRole(GUARDIAN_ROLE, guardian);
        IERC20(asset()).forceApprove(address(venue_), type(uint256).max);
    }

    /* ERC-4626 ENTRY AND EXIT */

    /// @inheritdoc ERC4626
    function deposit(uint256 assets, address receiver) public override nonReentrant returns (uint256) {
        return _mintFlow(assets, receiver, 0, type(uint256).max);
    }

    /// @inheritdoc ERC4626
    /// @dev Pulls previewMint(shares) assets; any excess value over `shares` stays with the holders.
    function mint(uint256 shares, address receiver) public override nonReentrant returns (uint256 assets) {
        if (shares == 0) revert ZeroAmount();
        assets = previewMint(shares);
        _mintFlow(assets, receiver, shares, shares);
    }

    /// @inheritdoc ERC4626
    /// @dev Burns previewWithdraw(assets) shares and pays exactly `assets`; any excess stays with the holders.
    function withdraw(uint256 assets, address receiver, address owner)
        public override nonReentrant returns (uint256 shares)
    {
        if (assets == 0) revert ZeroAmount();
        shares = previewWithdraw(assets);
        uint256 maxShares = balanceOf(owner);
        if (shares > maxShares) {
            // previewWithdraw rounds up; the whole balance may still pay `assets` (e.g. maxWithdraw).
            if (previewRedeem(maxShares) < assets) revert ExceedsMaxWithdraw(assets, maxWithdraw(owner));
            shares = maxShares;
        }
        _redeemFlow(shares, receiver, owner, assets, assets);
    }

    /// @inheritdoc ERC4626
    function redeem(uint256 shares, address receiver, address owner) public override nonReentrant returns (uint256) {
        return _redeemFlow(shares, receiver, owner, 0, 0);
    }

    /// @inheritdoc ILeveragedToken
    function depositWithMinShares(uint256 assets, address receiver, uint256 minShares, uint256 deadline)
        external nonReentrant returns (uint256)
    {
        if (block.timestamp > deadline) revert DeadlineExpired(deadline);
        return _mintFlow(assets, receiver, minShares, type(uint256).max);
    }

    /// @inheritdoc ILeveragedToken
    function redeemWithMinAssets(uint256 shares, address receiver, address owner, uint256 minAssets, uint256 deadline)
        external nonReentrant returns (uint256)
    {
        if (block.timestamp > deadline) revert DeadlineExpired(deadline);
        return _redeemFlow(shares, receiver, owner, minAssets, 0);
    }

    /* REBALANCING */

    /// @inheritdoc ILeveragedToken
    function rebalance() external nonReentrant onlyRole(KEEPER_ROLE) returns (Status memory) {
        return _rebalanceDue(false);
    }

    /// @inheritdoc ILeveragedToken
    function ripcord() external nonReentrant returns (Status memory status) {
        Snapshot memory s = _snapshot();
        status = _status(s);
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
        _rebalanceDue(true);
    }

    /// @inheritdoc ILeveragedToken
    function rebalanceStatus() public view returns (Status memory) {
        return _status(_snapshot());
    }

    /// @dev The rebalance decision for the state in `s` (the price is read if `s` has none), and the trade
    /// it makes: toward target size net of its own cost, capped at maxTradeNotional unless a ripcord.
    function _status(Snapshot memory s) internal view returns (Status memory status) {
        status.equity = s.equity;
        if (s.supply == 0 || s.equity <= 0) return status;
        if (s.price == 0) s.price = venue.indexPrice(marketId);
        status.price = s.price;
        status.leverage = HedgeMath.leverage(s.size, s.price, uint256(s.equity) * ASSET_TO_WAD);
        int256 target = HedgeMath.targetSize(uint256(s.equity) * ASSET_TO_WAD, targetLeverage, s.price);
        Params storage p = _params;
        (status.action, status.reason) = RebalanceLogic.decide(
            status.leverage, targetLeverage, target != s.size, iterating,
            block.timestamp >= uint256(lastRebalance) + p.rebalanceInterval,
            p.leverageMin, p.leverageMax, p.ripcordLeverage, p.minDrift
        );
        if (status.action == Action.NONE) return status;
        // A ripcord's bounty leaves the equity too: size the target on what stays.
        uint256 equityUnits = uint256(s.equity);
        if (status.action == Action.RIPCORD) {
            equityUnits -= _bounty(equityUnits);
            target = HedgeMath.targetSize(equityUnits * ASSET_TO_WAD, targetLeverage, s.price);
        }
        status.sizeDelta = target - s.size;
        if (status.sizeDelta != 0) {
            (uint256 fee, uint256 impact) = _quoteCost(status.sizeDelta);
            status.sizeDelta = HedgeMath.netOfCost(target, status.sizeDelta, equityUnits, fee, impact);
        }
        if (status.action != Action.RIPCORD) {
            (status.sizeDelta, status.capped) =
                RebalanceLogic.capTrade(status.sizeDelta, uint256(p.maxTradeNotional) * ASSET_TO_WAD, s.price);
        }
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
    function totalAssets() public view override returns (uint256) {
        return _equityOrZero(_snapshot());
    }

    /// @inheritdoc ERC4626
    function maxDeposit(address receiver) public view override returns (uint256) {
        if (_params.supplyCap == type(uint256).max) return paused() ? 0 : type(uint256).max;
        uint256 shares = maxMint(receiver);
        return shares == 0 ? 0 : _convertToAssets(shares, Math.Rounding.Floor);
    }

    /// @inheritdoc ERC4626
    function maxMint(address) public view override returns (uint256) {
        if (paused()) return 0;
        uint256 supply = totalSupply() + pendingStreamingFee();
        return supply >= _params.supplyCap ? 0 : _params.supplyCap - supply;
    }

    /// @inheritdoc ERC4626
    function maxWithdraw(address owner) public view override returns (uint256) {
        uint256 shares = balanceOf(owner);
        return shares == 0 ? 0 : previewRedeem(shares);
    }

    /// @inheritdoc ERC4626
    /// @dev Includes the mint fee and the hedge's fee and price impact, exactly as deposit() will charge them.
    function previewDeposit(uint256 assets) public view override returns (uint256) {
        if (assets == 0) return 0;
        return _quoteMint(_snapshotWithFee(), assets);
    }

    /// @inheritdoc ERC4626
    function previewMint(uint256 shares) public view override returns (uint256) {
        if (shares == 0) return 0;
        Snapshot memory s = _snapshotWithFee();
        // Start from NAV grossed up by the mint fee; _leastInput adds what the hedge cost takes.
        uint256 gross = FPM.mulDivUp(shares, BPS, BPS - _params.mintFeeBps) + 1;
        return _leastInput(s, true, shares, SharesMath.toAssetsUp(gross, _equityOrZero(s), s.supply, VIRTUAL_SHARES));
    }

    /// @inheritdoc ERC4626
    function previewWithdraw(uint256 assets) public view override returns (uint256) {
        if (assets == 0) return 0;
        Snapshot memory s = _snapshotWithFee();
        // Start from NAV grossed up by the redeem fee; _leastInput adds what the closing trade takes.
        uint256 shares = SharesMath.toSharesUp(assets, _equityOrZero(s), s.supply, VIRTUAL_SHARES);
        return _leastInput(s, false, assets, FPM.mulDivUp(shares, BPS, BPS - _params.redeemFeeBps) + 1);
    }

    /// @inheritdoc ERC4626
    /// @dev Includes the redeem fee and the closing trade's fee and price impact.
    function previewRedeem(uint256 shares) public view override returns (uint256 assets) {
        if (shares == 0) return 0;
        assets = _quoteRedeem(_snapshotWithFee(), shares, address(0)).assets;
    }

    /// @inheritdoc ERC20
    function decimals() public view override(ERC20, ERC4626) returns (uint8) {
        return ERC4626.decimals();
    }

    /// @inheritdoc AccessControl
    function supportsInterface(bytes4 interfaceId) public view override returns (bool) {
        return interfaceId == type(ILeveragedToken).interfaceId || super.supportsInterface(interfaceId);
    }

    /* INTERNAL: FLOWS */

    function _mintFlow(uint256 assets, address receiver, uint256 minShares, uint256 exactShares)
        internal whenNotPaused returns (uint256 shares)
    {
        if (assets == 0) revert ZeroAmount();
        _accrueStreamingFee();
        // The venue reports the account value before the trade, so equity needs no separate read.
        Snapshot memory s;
        s.idle = IERC20(asset()).balanceOf(address(this));
        s.supply = totalSupply();
        s.price = venue.indexPrice(marketId);
        int256 sizeDelta = _hedgeSize(assets, s.price);
        IERC20(asset()).safeTransferFrom(msg.sender, address(this), assets);
        (int256 before, int256 afterTrade) = venue.modifyPosition(marketId, int256(assets), sizeDelta, address(this));
        s.equity = before + int256(s.idle);
        if (s.supply != 0 && s.equity <= 0) revert NoEquity(s.equity);
        uint256 feeShares;
        (shares, feeShares) = _sharesFor(s, afterTrade - before);
        if (exactShares != type(uint256).max) shares = exactShares;
        if (shares == 0 || shares < minShares) revert SlippageExceeded(shares, minShares);
        uint256 supplyAfter = s.supply + shares + feeShares;
        if (supplyAfter > _params.supplyCap) revert SupplyCapExceeded(supplyAfter, _params.supplyCap);
        _mint(receiver, shares);
        if (feeShares != 0) _mint(_params.feeRecipient, feeShares);
        emit Deposit(msg.sender, receiver, assets, shares);
        emit HedgeExecuted(msg.sender, sizeDelta, s.price, assets - uint256(afterTrade - before), feeShares);
    }

    function _redeemFlow(uint256 shares, address receiver, address owner, uint256 minAssets, uint256 exactAssets)
        internal returns (uint256 assets)
    {
        if (shares == 0) revert ZeroAmount();
        _accrueStreamingFee();
        if (msg.sender != owner) _spendAllowance(owner, msg.sender, shares);
        Snapshot memory s = _snapshot();
        RedeemPlan memory plan = _quoteRedeem(s, shares, owner);
        // Effects on shares first; the venue (other than its quote) and the asset are called after.
        _burn(owner, plan.burnShares);
        if (plan.feeShares != 0) _transfer(owner, _params.feeRecipient, plan.feeShares);
        assets = plan.assets;
        if (exactAssets != 0) {
            if (assets < exactAssets) revert SlippageExceeded(assets, exactAssets);
            assets = exactAssets;
        }
        if (assets == 0 || assets < minAssets) revert SlippageExceeded(assets, minAssets);
        // Idle collateral pays first (a token without position pays even with a stale oracle); what it
        // does not pay comes out of margin in the same venue call as the closing trade (a pro-rata exit,
        // which the venue allows at any leverage). Idle left over joins the margin before the trade, so
        // an account the venue values below zero is covered before its loss is realised.
        int256 marginDelta = int256(s.idle) - int256(assets);
        if (plan.sizeDelta != 0 || marginDelta != 0) {
            venue.modifyPosition(marketId, marginDelta, plan.sizeDelta, receiver);
        }
        uint256 fromIdle = FPM.min(s.idle, assets);
        if (fromIdle != 0) IERC20(asset()).safeTransfer(receiver, fromIdle);
        emit Withdraw(msg.sender, receiver, owner, assets, shares);
        emit HedgeExecuted(msg.sender, plan.sizeDelta, s.price, plan.hedgeCost, plan.feeShares);
    }

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
        uint256 bounty = bountyTo == address(0) ? 0 : _bounty(uint256(status.equity));
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
        emit Rebalanced(status.action, status.reason, msg.sender, status.leverage, status.sizeDelta, status.price, cost, completed);
        if (bounty != 0) emit RipcordBountyPaid(bountyTo, bounty);
    }

    /* INTERNAL: ACCOUNTING */

    function _snapshot() internal view returns (Snapshot memory s) {
        (s.value, s.size, s.price) = venue.accountState(marketId, address(this));
        s.idle = IERC20(asset()).balanceOf(address(this));
        s.equity = s.value + int256(s.idle);
        s.supply = totalSupply();
    }

    /// @dev Snapshot as it will be after the streaming fee accrues (for views).
    function _snapshotWithFee() internal view returns (Snapshot memory s) {
        s = _snapshot();
        s.supply += pendingStreamingFee();
    }

    function _equityOrZero(Snapshot memory s) internal pure returns (uint256) {
        return s.equity > 0 ? uint256(s.equity) : 0;
    }

    /// @dev Shares for `contribution` (equity added net of the hedge cost) at the snapshot's NAV,
    /// split into the caller's and the mint fee's; both rounded against the caller.
    function _sharesFor(Snapshot memory s, int256 contribution) internal view returns (uint256 shares, uint256 fee) {
        if (contribution <= 0) return (0, 0);
        uint256 total = SharesMath.toSharesDown(uint256(contribution), _equityOrZero(s), s.supply, VIRTUAL_SHARES);
        fee = FPM.mulDivUp(total, _params.mintFeeBps, BPS);
        shares = total - fee;
    }

    /// @inheritdoc ERC4626
    function _convertToShares(uint256 assets, Math.Rounding rounding) internal view override returns (uint256) {
        Snapshot memory s = _snapshotWithFee();
        uint256 total = _equityOrZero(s);
        if (Math.unsignedRoundsUp(rounding)) return SharesMath.toSharesUp(assets, total, s.supply, VIRTUAL_SHARES);
        return SharesMath.toSharesDown(assets, total, s.supply, VIRTUAL_SHARES);
    }

    /// @inheritdoc ERC4626
    function _convertToAssets(uint256 shares, Math.Rounding rounding) internal view override returns (uint256) {
        Snapshot memory s = _snapshotWithFee();
        uint256 total = _equityOrZero(s);
        if (Math.unsignedRoundsUp(rounding)) return SharesMath.toAssetsUp(shares, total, s.supply, VIRTUAL_SHARES);
        return SharesMath.toAssetsDown(shares, total, s.supply, VIRTUAL_SHARES);
    }

    /// @inheritdoc ERC4626
    function _decimalsOffset() internal view override returns (uint8) {
        return OFFSET;
    }

    /* INTERNAL: QUOTES */

    /// @dev Shares (net of the mint fee) a deposit of `assets` gets now, from the venue's quote of the
    /// hedge, the same arithmetic deposit() runs.
    function _quoteMint(Snapshot memory s, uint256 assets) internal view returns (uint256 shares) {
        if (s.supply != 0 && s.equity <= 0) return 0;
        uint256 price = s.price == 0 ? venue.indexPrice(marketId) : s.price;
        int256 sizeDelta = _hedgeSize(assets, price);
        (int256 before, int256 afterTrade,) = venue.quoteModify(marketId, address(this), int256(assets), sizeDelta);
        (shares,) = _sharesFor(s, afterTrade - before);
    }

    /// @dev Splits redeemed shares of `owner` into fee (none for the fee recipient) and burnt, values the
    /// burnt ones (rounded down), sizes the pro-rata close (rounded toward zero, so the remaining holders
    /// keep at least their share) and subtracts what the close is charged: the venue's fee and impact plus
    /// one unit, because splitting unrealised PnL into a realised and a remaining part can round one unit
    /// against the account. The charge is never below the equity the trade removes; any unit left over
    /// stays with the remaining holders.
    function _quoteRedeem(Snapshot memory s, uint256 shares, address owner)
        internal view returns (RedeemPlan memory plan)
    {
        plan.feeShares = owner == _params.feeRecipient ? 0 : FPM.mulDivUp(shares, _params.redeemFeeBps, BPS);
        plan.burnShares = shares - plan.feeShares;
        plan.gross = SharesMath.toAssetsDown(plan.burnShares, _equityOrZero(s), s.supply, VIRTUAL_SHARES);
        plan.sizeDelta = -HedgeMath.proRata(s.size, plan.burnShares, s.supply);
        if (plan.sizeDelta != 0) {
            (uint256 fee, uint256 impact) = _quoteCost(plan.sizeDelta);
            plan.hedgeCost = fee + impact + 1;
        }
        plan.assets = plan.gross > plan.hedgeCost ? plan.gross - plan.hedgeCost : 0;
    }

    /// @dev The least input, searched upward from `input`, whose quote reaches `wanted`: assets that mint
    /// `wanted` shares (`isMint`), or shares that redeem for `wanted` assets. Each step adds the shortfall
    /// converted at NAV (rounded up, plus one unit); the hedge's cost makes a few steps necessary.
    function _leastInput(Snapshot memory s, bool isMint, uint256 wanted, uint256 input) internal view returns (uint256) {
        for (uint256 i; i < 16; ++i) {
            uint256 got = isMint ? _quoteMint(s, input) : _quoteRedeem(s, input, address(0)).assets;
            if (got >= wanted) return input;
            input += isMint
                ? SharesMath.toAssetsUp(wanted - got, _equityOrZero(s), s.supply, VIRTUAL_SHARES) + 1
                : SharesMath.toSharesUp(wanted - got, _equityOrZero(s), s.supply, VIRTUAL_SHARES) + 1;
        }
        revert SlippageExceeded(0, wanted);
    }

    /// @dev Fee and impact (collateral units) the venue quotes now for a trade of `sizeDelta`.
    function _quoteCost(int256 sizeDelta) internal view returns (uint256 fee, uint256 impact) {
        (,, fee, impact) = venue.quoteTrade(marketId, sizeDelta);
    }

    /// @dev HedgeMath.hedgeSize of a deposit of `assets` at `price`, on the venue's quote of its gross size.
    function _hedgeSize(uint256 assets, uint256 price) internal view returns (int256) {
        int256 gross = HedgeMath.targetSize(assets * ASSET_TO_WAD, targetLeverage, price);
        if (gross == 0) return 0;
        (uint256 fee, uint256 impact) = _quoteCost(gross);
        return HedgeMath.hedgeSize(gross, assets, fee, impact);
    }

    /// @dev Bounty of a ripcord on `equityUnits`: the parameter, capped at MAX_BOUNTY_BPS of equity.
    function _bounty(uint256 equityUnits) internal view returns (uint256) {
        return FPM.min(_params.ripcordBounty, FPM.mulDivDown(equityUnits, MAX_BOUNTY_BPS, BPS));
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

    /// @dev Stores `p` once every field is within its bounds (see RebalanceLogic.checkParams).
    function _setParams(Params memory p) internal {
        uint256 maxBounty = 1000 * 10 ** IERC20Metadata(asset()).decimals();
        RebalanceLogic.checkParams(
            p, FPM.abs(targetLeverage), maxLeverage, MAX_FEE_BPS, MAX_STREAMING_FEE_PER_DAY, maxBounty
        );
        _params = p;
        emit ParamsUpdated(p);
    }
}
