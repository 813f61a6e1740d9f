// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

import {ILeveragedToken} from "./interfaces/ILeveragedToken.sol";
import {IPerpVenue} from "./interfaces/IPerpVenue.sol";
import {FixedPointMath as FPM, BPS} from "./libraries/FixedPointMath.sol";
import {SharesMath} from "./libraries/SharesMath.sol";
import {HedgeMath} from "./libraries/HedgeMath.sol";
import {RebalanceLogic} from "./libraries/RebalanceLogic.sol";
import {SettlementMath} from "./libraries/SettlementMath.sol";

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

/// @title LeveragedTokenLogic
/// @notice The view-only decisions of one LeveragedToken, which deploys it: the rebalance decision and its
/// trade, a settlement's outcomes and trade (DESIGN.md 7.6), and the parameter bounds. It holds no state
/// and moves nothing; the token reads its own storage, passes it in and acts on the answer. Kept apart so
/// the token's code stays under the 24 KB limit (EIP-170).
contract LeveragedTokenLogic {
    /// @dev The token's equity state (see LeveragedToken._snapshot).
    struct State {
        int256 size;
        uint256 price;
        int256 equity; // collateral units
        uint256 idle; // free idle collateral (escrow excluded)
        uint256 supply; // streaming fee not accrued (rebalances) or accrued (settlements)
        bool iterating;
        bool intervalElapsed;
    }

    IPerpVenue public immutable venue;
    uint256 public immutable marketId;
    int256 public immutable targetLeverage;
    /// @notice The token this logic serves (its deployer).
    address public immutable token;
    uint256 internal immutable ASSET_TO_WAD;
    uint256 internal immutable VIRTUAL_SHARES;

    /// @param assetToWad 10^(18 - collateral decimals), which is also the token's virtual shares.
    constructor(IPerpVenue venue_, uint256 marketId_, int256 targetLeverage_, uint256 assetToWad) {
        venue = venue_;
        marketId = marketId_;
        targetLeverage = targetLeverage_;
        token = msg.sender;
        ASSET_TO_WAD = assetToWad;
        VIRTUAL_SHARES = assetToWad;
    }

    /// @notice Reverts InvalidParameter naming the first field of `p` out of bounds (RebalanceLogic.checkParams
    /// with this token's target, `maxLeverage` and the hard maxima; the bounty at most 1000 collateral units).
    function checkParams(ILeveragedToken.Params calldata p, uint256 maxLeverage) external view {
        RebalanceLogic.checkParams(
            p, FPM.abs(targetLeverage), maxLeverage, MAX_FEE_BPS, MAX_STREAMING_FEE_PER_DAY, 1000 * 1e18 / ASSET_TO_WAD
        );
    }

    /// @notice The rebalance due on state `s` under `p`, why, and its trade: toward target size net of its own
    /// cost, capped at maxTradeNotional unless a ripcord (whose bounty leaves the equity first). NONE below
    /// DUST_EQUITY_WAD of equity and when the trade could not succeed: the equity does not exceed its
    /// quoted cost by DUST_UNITS, or the venue's margin check would reject it (DESIGN.md 4).
    function rebalanceDecision(State calldata s, ILeveragedToken.Params calldata p)
        external
        view
        returns (ILeveragedToken.Status memory status)
    {
        status.equity = s.equity;
        if (s.supply == 0 || s.equity <= 0) return status;
        uint256 price = s.price == 0 ? venue.indexPrice(marketId) : s.price;
        status.price = price;
        status.leverage = HedgeMath.leverage(s.size, price, uint256(s.equity) * ASSET_TO_WAD);
        int256 target = HedgeMath.targetSize(uint256(s.equity) * ASSET_TO_WAD, targetLeverage, price);
        if (uint256(s.equity) * ASSET_TO_WAD < DUST_EQUITY_WAD) return status;
        (status.action, status.reason) = RebalanceLogic.decide(
            status.leverage, targetLeverage, target != s.size, s.iterating, s.intervalElapsed,
            p.leverageMin, p.leverageMax, p.ripcordLeverage, p.minDrift
        );
        if (status.action == ILeveragedToken.Action.NONE) return status;
        uint256 equityUnits = uint256(s.equity);
        if (status.action == ILeveragedToken.Action.RIPCORD) {
            equityUnits -= bounty(equityUnits, p.ripcordBounty);
            target = HedgeMath.targetSize(equityUnits * ASSET_TO_WAD, targetLeverage, price);
        }
        status.sizeDelta = target - s.size;
        if (status.sizeDelta != 0) {
            (uint256 fee, uint256 impact) = _quoteCost(status.sizeDelta);
            status.sizeDelta = HedgeMath.netOfCost(target, status.sizeDelta, equityUnits, fee, impact);
        }
        if (status.action != ILeveragedToken.Action.RIPCORD) {
            (status.sizeDelta, status.capped) =
                RebalanceLogic.capTrade(status.sizeDelta, uint256(p.maxTradeNotional) * ASSET_TO_WAD, price);
        }
        // What the token sends with the trade: idle collateral in, or the ripcord's bounty out.
        int256 marginDelta = status.action == ILeveragedToken.Action.RIPCORD
            ? -int256(uint256(s.equity) - equityUnits)
            : int256(s.idle);
        if (!_sendable(status.sizeDelta, marginDelta, equityUnits)) {
            (status.action, status.reason, status.sizeDelta, status.capped) =
                (ILeveragedToken.Action.NONE, ILeveragedToken.Reason.NONE, 0, false);
        }
    }

    /// @notice Plans a settlement of the batches in `t` (DESIGN.md 7.6) on state `s`: with the deposits when
    /// `depositsAllowed` (not paused), the token has equity to mint against (or no supply, or is at rest with
    /// equity above -DUST_EQUITY_WAD), the supply cap holds
    /// and the venue accepts the trade; otherwise the redemptions alone. `feasible` is false when even those
    /// cannot settle now (no valid price, or a trade the venue rejects); `withDeposits` says which plan it is.
    function planSettlement(State calldata s, uint256 supplyCap, bool depositsAllowed, ILeveragedToken.Settlement memory t)
        external
        view
        returns (bool feasible, bool withDeposits, ILeveragedToken.Settlement memory)
    {
        if (t.price == 0) {
            uint256 gasBefore = gasleft();
            try venue.indexPrice(marketId) returns (uint256 price) {
                t.price = price;
            } catch {
                _checkGas(gasBefore);
                return (false, false, t);
            }
        }
        bool mintable = s.supply == 0 || s.equity > -int256(DUST_EQUITY_WAD / ASSET_TO_WAD);
        if (t.assets != 0 && depositsAllowed && mintable && _price(s, supplyCap, t)) {
            return (true, true, t);
        }
        t.assets = 0;
        if (t.shares == 0) return (true, false, t);
        return (_price(s, supplyCap, t), false, t);
    }

    /// @dev Prices `t` in place; false when the venue would reject its trade or the deposits would take supply
    /// past `supplyCap`. A redemption too small to trade whose payout the venue would not release settles for
    /// nothing (it is worth less than its close's cost). Redemptions: fee shares rounded up, the rest valued at NAV rounded down, closed pro
    /// rata (toward zero). Deposits: the hedge at target leverage net of its own cost, shares at NAV rounded
    /// down, fee shares rounded up. The one netted trade's exact cost is split by SettlementMath, and each
    /// side's share comes out of what it gets.
    function _price(State calldata s, uint256 supplyCap, ILeveragedToken.Settlement memory t) internal view returns (bool) {
        (t.sharesOut, t.mintFee, t.redeemFee, t.cost) = (0, 0, 0, 0);
        uint256 equityUnits = s.equity > 0 ? uint256(s.equity) : 0;
        uint256 gross = 0;
        int256 closeR = 0;
        uint256 quoteR = 0;
        if (t.shares != 0) {
            t.redeemFee = FPM.mulDivUp(t.shares, t.redeemFeeBps, BPS);
            gross = SharesMath.toAssetsDown(t.shares - t.redeemFee, equityUnits, s.supply, VIRTUAL_SHARES);
            closeR = -HedgeMath.proRata(s.size, t.shares - t.redeemFee, s.supply);
            (closeR, quoteR) = _unlessDust(closeR, gross);
        }
        int256 hedgeD = 0;
        uint256 quoteD = 0;
        if (t.assets != 0) (hedgeD, quoteD) = _unlessDust(_hedgeSize(t.assets, t.price), t.assets);
        t.sizeDelta = hedgeD + closeR;
        uint256 marginIn = s.idle + t.assets;
        if (t.sizeDelta != 0) {
            uint256 gasBefore = gasleft();
            try venue.quoteModify(marketId, token, int256(marginIn), t.sizeDelta) returns (
                int256 before, int256 afterTrade, uint256
            ) {
                t.cost = uint256(before + int256(marginIn) - afterTrade);
            } catch {
                _checkGas(gasBefore);
                return false;
            }
        }
        (t.costD, t.costR) = SettlementMath.split(t.cost, quoteD, quoteR, t.assets != 0, t.shares != 0);
        if (t.assets != 0) {
            uint256 contribution = t.assets > t.costD ? t.assets - t.costD : 0;
            uint256 minted = SharesMath.toSharesDown(contribution, equityUnits, s.supply, VIRTUAL_SHARES);
            t.mintFee = FPM.mulDivUp(minted, t.mintFeeBps, BPS);
            t.sharesOut = minted - t.mintFee;
            if (s.supply - (t.shares - t.redeemFee) + minted > supplyCap) return false;
        }
        t.assetsOut = gross > t.costR ? gross - t.costR : 0;
        t.marginDelta = int256(marginIn) - int256(t.assetsOut);
        if (t.marginDelta < 0) {
            uint256 gasBefore = gasleft();
            try venue.quoteModify(marketId, token, t.marginDelta, t.sizeDelta) {}
            catch {
                _checkGas(gasBefore);
                // Redemptions too small to trade (their value under their close's cost) whose payout the venue
                // will not release from the margin of the position they leave: they settle for nothing.
                if (t.assets != 0 || quoteR != 0) return false;
                (t.assetsOut, t.marginDelta) = (0, int256(marginIn));
            }
        }
        return true;
    }

    /// @notice Bounty of a ripcord on `equityUnits`: `ripcordBounty`, capped at MAX_BOUNTY_BPS of equity.
    function bounty(uint256 equityUnits, uint256 ripcordBounty) public pure returns (uint256) {
        return FPM.min(ripcordBounty, FPM.mulDivDown(equityUnits, MAX_BOUNTY_BPS, BPS));
    }

    /// @dev Fee and impact (collateral units) the venue quotes now for a trade of `sizeDelta`.
    function _quoteCost(int256 sizeDelta) internal view returns (uint256 fee, uint256 impact) {
        (,, fee, impact) = venue.quoteTrade(marketId, sizeDelta);
    }

    /// @dev Whether a rebalance of `sizeDelta` with `marginDelta` would succeed now: the equity left after the
    /// action (`equityUnits`) exceeds the trade's quoted cost by DUST_UNITS and the venue's margin check passes.
    function _sendable(int256 sizeDelta, int256 marginDelta, uint256 equityUnits) internal view returns (bool) {
        if (sizeDelta != 0) {
            (int256 traded,) = _unlessDust(sizeDelta, equityUnits);
            if (traded == 0) return false;
        }
        uint256 gasBefore = gasleft();
        try venue.quoteModify(marketId, token, marginDelta, sizeDelta) returns (int256, int256, uint256) {
            return true;
        } catch {
            _checkGas(gasBefore);
            return false;
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
    function _unlessDust(int256 sizeDelta, uint256 value) internal view returns (int256, uint256) {
        if (sizeDelta == 0) return (0, 0);
        (uint256 fee, uint256 impact) = _quoteCost(sizeDelta);
        if (value < fee + impact + DUST_UNITS) return (0, 0);
        return (sizeDelta, fee + impact);
    }

    /// @dev HedgeMath.hedgeSize of a deposit of `assets` at `price`, on the venue's quote of its gross size.
    function _hedgeSize(uint256 assets, uint256 price) internal view returns (int256) {
        int256 gross = HedgeMath.targetSize(assets * ASSET_TO_WAD, targetLeverage, price);
        if (gross == 0) return 0;
        (uint256 fee, uint256 impact) = _quoteCost(gross);
        return HedgeMath.hedgeSize(gross, assets, fee, impact);
    }
}
