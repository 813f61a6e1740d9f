// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

import {IERC20} from "@openzeppelin/contracts/token/ERC20/IERC20.sol";
import {ILeveragedToken} from "../interfaces/ILeveragedToken.sol";
import {IPerpVenue} from "../interfaces/IPerpVenue.sol";
import {ITokenVenue} from "../interfaces/ITokenVenue.sol";

interface IERC4626Entry {
    function deposit(uint256 assets, address receiver) external returns (uint256);
    function redeem(uint256 shares, address receiver, address owner) external returns (uint256);
}

/// @title ReentrancyAttacker
/// @notice Holds collateral and leveraged-token shares, starts a deposit, redemption, ripcord or
/// rebalance, and when the collateral's transfer hook calls it back in the middle of that call, re-enters
/// the token or the venue. The re-entrant call's outcome is recorded (`swallow`) or bubbled up.
/// @dev Warning: test-only.
contract ReentrancyAttacker {
    enum Reentry {
        NONE,
        DEPOSIT,
        REDEEM,
        REBALANCE,
        RIPCORD,
        VENUE_MODIFY
    }

    ILeveragedToken public immutable token;
    IPerpVenue public immutable venue;
    IERC20 public immutable collateral;
    uint256 public immutable marketId;

    /// @notice What to re-enter on the next matching transfer.
    Reentry public reentry;
    /// @notice Only a transfer from `fromFilter` (zero: any) to `toFilter` (zero: any) triggers it.
    address public fromFilter;
    address public toFilter;
    /// @notice Record the re-entrant call's revert and carry on (true), or bubble it up (false).
    bool public swallow;

    /// @notice Number of re-entrant calls made and how many succeeded.
    uint256 public attempts;
    uint256 public successes;
    /// @notice Return or revert data of the last re-entrant call.
    bytes public lastResult;

    bool internal _inHook;

    constructor(ILeveragedToken token_, IPerpVenue venue_, uint256 marketId_) {
        token = token_;
        venue = venue_;
        marketId = marketId_;
        collateral = venue_.collateral();
        collateral.approve(address(token_), type(uint256).max);
        collateral.approve(address(venue_), type(uint256).max);
        token_.setOperator(msg.sender, true); // its deployer requests and claims for it
    }

    /// @notice Arms the attack for the next transfer from `from` to `to` (zero: any).
    function arm(Reentry reentry_, address from, address to, bool swallow_) external {
        (reentry, fromFilter, toFilter, swallow) = (reentry_, from, to, swallow_);
    }

    function deposit(uint256 assets) external returns (uint256) {
        return IERC4626Entry(address(token)).deposit(assets, address(this));
    }

    function redeem(uint256 shares) external returns (uint256) {
        return IERC4626Entry(address(token)).redeem(shares, address(this), address(this));
    }

    function ripcord() external {
        token.ripcord();
    }

    /// @notice Margin into the attacker's own venue account (so a re-entrant modifyPosition could trade).
    function depositMargin(uint256 amount) external {
        venue.modifyPosition(marketId, int256(amount), 0, address(this));
    }

    /// @notice The collateral's transfer hook.
    function onTransfer(address from, address to, uint256) external {
        if (msg.sender != address(collateral) || _inHook || reentry == Reentry.NONE) return;
        if (fromFilter != address(0) && from != fromFilter) return;
        if (toFilter != address(0) && to != toFilter) return;
        _inHook = true;
        Reentry what = reentry;
        reentry = Reentry.NONE; // one attempt per arming
        bytes memory data;
        address target = address(token);
        if (what == Reentry.DEPOSIT) {
            data = abi.encodeCall(IERC4626Entry.deposit, (1e6, address(this)));
        } else if (what == Reentry.REDEEM) {
            data = abi.encodeCall(IERC4626Entry.redeem, (1e12, address(this), address(this)));
        } else if (what == Reentry.REBALANCE) {
            data = abi.encodeCall(ILeveragedToken.rebalance, ());
        } else if (what == Reentry.RIPCORD) {
            data = abi.encodeCall(ILeveragedToken.ripcord, ());
        } else {
            target = address(venue);
            data = abi.encodeCall(ITokenVenue.modifyPosition, (marketId, int256(0), int256(1e15), address(this)));
        }
        attempts += 1;
        (bool ok, bytes memory result) = target.call(data);
        lastResult = result;
        if (ok) {
            successes += 1;
        } else if (!swallow) {
            assembly ("memory-safe") {
                revert(add(result, 0x20), mload(result))
            }
        }
        _inHook = false;
    }
}
