// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

import {IERC5267} from "@openzeppelin/contracts/interfaces/IERC5267.sol";
import {ILeveragedToken, ILeveragedTokenState} from "./interfaces/ILeveragedToken.sol";
import {IERC4626Vault, IERC7540Operator, IERC7540Redeem} from "./interfaces/IERC7540.sol";
import {AutomationCompatibleInterface} from "./interfaces/AutomationCompatibleInterface.sol";
import {WAD} from "./libraries/FixedPointMath.sol";
import {SharesMath} from "./libraries/SharesMath.sol";
import {HedgeMath} from "./libraries/HedgeMath.sol";
import {RebalanceLogic} from "./libraries/RebalanceLogic.sol";
import {AsyncRequests} from "./AsyncRequests.sol";

/// @title LeveragedToken
/// @notice A constant-leverage token on a perpetual-futures venue: see ILeveragedToken (accounting and
/// rounding included). This contract is what holders and integrators call: ERC-20 with permit, the ERC-7540
/// request book (AsyncRequests), valuation views, pause. Settlement, rebalancing, initialization and parameter
/// changes run in the shared LeveragedTokenLogic, to which it delegates those calls (on its own storage,
/// LeveragedTokenStorage); the arithmetic is in SharesMath, HedgeMath, RebalanceLogic, RequestQueue and
/// SettlementMath.
/// @dev One implementation serves every token: LeveragedTokenFactory creates each as an EIP-1167 clone whose
/// immutable arguments are the token's constants, and initializes it in the same transaction. The
/// implementation itself is locked by its constructor (already initialized, paused, no roles). There is no
/// upgrade key: a clone runs this implementation and its logic for ever.
/// Not checked on purpose: the asset must be a plain ERC-20 (no fee on transfer, no rebasing).
contract LeveragedToken is AsyncRequests, IERC5267, AutomationCompatibleInterface {
    /// @notice The shared logic this token delegates settlement, rebalancing and parameter changes to.
    address public immutable logic;
    /// @dev The selector (no function has it) a delegated view's self-call carries in front of its calldata.
    bytes4 internal constant VIEW_PREFIX = 0xffffffff;

    /// @dev Deploys the implementation every clone runs, locked: it counts as initialized, it is paused and it
    /// grants no role, so nothing can be requested, settled or rebalanced on it.
    constructor(address logic_) {
        logic = logic_;
        lastFeeAccrual = uint64(block.timestamp);
        _pause();
    }

    /* DELEGATED TO THE LOGIC */

    /// @inheritdoc ILeveragedToken
    function initialize(Params calldata, string calldata, string calldata, address, address, address) external {
        _delegateToLogic(0);
    }

    /// @inheritdoc ILeveragedToken
    /// @dev DESIGN.md 7.6. Only keepers settle deposits; a redeemer with a request in the batch may settle the
    /// redemptions once their window has passed (FallbackNotOpen before, NotInRedemptionBatch for anyone else).
    /// NothingToSettle without requests, NoNewerPrice when none
    /// qualifies yet; a stale price reverts with the venue's error.
    function settle() external {
        _delegateToLogic(0);
    }

    /// @inheritdoc ILeveragedToken
    function rebalance() external {
        _delegateToLogic(0);
    }

    /// @inheritdoc ILeveragedToken
    function ripcord() external {
        _delegateToLogic(0);
    }

    /// @inheritdoc AutomationCompatibleInterface
    /// @dev A ripcord is open to anyone (and pays the bounty to the caller); other actions need KEEPER_ROLE,
    /// which is granted to the Automation forwarder.
    function performUpkeep(bytes calldata) external {
        _delegateToLogic(0);
    }

    /// @inheritdoc ILeveragedToken
    /// @dev The change's steps against the parameters in force are checked here (DESIGN.md 11: each fee rises by at
    /// most its step, the trade cap is never lowered below a tenth of equity); the logic accrues the streaming fee
    /// at the old rate, checks every bound and stores them.
    function setParams(Params calldata next) external onlyRole(DEFAULT_ADMIN_ROLE) {
        (uint256 equityUnits,) = _valuation();
        RebalanceLogic.checkSteps(_params, next, equityUnits);
        _delegateToLogic(0);
    }

    /// @inheritdoc ILeveragedToken
    /// @dev The one decision view of keepers and checkUpkeep: RIPCORD, then SETTLE (a batch qualifies and its
    /// settlement would succeed), then ITERATE and REBALANCE. NONE when the venue cannot value the token.
    function rebalanceStatus() external view returns (Status memory) {
        _viewThroughLogic();
    }

    /// @inheritdoc AutomationCompatibleInterface
    /// @dev performData carries the action for information only; performUpkeep decides again on-chain.
    function checkUpkeep(bytes calldata) external view returns (bool, bytes memory) {
        _viewThroughLogic();
    }

    /// @dev The second leg of a delegated view: this token, static-calling itself, reaches the logic here.
    /// Any other call to a function the token does not have reverts without data, as it would without this.
    fallback() external {
        if (msg.sender != address(this) || msg.sig != VIEW_PREFIX) revert();
        _delegateToLogic(4);
    }

    /* GUARDIAN AND FEES */

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
    function equity() external view returns (int256) {
        return _snapshot().equity;
    }

    /// @inheritdoc ILeveragedToken
    function leverage() external view returns (int256) {
        Snapshot memory s = _snapshot();
        if (s.equity <= 0 || s.size == 0) return 0;
        return HedgeMath.leverage(s.size, s.price, uint256(s.equity) * _assetToWad());
    }

    /// @inheritdoc ILeveragedToken
    function navPerToken() external view returns (uint256) {
        return convertToAssets(WAD);
    }

    /// @inheritdoc IERC4626Vault
    /// @dev Never reverts: when the venue cannot value the token (stale oracle), the equity recorded by the
    /// last settlement or rebalance (an integrator sees the last known value, not a crash to zero).
    function totalAssets() external view returns (uint256) {
        (bool ok, Snapshot memory s) = _trySnapshot();
        return ok ? _equityOrZero(s) : lastEquity;
    }

    /// @inheritdoc IERC4626Vault
    /// @dev Never reverts: on a stale oracle, at the last recorded valuation.
    function convertToShares(uint256 assets) external view returns (uint256) {
        (uint256 total, uint256 supply) = _valuation();
        return SharesMath.toSharesDown(assets, total, supply, _assetToWad());
    }

    /// @inheritdoc IERC4626Vault
    /// @dev Never reverts: on a stale oracle, at the last recorded valuation.
    function convertToAssets(uint256 shares) public view returns (uint256) {
        (uint256 total, uint256 supply) = _valuation();
        return SharesMath.toAssetsDown(shares, total, supply, _assetToWad());
    }

    /// @inheritdoc IERC5267
    /// @dev The EIP-712 domain of permit: this token's name, version "1", the chain and this address.
    function eip712Domain()
        external
        view
        returns (bytes1, string memory, string memory, uint256, address, bytes32, uint256[] memory)
    {
        return (hex"0f", _name, "1", block.chainid, address(this), bytes32(0), new uint256[](0));
    }

    /// @notice ERC-20 transfer; the zero address is refused (ERC20InvalidReceiver): shares are burnt only by
    /// redemptions.
    function transfer(address to, uint256 amount) public override returns (bool) {
        if (to == address(0)) revert ERC20InvalidReceiver(to);
        return super.transfer(to, amount);
    }

    /// @notice ERC-20 transferFrom; the zero address is refused (ERC20InvalidReceiver).
    function transferFrom(address from, address to, uint256 amount) public override returns (bool) {
        if (to == address(0)) revert ERC20InvalidReceiver(to);
        return super.transferFrom(from, to, amount);
    }

    /// @dev AccessControl's, plus ILeveragedToken and ILeveragedTokenState, ERC-7540 (operator 0xe3bc4e65, asynchronous deposit 0xce3bbe50,
    /// asynchronous redemption 0x620ee8e4), ERC-7575 (0x2f0a18c5) and ERC-5267.
    function supportsInterface(bytes4 interfaceId) public view override returns (bool) {
        return interfaceId == type(ILeveragedToken).interfaceId || interfaceId == type(IERC7540Operator).interfaceId
            || interfaceId == 0xce3bbe50 || interfaceId == type(IERC7540Redeem).interfaceId
            || interfaceId == 0x2f0a18c5 || interfaceId == type(ILeveragedTokenState).interfaceId
            || interfaceId == type(IERC5267).interfaceId
            || super.supportsInterface(interfaceId);
    }

    /* INTERNAL */

    /// @dev Runs this call's calldata from byte `offset` on in the logic, on this token's storage, and returns or
    /// reverts with its result (never returns to Solidity: memory is free to overwrite).
    function _delegateToLogic(uint256 offset) internal {
        address target = logic;
        assembly {
            let size := sub(calldatasize(), offset)
            calldatacopy(0, offset, size)
            let ok := delegatecall(gas(), target, 0, size, 0, 0)
            returndatacopy(0, 0, returndatasize())
            if iszero(ok) { revert(0, returndatasize()) }
            return(0, returndatasize())
        }
    }

    /// @dev A view run in the logic: the token static-calls itself with the call's calldata behind a selector
    /// it has no function for, which its fallback delegates to the logic (a view cannot delegate-call itself);
    /// the static context keeps the logic from writing anything.
    function _viewThroughLogic() internal view {
        assembly {
            let size := calldatasize()
            mstore(0, VIEW_PREFIX)
            calldatacopy(4, 0, size)
            let ok := staticcall(gas(), address(), 0, add(size, 4), 0, 0)
            returndatacopy(0, 0, returndatasize())
            if iszero(ok) { revert(0, returndatasize()) }
            return(0, returndatasize())
        }
    }
}
