// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

import {IERC20, IERC20Metadata, ERC20} from "@openzeppelin/contracts/token/ERC20/ERC20.sol";
import {ERC20Permit} from "@openzeppelin/contracts/token/ERC20/extensions/ERC20Permit.sol";
import {ERC4626} from "@openzeppelin/contracts/token/ERC20/extensions/ERC4626.sol";
import {SafeERC20} from "@openzeppelin/contracts/token/ERC20/utils/SafeERC20.sol";
import {AccessControl} from "@openzeppelin/contracts/access/AccessControl.sol";
import {Pausable} from "@openzeppelin/contracts/utils/Pausable.sol";
import {ReentrancyGuardTransient} from "@openzeppelin/contracts/utils/ReentrancyGuardTransient.sol";
import {ILeveragedToken} from "./interfaces/ILeveragedToken.sol";
import {IPerpVenue} from "./interfaces/IPerpVenue.sol";
import {AutomationCompatibleInterface} from "./interfaces/AutomationCompatibleInterface.sol";
import {FixedPointMath as FPM} from "./libraries/FixedPointMath.sol";
import {Math} from "@openzeppelin/contracts/utils/math/Math.sol";

/// @title LeveragedToken
/// @notice A constant-leverage token on a perpetual-futures venue: see ILeveragedToken.
/// @dev Accounting (DESIGN.md section 3): equity E = venue account value + idle collateral; NAV = E / S.
/// Shares use OpenZeppelin's virtual offset (10^(18 - asset decimals) virtual shares, 1 virtual
/// asset), so a first depositor cannot be robbed by a donation: the attacker would have to donate
/// about 10^12 times what they hope to steal. Every share and asset amount rounds in favour of the
/// holders who stay. Mint and redeem cost is measured from the venue's own accounting (value before
/// and after the hedge trade), so the caller pays exactly its hedge, to the unit, and previews
/// reproduce it with the venue's quote of the same arithmetic.
/// Not checked on purpose: the asset must be a plain ERC-20 (no fee on transfer, no rebasing).
contract LeveragedToken is
    ILeveragedToken,
    ERC4626,
    ERC20Permit,
    AccessControl,
    Pausable,
    ReentrancyGuardTransient,
    AutomationCompatibleInterface
{
    using SafeERC20 for IERC20;

    /* CONSTANTS AND IMMUTABLES */

    /// @notice May call rebalance() and performUpkeep() for a non-emergency rebalance.
    bytes32 public constant KEEPER_ROLE = keccak256("KEEPER_ROLE");
    /// @notice May pause and unpause.
    bytes32 public constant GUARDIAN_ROLE = keccak256("GUARDIAN_ROLE");

    uint256 internal constant WAD = 1e18;
    uint256 internal constant BPS = 10_000;
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

    /// @dev How a redemption of shares splits and what it closes.
    struct RedeemPlan {
        uint256 burnShares;
        uint256 feeShares;
        uint256 gross;
        int256 sizeDelta;
    }

    /* CONSTRUCTOR */

    /// @param venue_ Venue holding the position.
    /// @param marketId_ Market in the venue.
    /// @param targetLeverage_ Signed target leverage, WAD; non-zero, |L| <= maxLeverage_.
    /// @param maxLeverage_ Immutable cap on |leverage| parameters, WAD; <= MAX_HARD_CAP.
    /// @param params_ Initial parameters (validated).
    /// @param name_ ERC-20 name, e.g. "BTC 3x Long".
    /// @param symbol_ ERC-20 symbol, e.g. "BTC3L".
    /// @param admin Admin role (parameters, roles).
    /// @param keeper Keeper role (may be zero).
    /// @param guardian Guardian role (may be zero).
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
        uint8 assetDecimals = IERC20Metadata(asset()).decimals();
        OFFSET = 18 - assetDecimals;
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
        public
        override
        nonReentrant
        returns (uint256 shares)
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
        external
        nonReentrant
        returns (uint256)
    {
        _checkDeadline(deadline);
        return _mintFlow(assets, receiver, minShares, type(uint256).max);
    }

    /// @inheritdoc ILeveragedToken
    function redeemWithMinAssets(uint256 shares, address receiver, address owner, uint256 minAssets, uint256 deadline)
        external
        nonReentrant
        returns (uint256)
    {
        _checkDeadline(deadline);
        return _redeemFlow(shares, receiver, owner, minAssets, 0);
    }

    /* REBALANCING */

    /// @inheritdoc ILeveragedToken
    function rebalance() external nonReentrant onlyRole(KEEPER_ROLE) returns (Status memory status) {
        Snapshot memory s = _snapshot();
        status = _status(s);
        if (status.action == Action.NONE) revert RebalanceNotDue();
        // A ripcord pays its bounty to whoever executes it, keepers included (its trade is sized for that).
        _rebalance(status, s, status.action == Action.RIPCORD ? msg.sender : address(0));
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
        Snapshot memory s = _snapshot();
        Status memory status = _status(s);
        if (status.action == Action.NONE) revert RebalanceNotDue();
        if (status.action == Action.RIPCORD) {
            _rebalance(status, s, msg.sender);
        } else {
            _checkRole(KEEPER_ROLE);
            _rebalance(status, s, address(0));
        }
    }

    /// @inheritdoc ILeveragedToken
    function rebalanceStatus() public view returns (Status memory) {
        return _status(_snapshot());
    }

    /// @dev The rebalance decision for the state in `s` (the price is read if `s` has none).
    function _status(Snapshot memory s) internal view returns (Status memory status) {
        status.equity = s.equity;
        if (s.supply == 0 || s.equity <= 0) return status;
        if (s.price == 0) s.price = venue.indexPrice(marketId);
        status.price = s.price;
        uint256 equityWad = uint256(s.equity) * ASSET_TO_WAD;
        uint256 absLeverage = FPM.mulDivDown(FPM.abs(s.size), s.price, equityWad);
        status.leverage = s.size < 0 ? -int256(absLeverage) : int256(absLeverage);
        int256 target = _targetSize(uint256(s.equity), s.price);
        int256 delta = target - s.size;

        Params storage p = _params;
        uint256 drift = FPM.abs(status.leverage - targetLeverage);
        if (absLeverage >= p.ripcordLeverage) {
            (status.action, status.reason) = (Action.RIPCORD, Reason.RIPCORD);
        } else if (iterating && delta != 0) {
            (status.action, status.reason) = (Action.ITERATE, Reason.ITERATION);
        } else if (absLeverage > p.leverageMax || absLeverage < p.leverageMin) {
            (status.action, status.reason) = (Action.REBALANCE, Reason.BAND);
        } else if (block.timestamp >= uint256(lastRebalance) + p.rebalanceInterval && drift >= p.minDrift && delta != 0) {
            (status.action, status.reason) = (Action.REBALANCE, Reason.TIME);
        } else {
            return status;
        }
        // A ripcord's bounty leaves the equity too: size the target on what stays.
        uint256 equityUnits = uint256(s.equity);
        if (status.action == Action.RIPCORD) {
            equityUnits -= _bounty(equityUnits);
            target = _targetSize(equityUnits, s.price);
            delta = target - s.size;
        }
        delta = _netOfCost(target, delta, equityUnits);
        if (status.action != Action.RIPCORD) {
            uint256 maxSize = FPM.mulDivDown(uint256(p.maxTradeNotional) * ASSET_TO_WAD, WAD, s.price);
            if (FPM.abs(delta) > maxSize) {
                delta = delta > 0 ? int256(maxSize) : -int256(maxSize);
                status.capped = true;
            }
        }
        status.sizeDelta = delta;
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
        uint256 absLeverage = FPM.mulDivDown(FPM.abs(s.size), s.price, uint256(s.equity) * ASSET_TO_WAD);
        return s.size < 0 ? -int256(absLeverage) : int256(absLeverage);
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
        int256 e = equity();
        return e > 0 ? uint256(e) : 0;
    }

    /// @inheritdoc ERC4626
    function maxDeposit(address) public view override returns (uint256) {
        if (paused()) return 0;
        uint256 cap = _params.supplyCap;
        if (cap == type(uint256).max) return type(uint256).max;
        uint256 supply = totalSupply() + pendingStreamingFee();
        return supply >= cap ? 0 : _convertToAssets(cap - supply, Math.Rounding.Floor);
    }

    /// @inheritdoc ERC4626
    function maxMint(address) public view override returns (uint256) {
        if (paused()) return 0;
        uint256 cap = _params.supplyCap;
        uint256 supply = totalSupply() + pendingStreamingFee();
        return supply >= cap ? 0 : cap - supply;
    }

    /// @inheritdoc ERC4626
    function maxWithdraw(address owner) public view override returns (uint256) {
        uint256 shares = balanceOf(owner);
        return shares == 0 ? 0 : previewRedeem(shares);
    }

    /// @inheritdoc ERC4626
    /// @dev Includes the mint fee and the hedge's fee and price impact, exactly as deposit() will charge them.
    function previewDeposit(uint256 assets) public view override returns (uint256 shares) {
        if (assets == 0) return 0;
        Snapshot memory s = _snapshotWithFee();
        (, shares,) = _quoteMint(s, assets);
    }

    /// @inheritdoc ERC4626
    function previewMint(uint256 shares) public view override returns (uint256 assets) {
        if (shares == 0) return 0;
        Snapshot memory s = _snapshotWithFee();
        // Start from NAV grossed up by the mint fee, then add what the hedge cost takes until enough.
        uint256 gross = FPM.mulDivUp(shares, BPS, BPS - _params.mintFeeBps) + 1;
        assets = _sharesToAssetsUp(s, gross);
        for (uint256 i; i < 16; ++i) {
            (, uint256 got,) = _quoteMint(s, assets);
            if (got >= shares) return assets;
            assets += _sharesToAssetsUp(s, shares - got) + 1;
        }
        revert SlippageExceeded(0, shares);
    }

    /// @inheritdoc ERC4626
    function previewWithdraw(uint256 assets) public view override returns (uint256 shares) {
        if (assets == 0) return 0;
        Snapshot memory s = _snapshotWithFee();
        shares = FPM.mulDivUp(_assetsToSharesUp(s, assets), BPS, BPS - _params.redeemFeeBps) + 1;
        for (uint256 i; i < 16; ++i) {
            uint256 got = _quoteRedeem(s, shares, address(0));
            if (got >= assets) return shares;
            shares += _assetsToSharesUp(s, assets - got) + 1;
        }
        revert SlippageExceeded(0, assets);
    }

    /// @inheritdoc ERC4626
    /// @dev Includes the redeem fee and the closing trade's fee and price impact.
    function previewRedeem(uint256 shares) public view override returns (uint256 assets) {
        if (shares == 0) return 0;
        assets = _quoteRedeem(_snapshotWithFee(), shares, address(0));
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
        internal
        whenNotPaused
        returns (uint256 shares)
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
        internal
        returns (uint256 assets)
    {
        if (shares == 0) revert ZeroAmount();
        _accrueStreamingFee();
        if (msg.sender != owner) _spendAllowance(owner, msg.sender, shares);
        Snapshot memory s = _snapshot();
        RedeemPlan memory plan = _redeemSplit(s, shares, owner);

        // Effects on shares first; the venue and the asset are called after.
        _burn(owner, plan.burnShares);
        if (plan.feeShares != 0) _transfer(owner, _params.feeRecipient, plan.feeShares);

        uint256 hedgeCost = _closeCost(plan.sizeDelta);
        assets = plan.gross > hedgeCost ? plan.gross - hedgeCost : 0;
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
        emit HedgeExecuted(msg.sender, plan.sizeDelta, s.price, hedgeCost, plan.feeShares);
    }

    /// @dev Trades `status.sizeDelta`. A ripcord (bountyTo != 0) pays the bounty out of margin; an
    /// ordinary rebalance first sweeps idle collateral (donations) into margin.
    function _rebalance(Status memory status, Snapshot memory s, address bountyTo) internal {
        _accrueStreamingFee();
        bool addsExposure = FPM.abs(s.size + status.sizeDelta) > FPM.abs(s.size);
        if (addsExposure) _requireNotPaused();

        int256 marginDelta;
        uint256 bounty;
        if (bountyTo != address(0)) {
            bounty = _bounty(uint256(status.equity));
            marginDelta = -int256(bounty);
        } else {
            marginDelta = int256(s.idle);
        }
        (int256 before, int256 afterTrade) =
            venue.modifyPosition(marketId, marginDelta, status.sizeDelta, bountyTo == address(0) ? address(this) : bountyTo);
        uint256 cost = uint256(before + marginDelta - afterTrade);

        bool completed = !status.capped;
        iterating = !completed;
        if (completed) {
            // The time schedule stays anchored: the next time rebalance falls due a whole number of
            // intervals after the last one, not an interval after whenever a keeper's transaction landed.
            uint256 interval = _params.rebalanceInterval;
            uint256 elapsed = block.timestamp - lastRebalance;
            if (elapsed >= interval) lastRebalance += uint64(elapsed - elapsed % interval);
        }
        emit Rebalanced(status.action, status.reason, msg.sender, status.leverage, status.sizeDelta, status.price, cost, completed);
        if (bounty != 0) emit RipcordBountyPaid(bountyTo, bounty);
    }

    /* INTERNAL: MATH */

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

    /// @dev Size that keeps leverage unchanged when `assets` join the equity: L * (assets - cost) / P,
    /// where cost is the fee and impact of the trade itself. The fee is proportional to size, so with c0
    /// the quoted cost of the gross size g = L * assets / P the net size is g * assets / (assets + c0);
    /// the impact, proportional to the square of size, is re-weighted once at that size. Rounded toward zero.
    function _hedgeSize(uint256 assets, uint256 price) internal view returns (int256) {
        uint256 gross = FPM.mulDivDown(assets * ASSET_TO_WAD, FPM.abs(targetLeverage), price);
        if (gross == 0) return 0;
        (,, uint256 fee, uint256 impact) = venue.quoteTrade(marketId, targetLeverage < 0 ? -int256(gross) : int256(gross));
        // A deposit too small to pay for its own hedge joins the equity unhedged (dust).
        if (fee + impact >= assets) return 0;
        // Impact grows with the square of size: weigh it at the first estimate's size (a Newton step).
        uint256 impactAtSize = FPM.mulDivDown(impact, assets, assets + fee + impact);
        uint256 size = FPM.mulDivDown(gross, assets, assets + fee + impactAtSize);
        return targetLeverage < 0 ? -int256(size) : int256(size);
    }

    /// @dev Shares for `contribution` (equity added net of the hedge cost) at the snapshot's NAV,
    /// split into the caller's and the mint fee's; both rounded against the caller.
    function _sharesFor(Snapshot memory s, int256 contribution) internal view returns (uint256 shares, uint256 fee) {
        if (contribution <= 0) return (0, 0);
        uint256 total = FPM.mulDivDown(uint256(contribution), s.supply + VIRTUAL_SHARES, _equityOrZero(s) + 1);
        fee = FPM.mulDivUp(total, _params.mintFeeBps, BPS);
        shares = total - fee;
    }

    function _quoteMint(Snapshot memory s, uint256 assets)
        internal
        view
        returns (int256 sizeDelta, uint256 shares, uint256 feeShares)
    {
        if (s.supply != 0 && s.equity <= 0) return (0, 0, 0);
        uint256 price = s.price == 0 ? venue.indexPrice(marketId) : s.price;
        sizeDelta = _hedgeSize(assets, price);
        (int256 before, int256 afterTrade,) = venue.quoteModify(marketId, address(this), int256(assets), sizeDelta);
        (shares, feeShares) = _sharesFor(s, afterTrade - before);
    }

    /// @dev Assets paid for redeeming `shares` of `owner` now (the fee recipient pays no redeem fee).
    function _quoteRedeem(Snapshot memory s, uint256 shares, address owner) internal view returns (uint256 assets) {
        RedeemPlan memory plan = _redeemSplit(s, shares, owner);
        uint256 hedgeCost = _closeCost(plan.sizeDelta);
        assets = plan.gross > hedgeCost ? plan.gross - hedgeCost : 0;
    }

    /// @dev What a redemption's closing trade of `sizeDelta` is charged: the venue's fee and impact plus
    /// one unit, because splitting unrealised PnL into a realised and a remaining part can round one unit
    /// against the account. The charge is never below the equity the trade removes; any unit left over
    /// stays with the remaining holders.
    function _closeCost(int256 sizeDelta) internal view returns (uint256) {
        if (sizeDelta == 0) return 0;
        (,, uint256 fee, uint256 impact) = venue.quoteTrade(marketId, sizeDelta);
        return fee + impact + 1;
    }

    /// @dev Splits redeemed shares into fee and burnt, values the burnt ones (rounded down) and sizes
    /// the pro-rata close (rounded toward zero, so the remaining holders keep at least their share).
    function _redeemSplit(Snapshot memory s, uint256 shares, address owner)
        internal
        view
        returns (RedeemPlan memory plan)
    {
        plan.feeShares = owner == _params.feeRecipient ? 0 : FPM.mulDivUp(shares, _params.redeemFeeBps, BPS);
        plan.burnShares = shares - plan.feeShares;
        plan.gross = FPM.mulDivDown(plan.burnShares, _equityOrZero(s) + 1, s.supply + VIRTUAL_SHARES);
        if (plan.burnShares >= s.supply) {
            plan.sizeDelta = -s.size;
        } else {
            plan.sizeDelta = -(s.size * int256(plan.burnShares) / int256(s.supply));
        }
    }

    function _sharesToAssetsUp(Snapshot memory s, uint256 shares) internal view returns (uint256) {
        return FPM.mulDivUp(shares, _equityOrZero(s) + 1, s.supply + VIRTUAL_SHARES);
    }

    function _assetsToSharesUp(Snapshot memory s, uint256 assets) internal view returns (uint256) {
        return FPM.mulDivUp(assets, s.supply + VIRTUAL_SHARES, _equityOrZero(s) + 1);
    }

    function _equityOrZero(Snapshot memory s) internal pure returns (uint256) {
        return s.equity > 0 ? uint256(s.equity) : 0;
    }

    /// @dev The trade toward `target` once its own cost has left the equity. The fee is proportional to
    /// size and the impact to its square, so one quote of the gross trade `delta` gives both rates: with
    /// q = |target| * cost / (equity * |delta|), the net trade is delta / (1 + q) when it adds exposure and
    /// delta / (1 - q) when it removes exposure, with the impact re-weighted once at that size.
    /// Rounded toward zero.
    function _netOfCost(int256 target, int256 delta, uint256 equityUnits) internal view returns (int256) {
        if (delta == 0) return 0;
        (,, uint256 fee, uint256 impact) = venue.quoteTrade(marketId, delta);
        uint256 absDelta = FPM.abs(delta);
        uint256 scaled = equityUnits * absDelta;
        bool addsExposure = (delta > 0) == (target > 0);
        uint256 denominator = _costDenominator(addsExposure, scaled, FPM.abs(target) * (fee + impact));
        if (denominator == 0) return delta;
        // Impact grows with the square of size: weigh it at the first estimate's size (a Newton step).
        uint256 impactAtSize = FPM.mulDivDown(impact, scaled, denominator);
        denominator = _costDenominator(addsExposure, scaled, FPM.abs(target) * (fee + impactAtSize));
        if (denominator == 0) return delta;
        uint256 size = FPM.mulDivDown(absDelta, scaled, denominator);
        return delta < 0 ? -int256(size) : int256(size);
    }

    function _costDenominator(bool addsExposure, uint256 scaled, uint256 costTerm) internal pure returns (uint256) {
        if (addsExposure) return scaled + costTerm;
        return scaled > costTerm ? scaled - costTerm : 0;
    }

    /// @dev Bounty of a ripcord on `equityUnits`: the parameter, capped at MAX_BOUNTY_BPS of equity.
    function _bounty(uint256 equityUnits) internal view returns (uint256) {
        return FPM.min(_params.ripcordBounty, FPM.mulDivDown(equityUnits, MAX_BOUNTY_BPS, BPS));
    }

    /// @dev Signed size of target leverage on `equityUnits` at `price`, rounded toward zero.
    function _targetSize(uint256 equityUnits, uint256 price) internal view returns (int256) {
        uint256 size = FPM.mulDivDown(equityUnits * ASSET_TO_WAD, FPM.abs(targetLeverage), price);
        return targetLeverage < 0 ? -int256(size) : int256(size);
    }

    /// @inheritdoc ERC4626
    function _convertToShares(uint256 assets, Math.Rounding rounding) internal view override returns (uint256) {
        Snapshot memory s = _snapshotWithFee();
        return Math.mulDiv(assets, s.supply + VIRTUAL_SHARES, _equityOrZero(s) + 1, rounding);
    }

    /// @inheritdoc ERC4626
    function _convertToAssets(uint256 shares, Math.Rounding rounding) internal view override returns (uint256) {
        Snapshot memory s = _snapshotWithFee();
        return Math.mulDiv(shares, _equityOrZero(s) + 1, s.supply + VIRTUAL_SHARES, rounding);
    }

    /// @inheritdoc ERC4626
    function _decimalsOffset() internal view override returns (uint8) {
        return OFFSET;
    }

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

    function _checkDeadline(uint256 deadline) internal view {
        if (block.timestamp > deadline) revert DeadlineExpired(deadline);
    }

    function _setParams(Params memory p) internal {
        uint256 target = FPM.abs(targetLeverage);
        if (p.leverageMax <= target) revert InvalidParameter(0);
        if (p.leverageMin == 0 || p.leverageMin >= target) revert InvalidParameter(1);
        if (p.ripcordLeverage <= p.leverageMax || p.ripcordLeverage > maxLeverage) revert InvalidParameter(2);
        if (p.minDrift >= p.leverageMax - target) revert InvalidParameter(3);
        if (p.rebalanceInterval < 60 || p.rebalanceInterval > 7 days) revert InvalidParameter(4);
        if (p.mintFeeBps > MAX_FEE_BPS) revert InvalidParameter(5);
        if (p.redeemFeeBps > MAX_FEE_BPS) revert InvalidParameter(6);
        if (p.streamingFeePerDay > MAX_STREAMING_FEE_PER_DAY) revert InvalidParameter(7);
        if (p.feeRecipient == address(0)) revert InvalidParameter(8);
        if (p.maxTradeNotional == 0) revert InvalidParameter(9);
        if (p.ripcordBounty > 1000 * 10 ** IERC20Metadata(asset()).decimals()) revert InvalidParameter(10);
        if (p.supplyCap == 0) revert InvalidParameter(11);
        _params = p;
        emit ParamsUpdated(p);
    }
}
