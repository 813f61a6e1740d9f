// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

import {IERC20} from "@openzeppelin/contracts/token/ERC20/IERC20.sol";
import {SafeERC20} from "@openzeppelin/contracts/token/ERC20/utils/SafeERC20.sol";
import {Math} from "@openzeppelin/contracts/utils/math/Math.sol";
import {ILeveragedToken} from "./interfaces/ILeveragedToken.sol";
import {ITokenVenue} from "./interfaces/ITokenVenue.sol";
import {LeverageOutOfRange} from "./interfaces/Errors.sol";
import {FixedPointMath as FPM, BPS} from "./libraries/FixedPointMath.sol";
import {SharesMath} from "./libraries/SharesMath.sol";
import {HedgeMath} from "./libraries/HedgeMath.sol";
import {RebalanceLogic} from "./libraries/RebalanceLogic.sol";
import {RequestQueue} from "./libraries/RequestQueue.sol";
import {SettlementMath} from "./libraries/SettlementMath.sol";
import {LeveragedTokenStorage} from "./LeveragedTokenStorage.sol";

/// @dev Largest accepted hard leverage cap.
uint256 constant MAX_HARD_CAP = 20e18;
/// @dev Largest streaming fee, 0.1% per day.
uint256 constant MAX_STREAMING_FEE_PER_DAY = 1e15;
/// @dev Largest mint or redeem fee, 1%.
uint256 constant MAX_FEE_BPS = 100;
/// @dev Largest fraction of equity a ripcord bounty may take, 1%.
uint256 constant MAX_BOUNTY_BPS = 100;
/// @dev Collateral units a settlement side's value must exceed its own trade's quoted cost by for it to trade:
/// the most the venue's accounting rounds a trade against the account.
uint256 constant DUST_UNITS = 2;
/// @dev Equity (18 decimals) below which a token is at rest, one whole unit of collateral: a token its holders
/// emptied keeps a dust position worth less than a trade's gas. No rebalance is due, and deposits are taken
/// even when that dust's value has fallen to zero or below (they then make up at most this much).
uint256 constant DUST_EQUITY_WAD = 1e18;
/// @dev Most pricings of one settlement's deposit side while it is filled up to the supply cap.
uint256 constant FILL_STEPS = 4;

/// @title LeveragedTokenLogic
/// @notice The half of every leveraged token that settles, rebalances and changes parameters: initialization,
/// settlement of requests (DESIGN.md 7.6), the rebalance decision and its trade, ripcord, Automation upkeep and
/// the parameter bounds. Deployed once; each token (LeveragedToken) delegates these calls to it, so it runs on
/// the token's own storage (LeveragedTokenStorage) with the token's address and balances. Kept apart so the
/// token's code stays well under the 24 KB limit (EIP-170); the NatSpec of each function is on ILeveragedToken.
/// @dev Called directly (not through a token's DELEGATECALL), every state-changing function reverts
/// OnlyDelegated: this contract's own storage is no token's.
contract LeveragedTokenLogic is LeveragedTokenStorage {
    using SafeERC20 for IERC20;
    using RequestQueue for RequestQueue.Book;

    /// @dev A token's constants, read once from its clone's arguments.
    struct Context {
        ITokenVenue venue;
        uint256 marketId;
        int256 targetLeverage;
        uint256 assetToWad; // 10^(18 - collateral decimals), also the virtual shares
    }

    /// @dev The token's equity state (see LeveragedTokenStorage._snapshot).
    struct State {
        int256 size;
        uint256 price;
        int256 equity; // collateral units
        uint256 idle; // free idle collateral (escrow excluded)
        uint256 supply; // streaming fee not accrued (rebalances) or accrued (settlements)
        bool iterating;
        bool intervalElapsed;
    }

    /// @dev One settlement: the batches it prices (epoch 0: none) and their pricing.
    struct Plan {
        bool feasible; // false when redemptions wait and neither side can settle now
        uint256 priceTime; // updatedAt of the latest round
        uint256 depositEpoch;
        uint256 redeemEpoch;
        ILeveragedToken.Settlement t;
    }

    /// @dev A state-changing function was called on this contract itself, not through a token.
    error OnlyDelegated();

    address private immutable SELF;

    constructor() {
        SELF = address(this);
    }

    modifier onlyDelegated() {
        if (address(this) == SELF) revert OnlyDelegated();
        _;
    }

    /* INITIALIZATION */

    /// @notice See ILeveragedToken.initialize: once (AlreadyInitialized after), from the factory named in the
    /// clone's arguments only (OnlyFactory), with 0 < |targetLeverage| <= maxLeverage <= MAX_HARD_CAP.
    function initialize(
        ILeveragedToken.Params calldata params_,
        string calldata name_,
        string calldata symbol_,
        address admin,
        address keeper,
        address guardian
    ) external onlyDelegated {
        if (msg.sender != factory()) revert ILeveragedToken.OnlyFactory(msg.sender);
        if (lastFeeAccrual != 0) revert ILeveragedToken.AlreadyInitialized();
        _checkLeverage();
        _name = name_;
        _symbol = symbol_;
        _setParams(params_);
        lastRebalance = uint64(block.timestamp);
        lastFeeAccrual = uint64(block.timestamp);
        _grantRole(DEFAULT_ADMIN_ROLE, admin);
        if (keeper != address(0)) _grantRole(KEEPER_ROLE, keeper);
        if (guardian != address(0)) _grantRole(GUARDIAN_ROLE, guardian);
        _asset().forceApprove(address(venue()), type(uint256).max);
    }

    /* SETTLEMENT */

    /// @notice See ILeveragedToken.settle.
    /// @dev DESIGN.md 7.6. Only keepers settle deposits; a redeemer with a request in the batch may settle the
    /// redemptions once their window has passed (FallbackNotOpen before, NotInRedemptionBatch for anyone else).
    /// NothingToSettle without requests, NoNewerPrice when none
    /// qualifies yet; a stale price reverts with the venue's error.
    function settle() external onlyDelegated nonReentrant {
        _settle(hasRole(KEEPER_ROLE, msg.sender));
    }

    /* REBALANCING */

    /// @notice See ILeveragedToken.rebalance.
    function rebalance() external onlyDelegated nonReentrant onlyRole(KEEPER_ROLE) {
        _rebalanceDue(false);
    }

    /// @notice See ILeveragedToken.ripcord.
    function ripcord() external onlyDelegated nonReentrant {
        Snapshot memory s = _snapshot();
        ILeveragedToken.Status memory status = _status(s, false);
        if (status.action != ILeveragedToken.Action.RIPCORD) revert ILeveragedToken.RipcordNotDue(status.leverage);
        _rebalance(status, s, msg.sender);
    }

    /// @notice Chainlink Automation: whether rebalanceStatus() has an action due, and that action (encoded).
    /// @dev performData carries the action for information only; performUpkeep decides again on-chain.
    function checkUpkeep(bytes calldata) external view returns (bool upkeepNeeded, bytes memory performData) {
        ILeveragedToken.Status memory status = rebalanceStatus();
        return (status.action != ILeveragedToken.Action.NONE, abi.encode(status.action));
    }

    /// @notice Chainlink Automation: performs the action due. A ripcord is open to anyone (and pays the bounty
    /// to the caller); other actions need KEEPER_ROLE, which is granted to the Automation forwarder.
    function performUpkeep(bytes calldata) external onlyDelegated nonReentrant {
        if (rebalanceStatus().action == ILeveragedToken.Action.SETTLE) {
            _checkRole(KEEPER_ROLE);
            _settle(true);
        } else {
            _rebalanceDue(true);
        }
    }

    /// @notice See ILeveragedToken.rebalanceStatus.
    /// @dev The one decision view of keepers and checkUpkeep: RIPCORD, then SETTLE (a batch qualifies and its
    /// settlement would succeed), then ITERATE and REBALANCE. NONE when the venue cannot value the token.
    function rebalanceStatus() public view returns (ILeveragedToken.Status memory status) {
        (bool ok, Snapshot memory s) = _trySnapshot();
        if (!ok) return status;
        status = _status(s, true);
        if (status.action == ILeveragedToken.Action.RIPCORD) return status;
        Plan memory p = _planSettlement(true, s);
        if (p.feasible && (p.depositEpoch != 0 || p.redeemEpoch != 0)) {
            (status.action, status.reason) = (ILeveragedToken.Action.SETTLE, ILeveragedToken.Reason.REQUESTS);
            (status.sizeDelta, status.capped, status.price) = (p.t.sizeDelta, false, p.t.price);
            (status.depositAssets, status.redeemShares, status.priceTime) = (p.t.assets, p.t.shares, p.priceTime);
        }
    }

    /* ADMIN */

    /// @notice See ILeveragedToken.setParams.
    function setParams(ILeveragedToken.Params calldata params_) external onlyDelegated onlyRole(DEFAULT_ADMIN_ROLE) {
        _accrueStreamingFee();
        _setParams(params_);
    }

    /* INTERNAL: SETTLEMENT */

    function _settle(bool keeper) internal {
        _accrueStreamingFee();
        Context memory c = _context();
        Snapshot memory s = _snapshot();
        Plan memory p = _planSettlement(keeper, s);
        if (!p.feasible) revert ILeveragedToken.SettlementRejected();
        _rollDeposits();
        _redemptions.roll(p.priceTime, block.timestamp, 0, 0);
        if (p.depositEpoch == 0 && p.redeemEpoch == 0) {
            uint256 last = _redemptions.lastUnqualified();
            if (keeper) last = Math.max(last, _deposits.lastUnqualified());
            if (last != 0) revert ILeveragedToken.NoNewerPrice(last, p.priceTime);
            revert ILeveragedToken.NothingToSettle();
        }
        if (!keeper) {
            uint256 opensAt = uint256(_redemptions.queue.batchSince) + _params.settlementWindow;
            if (block.timestamp < opensAt) revert ILeveragedToken.FallbackNotOpen(opensAt);
            Account storage a = _redeemAccounts[msg.sender];
            if (a.pending == 0 || _redemptions.resolve(a.epoch) != p.redeemEpoch) {
                revert ILeveragedToken.NotInRedemptionBatch(msg.sender);
            }
        }
        address recipient = _params.feeRecipient;
        if (p.depositEpoch != 0) {
            _deposits.settle(p.depositEpoch, p.t.sharesOut, p.t.refunded);
            escrowAssets -= p.t.assets;
            _mint(address(this), p.t.sharesOut);
            if (p.t.mintFee != 0) _mint(recipient, p.t.mintFee);
        }
        if (p.redeemEpoch != 0) {
            _redemptions.settle(p.redeemEpoch, p.t.assetsOut, 0);
            escrowAssets += p.t.assetsOut;
            if (p.t.redeemFee != 0) _transfer(address(this), recipient, p.t.redeemFee);
            _burn(address(this), p.t.shares - p.t.redeemFee);
        }
        if (p.t.marginDelta != 0 || p.t.sizeDelta != 0) {
            c.venue.modifyPosition(c.marketId, p.t.marginDelta, p.t.sizeDelta, address(this));
        }
        _recordValuation(s.equity + int256(p.t.assets) - int256(p.t.assetsOut) - int256(p.t.cost));
        emit ILeveragedToken.Settled(p.depositEpoch, p.redeemEpoch, !keeper, p.priceTime, p.t);
    }

    /// @dev What a settlement now would do, on the state in `s` (streaming fee not yet accrued): the batches
    /// a roll leaves qualified (deposits only for a keeper, and only when they can be settled: not paused,
    /// equity to mint against, within the supply cap, and a trade the venue accepts) and their pricing. When
    /// the two sides cannot settle together, the redemptions settle alone, and failing that the deposits: one
    /// side the venue refuses never holds the other. `feasible` is false when redemptions wait and neither side
    /// can settle now; a side left out reads zero in the settlement (its amount and its fee).
    function _planSettlement(bool keeper, Snapshot memory s) internal view returns (Plan memory p) {
        (p.priceTime,) = _roundTime();
        p.feasible = true;
        uint256 feeBps;
        if (keeper) {
            (p.depositEpoch, p.t.assets, feeBps,) = _deposits.peekBatch(p.priceTime, block.timestamp, _window());
            p.t.mintFeeBps = FPM.min(feeBps, _params.mintFeeBps);
        }
        uint256 batchAssets = p.t.assets;
        (p.redeemEpoch, p.t.shares, feeBps,) = _redemptions.peekBatch(p.priceTime, block.timestamp, 0);
        p.t.redeemFeeBps = FPM.min(feeBps, _params.redeemFeeBps);
        if (p.depositEpoch == 0 && p.redeemEpoch == 0) return p;
        p.t.price = s.price;
        (bool withDeposits, bool withRedemptions) =
            _priceSettlement(_context(), _state(s, s.supply + pendingStreamingFee()), _params.supplyCap, !paused(), p.t);
        p.feasible = withDeposits || withRedemptions || p.redeemEpoch == 0;
        if (!withDeposits) (p.depositEpoch, p.t.assets, p.t.mintFeeBps) = (0, 0, 0);
        else p.t.refunded = batchAssets - p.t.assets;
        if (!withRedemptions) (p.redeemEpoch, p.t.shares, p.t.redeemFeeBps) = (0, 0, 0);
    }

    /// @dev Prices the batches in `t` (DESIGN.md 7.6) on state `s` and says which sides settle: both when they
    /// can; otherwise the redemptions alone; otherwise the deposits alone. Deposits settle only when
    /// `depositsAllowed` (not paused), the token has equity to mint against (or no supply, or is at rest with
    /// equity above -DUST_EQUITY_WAD), the supply cap holds and the venue accepts the trade. Neither side settles
    /// without a valid price. `t` is left priced for the plan returned.
    function _priceSettlement(
        Context memory c,
        State memory s,
        uint256 supplyCap,
        bool depositsAllowed,
        ILeveragedToken.Settlement memory t
    ) internal view returns (bool withDeposits, bool withRedemptions) {
        if (t.price == 0) {
            uint256 gasBefore = gasleft();
            try c.venue.indexPrice(c.marketId) returns (uint256 price) {
                t.price = price;
            } catch {
                _checkGas(gasBefore);
                return (false, false);
            }
        }
        (uint256 assets, uint256 shares) = (t.assets, t.shares);
        bool mintable = s.supply == 0 || s.equity > -int256(DUST_EQUITY_WAD / c.assetToWad);
        bool deposits = assets != 0 && depositsAllowed && mintable;
        if (!deposits) t.assets = 0;
        if ((deposits || shares != 0) && _priceFilled(c, s, supplyCap, t)) return (deposits, shares != 0);
        if (!deposits || shares == 0) return (false, false);
        t.assets = 0;
        if (_price(c, s, supplyCap, t)) return (false, true);
        (t.assets, t.shares) = (assets, 0);
        if (_priceFilled(c, s, supplyCap, t)) return (true, false);
        return (false, false);
    }

    /// @dev Prices `t` like `_price`, filling its deposits pro rata up to `supplyCap` (DESIGN.md 7.6): when only
    /// the cap refuses them, their assets shrink to what the cap's room takes at the shares they would mint
    /// (rounded down; none without room). A smaller hedge costs less per unit and mints a little more, so the
    /// next shrinks follow the secant through the last two pricings: shares minted are concave in assets, so
    /// it lands at or just under the cap. Up to FILL_STEPS pricings; false when the venue refuses.
    function _priceFilled(Context memory c, State memory s, uint256 supplyCap, ILeveragedToken.Settlement memory t)
        internal
        view
        returns (bool)
    {
        (uint256 lastAssets, uint256 lastMinted) = (0, 0);
        for (uint256 i = 0; i < FILL_STEPS; ++i) {
            if (_price(c, s, supplyCap, t)) return true;
            (uint256 assets, uint256 minted) = (t.assets, t.sharesOut + t.mintFee);
            uint256 kept = s.supply - (t.shares - t.redeemFee);
            // The venue refused (before or after the shares were priced), not the cap.
            if (assets == 0 || kept + minted <= supplyCap) return false;
            if (kept >= supplyCap) {
                t.assets = 0;
            } else if (lastMinted > minted) {
                uint256 cut = Math.mulDiv(kept + minted - supplyCap, lastAssets - assets, lastMinted - minted, Math.Rounding.Ceil);
                t.assets = cut < assets ? assets - cut : 0;
            } else {
                t.assets = Math.mulDiv(assets, supplyCap - kept, minted);
            }
            (lastAssets, lastMinted) = (assets, minted);
        }
        return false;
    }

    /// @dev Prices `t` in place; false when the venue would reject its trade or the deposits would take supply
    /// past `supplyCap`. A redemption too small to trade whose payout the venue would not release settles for
    /// nothing (it is worth less than its close's cost). Redemptions: fee shares rounded up, the rest valued at
    /// NAV rounded down, closed pro rata (toward zero). Deposits: the hedge at target leverage net of its own
    /// cost, shares at NAV rounded down, fee shares rounded up. The one netted trade's exact cost is split by
    /// SettlementMath, and each side's share comes out of what it gets.
    function _price(Context memory c, State memory s, uint256 supplyCap, ILeveragedToken.Settlement memory t)
        internal
        view
        returns (bool)
    {
        (t.sharesOut, t.mintFee, t.redeemFee, t.cost) = (0, 0, 0, 0);
        uint256 equityUnits = s.equity > 0 ? uint256(s.equity) : 0;
        uint256 gross = 0;
        int256 closeR = 0;
        uint256 quoteR = 0;
        if (t.shares != 0) {
            t.redeemFee = FPM.mulDivUp(t.shares, t.redeemFeeBps, BPS);
            gross = SharesMath.toAssetsDown(t.shares - t.redeemFee, equityUnits, s.supply, c.assetToWad);
            closeR = -HedgeMath.proRata(s.size, t.shares - t.redeemFee, s.supply);
            (closeR, quoteR) = _unlessDust(c, closeR, gross);
        }
        int256 hedgeD = 0;
        uint256 quoteD = 0;
        if (t.assets != 0) (hedgeD, quoteD) = _unlessDust(c, _hedgeSize(c, t.assets, t.price), t.assets);
        t.sizeDelta = hedgeD + closeR;
        uint256 marginIn = s.idle + t.assets;
        if (t.sizeDelta != 0) {
            bool accepted;
            (accepted, t.cost) = _quoteModify(c, int256(marginIn), t.sizeDelta);
            if (!accepted) return false;
        }
        (t.costD, t.costR) = SettlementMath.split(t.cost, quoteD, quoteR, t.assets != 0, t.shares != 0);
        if (t.assets != 0 && !_mintShares(t, equityUnits, s.supply, c.assetToWad, supplyCap)) return false;
        t.assetsOut = gross > t.costR ? gross - t.costR : 0;
        t.marginDelta = int256(marginIn) - int256(t.assetsOut);
        if (t.marginDelta < 0) {
            (bool accepted,) = _quoteModify(c, t.marginDelta, t.sizeDelta);
            if (!accepted) {
                // Redemptions too small to trade (their value under their close's cost) whose payout the venue
                // will not release from the margin of the position they leave: they settle for nothing.
                if (t.assets != 0 || quoteR != 0) return false;
                (t.assetsOut, t.marginDelta) = (0, int256(marginIn));
            }
        }
        return true;
    }

    /// @dev The deposit side's shares (fee shares rounded up) for its assets net of its share of the cost, at NAV
    /// rounded down; false when they would take the supply past `supplyCap`.
    function _mintShares(
        ILeveragedToken.Settlement memory t,
        uint256 equityUnits,
        uint256 supply,
        uint256 virtualShares,
        uint256 supplyCap
    ) internal pure returns (bool) {
        uint256 contribution = t.assets > t.costD ? t.assets - t.costD : 0;
        uint256 minted = SharesMath.toSharesDown(contribution, equityUnits, supply, virtualShares);
        t.mintFee = FPM.mulDivUp(minted, t.mintFeeBps, BPS);
        t.sharesOut = minted - t.mintFee;
        return supply - (t.shares - t.redeemFee) + minted <= supplyCap;
    }

    /* INTERNAL: REBALANCING */

    /// @dev The rebalance due now, for rebalance() and performUpkeep(): a ripcord pays its bounty to
    /// whoever executes it, keepers included (its trade is sized for that); with `keeperUnlessRipcord`
    /// any other action needs KEEPER_ROLE.
    function _rebalanceDue(bool keeperUnlessRipcord) internal {
        Snapshot memory s = _snapshot();
        ILeveragedToken.Status memory status = _status(s, false);
        if (status.action == ILeveragedToken.Action.NONE) revert ILeveragedToken.RebalanceNotDue();
        bool isRipcord = status.action == ILeveragedToken.Action.RIPCORD;
        if (keeperUnlessRipcord && !isRipcord) _checkRole(KEEPER_ROLE);
        _rebalance(status, s, isRipcord ? msg.sender : address(0));
    }

    /// @dev Trades `status.sizeDelta`. A ripcord (bountyTo != 0) pays the bounty out of margin; an
    /// ordinary rebalance first sweeps idle collateral (donations) into margin.
    function _rebalance(ILeveragedToken.Status memory status, Snapshot memory s, address bountyTo) internal {
        _accrueStreamingFee();
        bool addsExposure = FPM.abs(s.size + status.sizeDelta) > FPM.abs(s.size);
        if (addsExposure) _requireNotPaused();
        uint256 paid = bountyTo == address(0) ? 0 : bounty(uint256(status.equity), _params.ripcordBounty);
        int256 marginDelta = bountyTo == address(0) ? int256(s.idle) : -int256(paid);
        uint256 cost = _trade(status, marginDelta, bountyTo);
        bool completed = !status.capped;
        iterating = !completed;
        if (completed) {
            uint256 last = lastRebalance;
            uint256 next = RebalanceLogic.nextLastRebalance(last, block.timestamp, _params.rebalanceInterval);
            if (next != last) lastRebalance = uint64(next);
        }
        _recordValuation(s.equity - int256(cost) - int256(paid));
        emit ILeveragedToken.Rebalanced(
            status.action, status.reason, msg.sender, status.leverage, status.sizeDelta, status.price, cost, completed
        );
        if (paid != 0) emit ILeveragedToken.RipcordBountyPaid(bountyTo, paid);
    }

    /// @dev Sends a rebalance's trade and margin to the venue (a ripcord's margin out to `bountyTo`) and returns
    /// its cost: what the account's value lost beyond the margin moved. The decision did not simulate the trade
    /// (rebalanceStatus does, and reports NONE when the venue would reject it): a trade the venue rejects
    /// reverts here with the venue's own error.
    function _trade(ILeveragedToken.Status memory status, int256 marginDelta, address bountyTo)
        internal
        returns (uint256)
    {
        (int256 before, int256 afterTrade) = venue().modifyPosition(
            marketId(), marginDelta, status.sizeDelta, bountyTo == address(0) ? address(this) : bountyTo
        );
        return _lost(before, marginDelta, afterTrade);
    }

    /// @dev What an account's value lost to a change beyond the margin moved: its cost, never below zero (a DEX that
    /// fills better than the oracle price gains; the gain stays with the holders, none of it paid to a side).
    function _lost(int256 before, int256 marginDelta, int256 afterTrade) internal pure returns (uint256) {
        int256 lost = before + marginDelta - afterTrade;
        return lost > 0 ? uint256(lost) : 0;
    }

    /// @dev The rebalance due on the state in `s`, why, and its trade: toward target size net of its own cost,
    /// capped at maxTradeNotional unless a ripcord (whose bounty leaves the equity first). NONE below
    /// DUST_EQUITY_WAD of equity and when the trade could not succeed: the equity does not exceed its quoted
    /// cost by DUST_UNITS, or (`checkMargin`, for the view) the venue's margin check would reject it
    /// (DESIGN.md 4). An execution leaves that check to the venue's own trade instead of simulating it first.
    function _status(Snapshot memory s, bool checkMargin) internal view returns (ILeveragedToken.Status memory status) {
        Context memory c = _context();
        State memory st = _state(s, s.supply);
        ILeveragedToken.Params storage p = _params;
        status.equity = st.equity;
        if (st.supply == 0 || st.equity <= 0) return status;
        uint256 price = st.price == 0 ? c.venue.indexPrice(c.marketId) : st.price;
        status.price = price;
        status.leverage = HedgeMath.leverage(st.size, price, uint256(st.equity) * c.assetToWad);
        int256 target = HedgeMath.targetSize(uint256(st.equity) * c.assetToWad, c.targetLeverage, price);
        if (uint256(st.equity) * c.assetToWad < DUST_EQUITY_WAD) return status;
        (status.action, status.reason) = RebalanceLogic.decide(
            status.leverage, c.targetLeverage, target != st.size, st.iterating, st.intervalElapsed,
            p.leverageMin, p.leverageMax, p.ripcordLeverage, p.minDrift
        );
        if (status.action == ILeveragedToken.Action.NONE) return status;
        uint256 equityUnits = uint256(st.equity);
        if (status.action == ILeveragedToken.Action.RIPCORD) {
            equityUnits -= bounty(equityUnits, p.ripcordBounty);
            target = HedgeMath.targetSize(equityUnits * c.assetToWad, c.targetLeverage, price);
        }
        status.sizeDelta = target - st.size;
        bool clear = false;
        if (status.sizeDelta != 0) {
            (uint256 fee, uint256 impact) = _quoteCost(c, status.sizeDelta);
            int256 net = HedgeMath.netOfCost(target, status.sizeDelta, equityUnits, fee, impact);
            // The venue's fee is proportional to notional and its impact at most quadratic in it (both rounded
            // up): a trade at most twice this one's size costs at most four times its quote. Equity above that
            // bound clears the dust check without quoting the final trade again (the cap only shrinks it).
            clear = FPM.abs(net) <= 2 * FPM.abs(status.sizeDelta) && equityUnits >= 4 * (fee + impact) + DUST_UNITS;
            status.sizeDelta = net;
        }
        if (status.action != ILeveragedToken.Action.RIPCORD) {
            (status.sizeDelta, status.capped) =
                RebalanceLogic.capTrade(status.sizeDelta, uint256(p.maxTradeNotional) * c.assetToWad, price);
        }
        // What the token sends with the trade: idle collateral in, or the ripcord's bounty out.
        int256 marginDelta = status.action == ILeveragedToken.Action.RIPCORD
            ? -int256(uint256(st.equity) - equityUnits)
            : int256(st.idle);
        if (!_sendable(c, status.sizeDelta, marginDelta, equityUnits, clear, checkMargin)) {
            (status.action, status.reason, status.sizeDelta, status.capped) =
                (ILeveragedToken.Action.NONE, ILeveragedToken.Reason.NONE, 0, false);
        }
    }

    /// @notice Bounty of a ripcord on `equityUnits`: `ripcordBounty`, capped at MAX_BOUNTY_BPS of equity.
    function bounty(uint256 equityUnits, uint256 ripcordBounty) public pure returns (uint256) {
        return FPM.min(ripcordBounty, FPM.mulDivDown(equityUnits, MAX_BOUNTY_BPS, BPS));
    }

    /* INTERNAL: VENUE QUOTES */

    /// @dev Fee and impact (collateral units) the venue quotes now for a trade of `sizeDelta`.
    function _quoteCost(Context memory c, int256 sizeDelta) internal view returns (uint256 fee, uint256 impact) {
        (,, fee, impact) = c.venue.quoteTrade(c.marketId, sizeDelta);
    }

    /// @dev Whether a rebalance of `sizeDelta` with `marginDelta` would succeed now: the equity left after the
    /// action (`equityUnits`) exceeds the trade's quoted cost by DUST_UNITS (known already when `clear`) and,
    /// when `checkMargin`, the venue's margin check passes.
    function _sendable(
        Context memory c,
        int256 sizeDelta,
        int256 marginDelta,
        uint256 equityUnits,
        bool clear,
        bool checkMargin
    ) internal view returns (bool) {
        if (sizeDelta != 0 && !clear) {
            (int256 traded,) = _unlessDust(c, sizeDelta, equityUnits);
            if (traded == 0) return false;
        }
        if (!checkMargin) return true;
        (bool accepted,) = _quoteModify(c, marginDelta, sizeDelta);
        return accepted;
    }

    /// @dev Whether the venue accepts `marginDelta` and `sizeDelta` on this token's account now, and what the
    /// account's value loses to it beyond the margin moved (the trade's exact cost, collateral units).
    function _quoteModify(Context memory c, int256 marginDelta, int256 sizeDelta)
        internal
        view
        returns (bool accepted, uint256 cost)
    {
        uint256 gasBefore = gasleft();
        try c.venue.quoteModify(c.marketId, address(this), marginDelta, sizeDelta) returns (
            int256 before, int256 afterTrade, uint256
        ) {
            return (true, _lost(before, marginDelta, afterTrade));
        } catch {
            _checkGas(gasBefore);
            return (false, 0);
        }
    }

    /// @dev Reverts InsufficientGas when a call that just failed had `gasBefore` available and left at most
    /// 1/63 of it (EIP-150 forwards all but 1/64): it ran out of gas, so its failure says nothing about the venue.
    function _checkGas(uint256 gasBefore) internal view {
        if (gasleft() <= gasBefore / 63) revert ILeveragedToken.InsufficientGas();
    }

    /// @dev `sizeDelta` and the fee plus impact the venue quotes for it traded alone; no trade (0, 0) when a
    /// side's `value` does not exceed that cost by DUST_UNITS (the venue's rounding), so a dust request never
    /// leaves a cost it cannot pay to the holders: its sliver of position stays with them instead, a leverage
    /// change worth less than the trade would have cost.
    function _unlessDust(Context memory c, int256 sizeDelta, uint256 value) internal view returns (int256, uint256) {
        if (sizeDelta == 0) return (0, 0);
        (uint256 fee, uint256 impact) = _quoteCost(c, sizeDelta);
        if (value < fee + impact + DUST_UNITS) return (0, 0);
        return (sizeDelta, fee + impact);
    }

    /// @dev HedgeMath.hedgeSize of a deposit of `assets` at `price`, on the venue's quote of its gross size.
    function _hedgeSize(Context memory c, uint256 assets, uint256 price) internal view returns (int256) {
        int256 gross = HedgeMath.targetSize(assets * c.assetToWad, c.targetLeverage, price);
        if (gross == 0) return 0;
        (uint256 fee, uint256 impact) = _quoteCost(c, gross);
        return HedgeMath.hedgeSize(gross, assets, fee, impact);
    }

    /* INTERNAL: STATE AND PARAMETERS */

    function _context() internal view returns (Context memory) {
        return Context(venue(), marketId(), targetLeverage(), _assetToWad());
    }

    function _state(Snapshot memory s, uint256 supply) internal view returns (State memory) {
        bool intervalElapsed = block.timestamp >= uint256(lastRebalance) + _params.rebalanceInterval;
        return State(s.size, s.price, s.equity, s.idle, supply, iterating, intervalElapsed);
    }

    /// @dev LeverageOutOfRange unless 0 < |targetLeverage| <= maxLeverage <= MAX_HARD_CAP.
    function _checkLeverage() internal view {
        int256 target = targetLeverage();
        uint256 hardCap = maxLeverage();
        if (target == 0 || FPM.abs(target) > hardCap || hardCap > MAX_HARD_CAP) revert LeverageOutOfRange(target);
    }

    /// @dev Stores `p` once every field is within its bounds (RebalanceLogic.checkParams with this token's
    /// target, maxLeverage and the hard maxima; the bounty at most 1000 collateral units).
    function _setParams(ILeveragedToken.Params memory p) internal {
        RebalanceLogic.checkParams(
            p,
            FPM.abs(targetLeverage()),
            maxLeverage(),
            MAX_FEE_BPS,
            MAX_STREAMING_FEE_PER_DAY,
            1000 * 1e18 / _assetToWad()
        );
        _params = p;
        emit ILeveragedToken.ParamsUpdated(p);
    }
}
