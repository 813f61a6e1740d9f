// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

import {IERC20} from "@openzeppelin/contracts/token/ERC20/IERC20.sol";
import {SafeERC20} from "@openzeppelin/contracts/token/ERC20/utils/SafeERC20.sol";
import {Math} from "@openzeppelin/contracts/utils/math/Math.sol";
import {SafeCast} from "@openzeppelin/contracts/utils/math/SafeCast.sol";
import {ILeveragedToken} from "./interfaces/ILeveragedToken.sol";
import {
    IERC4626Vault, IERC7540Operator, IERC7540Deposit, IERC7540Redeem, IERC7575Share
} from "./interfaces/IERC7540.sol";
import {ZeroAmount} from "./interfaces/Errors.sol";
import {RequestQueue} from "./libraries/RequestQueue.sol";
import {SharesMath} from "./libraries/SharesMath.sol";
import {LeveragedTokenStorage} from "./LeveragedTokenStorage.sol";

/// @title AsyncRequests
/// @notice The request book of an asynchronous ERC-4626 vault (ERC-7540, both sides; ERC-7887 deposit
/// cancellation): requests into escrow, per-controller accounts, operators, the claim forms of deposit, mint,
/// redeem and withdraw, and the views. Settlements (LeveragedTokenLogic) price the batches; the state lives in
/// LeveragedTokenStorage.
/// @dev Choices the standard leaves open, each the simplest for a wallet user:
/// - `requestId` is always 0: requests aggregate per controller, and the views ignore the id passed.
/// - The two-argument ERC-4626 `deposit`/`mint` claim for msg.sender.
/// - Claimable amounts accumulate across settlements and are never pushed or auto-claimed.
/// - Claims work while paused and on a stale oracle: they move only what a settlement fixed.
/// - Partial claims are pro rata at the controller's average price; claiming all of one side takes exactly
///   the rest of the other, so nothing is stranded.
/// - Cancellation is for deposits, once their batch expired (the keepers missed the liveness window);
///   redemptions need none, since their redeemers may settle them then.
/// A controller's pending amount becomes claimable lazily (a checkpoint) at its next request, claim or cancel.
abstract contract AsyncRequests is ILeveragedToken, IERC4626Vault, LeveragedTokenStorage {
    using SafeERC20 for IERC20;
    using RequestQueue for RequestQueue.Book;
    using SafeCast for uint256;

    /* REQUESTS */

    /// @inheritdoc IERC7540Deposit
    /// @dev Refused while paused (EnforcedPause), and when the supply has reached its cap or this request alone
    /// would pass it at the current NAV before costs (SupplyCapExceeded); a batch that together passes the cap
    /// settles pro rata up to it and its claims return the rest (DESIGN.md 7.6). A controller whose earlier deposit waits in a closed
    /// batch reverts EarlierRequestPending (an expired one must be cancelled first). A `controller` other than
    /// `owner` must be the caller or have approved it as operator (UnauthorizedOperator): nobody can add a
    /// request that would hold another account's next one. An amount the books cannot hold whole reverts.
    function requestDeposit(uint256 assets, address controller, address owner)
        external
        nonReentrant
        returns (uint256)
    {
        if (assets == 0) revert ZeroAmount();
        _checkOperator(owner);
        if (controller != owner) _checkController(controller);
        _checkDepositRequest(assets);
        uint256 u = _rollDeposits();
        _join(_deposits, _depositAccounts[controller], controller, assets, u, _feeBps(true));
        escrowAssets += assets;
        _asset().safeTransferFrom(owner, address(this), assets);
        emit DepositRequest(controller, owner, 0, msg.sender, assets);
        return 0;
    }

    /// @inheritdoc IERC7540Redeem
    /// @dev Always accepted (paused, stale, dead or reverting oracle, or wiped out). A caller other than `owner`
    /// needs to be its operator or to hold an ERC-20 allowance, which is spent; a `controller` other than `owner`
    /// must be the caller or have approved it as operator.
    function requestRedeem(uint256 shares, address controller, address owner) external nonReentrant returns (uint256) {
        if (shares == 0) revert ZeroAmount();
        if (owner != msg.sender && !_operators[owner][msg.sender]) _spendAllowance(owner, msg.sender, shares);
        if (controller != owner) _checkController(controller);
        uint256 u = _rollRedemptions();
        _join(_redemptions, _redeemAccounts[controller], controller, shares, u, _feeBps(false));
        _transfer(owner, address(this), shares);
        emit RedeemRequest(controller, owner, 0, msg.sender, shares);
        return 0;
    }

    /// @inheritdoc ILeveragedToken
    /// @dev Open to anyone: every request rolls its queue the same way, so this adds no power; it only lets a
    /// roll be kept when no request comes (a settle or cancel that reverts undoes its own roll).
    function poke() external nonReentrant {
        _rollDeposits();
        _rollRedemptions();
    }

    /// @inheritdoc IERC7540Operator
    function setOperator(address operator, bool approved) external returns (bool) {
        _operators[msg.sender][operator] = approved;
        emit OperatorSet(msg.sender, operator, approved);
        return true;
    }

    /* CLAIMS */

    /// @inheritdoc IERC7540Deposit
    /// @dev Claims also pay `receiver` the same part of any refund the supply cap left (DepositRefunded); the
    /// Deposit event's assets are the claimed assets net of it.
    function deposit(uint256 assets, address receiver, address controller) public nonReentrant returns (uint256 shares) {
        _checkController(controller);
        (assets, shares) = _claim(_deposits, _depositAccounts[controller], assets, true);
        _claimDeposit(controller, receiver, assets, shares);
    }

    /// @inheritdoc IERC7540Deposit
    /// @dev As `deposit`: a refund the supply cap left is paid with the claim.
    function mint(uint256 shares, address receiver, address controller) public nonReentrant returns (uint256 assets) {
        _checkController(controller);
        (assets, shares) = _claim(_deposits, _depositAccounts[controller], shares, false);
        _claimDeposit(controller, receiver, assets, shares);
    }

    /// @notice Claims the shares of `assets` of the caller's claimable deposit.
    function deposit(uint256 assets, address receiver) public returns (uint256) {
        return deposit(assets, receiver, msg.sender);
    }

    /// @notice Claims exactly `shares` of the caller's claimable deposit.
    function mint(uint256 shares, address receiver) public returns (uint256) {
        return mint(shares, receiver, msg.sender);
    }

    /// @notice Claims the assets of `shares` of `controller`'s claimable redemption (ERC-7540: the third
    /// argument is the controller).
    function redeem(uint256 shares, address receiver, address controller)
        public
        nonReentrant
        returns (uint256 assets)
    {
        _checkController(controller);
        (shares, assets) = _claim(_redemptions, _redeemAccounts[controller], shares, true);
        _payOut(receiver, assets);
        emit Withdraw(controller, receiver, controller, assets, shares);
    }

    /// @notice Claims exactly `assets` of `controller`'s claimable redemption.
    function withdraw(uint256 assets, address receiver, address controller)
        public
        nonReentrant
        returns (uint256 shares)
    {
        _checkController(controller);
        (shares, assets) = _claim(_redemptions, _redeemAccounts[controller], assets, false);
        _payOut(receiver, assets);
        emit Withdraw(controller, receiver, controller, assets, shares);
    }

    /* CANCELLATION */

    /// @inheritdoc ILeveragedToken
    /// @dev Only for a request that expired (keepers left its batch unsettled for the whole window, or no round
    /// qualified it for the feed's heartbeat plus the window: a dead feed), so a depositor never holds both a
    /// settlement and a refund option, or for one the queue no longer holds in any slot: CancelTooEarly(allowedAt)
    /// before, RequestAlreadySettled after a settlement, NoPendingRequest without a request. One call, refund included: simpler for a wallet
    /// than ERC-7887's request-then-claim, which this token does not claim to implement.
    function cancelDepositRequest(address receiver, address controller) external nonReentrant returns (uint256 assets) {
        _checkController(controller);
        _rollDeposits();
        Account storage a = _depositAccounts[controller];
        assets = a.pending;
        if (assets == 0) revert NoPendingRequest(controller);
        (uint256 e, uint8 status) = _checkpoint(_deposits, a);
        if (status == RequestQueue.SETTLED) revert RequestAlreadySettled(e);
        if (status == RequestQueue.PENDING && _deposits.isLive(e)) revert CancelTooEarly(_cancelAllowedAt(e));
        a.pending = 0;
        _payOut(receiver, assets);
        emit DepositRequestCancelled(controller, receiver, msg.sender, assets);
    }

    /* VIEWS */

    /// @inheritdoc IERC7540Operator
    function isOperator(address controller, address operator) external view returns (bool) {
        return _operators[controller][operator];
    }

    /// @inheritdoc IERC4626Vault
    function asset() external view returns (address) {
        return address(_asset());
    }

    /// @inheritdoc IERC7540Deposit
    /// @dev An expired request counts as pending until it is cancelled.
    function pendingDepositRequest(uint256, address controller) external view returns (uint256) {
        return _pending(_deposits, _depositAccounts[controller]);
    }

    /// @inheritdoc IERC7540Deposit
    function claimableDepositRequest(uint256, address controller) external view returns (uint256 assets) {
        (assets,) = _claimable(_deposits, _depositAccounts[controller]);
    }

    /// @inheritdoc IERC7540Redeem
    function pendingRedeemRequest(uint256, address controller) external view returns (uint256) {
        return _pending(_redemptions, _redeemAccounts[controller]);
    }

    /// @inheritdoc IERC7540Redeem
    function claimableRedeemRequest(uint256, address controller) external view returns (uint256 shares) {
        (shares,) = _claimable(_redemptions, _redeemAccounts[controller]);
    }

    /// @inheritdoc IERC7575Share
    function share() external view returns (address) {
        return address(this);
    }

    /// @notice Claimable deposit assets of `controller` (what `deposit` accepts); never reverts.
    function maxDeposit(address controller) public view returns (uint256 assets) {
        (assets,) = _claimable(_deposits, _depositAccounts[controller]);
    }

    /// @notice Claimable deposit shares of `controller` (what `mint` accepts); never reverts.
    function maxMint(address controller) public view returns (uint256 shares) {
        (, shares) = _claimable(_deposits, _depositAccounts[controller]);
    }

    /// @notice Claimable redemption assets of `controller` (what `withdraw` accepts); never reverts.
    function maxWithdraw(address controller) public view returns (uint256 assets) {
        (, assets) = _claimable(_redemptions, _redeemAccounts[controller]);
    }

    /// @notice Claimable redemption shares of `controller` (what `redeem` accepts); never reverts.
    function maxRedeem(address controller) public view returns (uint256 shares) {
        (shares,) = _claimable(_redemptions, _redeemAccounts[controller]);
    }

    /// @notice Reverts PreviewNotAvailable: deposits are asynchronous (ERC-7540).
    function previewDeposit(uint256) public pure returns (uint256) {
        revert PreviewNotAvailable();
    }

    /// @notice Reverts PreviewNotAvailable: deposits are asynchronous (ERC-7540).
    function previewMint(uint256) public pure returns (uint256) {
        revert PreviewNotAvailable();
    }

    /// @notice Reverts PreviewNotAvailable: redemptions are asynchronous (ERC-7540).
    function previewWithdraw(uint256) public pure returns (uint256) {
        revert PreviewNotAvailable();
    }

    /// @notice Reverts PreviewNotAvailable: redemptions are asynchronous (ERC-7540).
    function previewRedeem(uint256) public pure returns (uint256) {
        revert PreviewNotAvailable();
    }

    /* INTERNAL */

    /// @dev Mint (deposits) or redeem fee in force, basis points.
    function _feeBps(bool isDeposit) internal view returns (uint256) {
        return isDeposit ? _params.mintFeeBps : _params.redeemFeeBps;
    }

    /// @dev Paused: EnforcedPause. Supply at its cap, or past it with this request's shares at the current NAV
    /// (before costs and fees, which only lower them; the recorded valuation on a stale oracle):
    /// SupplyCapExceeded. Without a cap, nothing to value.
    function _checkDepositRequest(uint256 assets) internal view {
        _requireNotPaused();
        uint256 supply = totalSupply();
        uint256 cap = _params.supplyCap;
        if (supply >= cap) revert SupplyCapExceeded(supply, cap);
        if (cap == type(uint256).max) return;
        (uint256 total, uint256 valued) = _valuation();
        uint256 supplyAfter = valued + SharesMath.toSharesDown(assets, total, valued, _assetToWad());
        if (supplyAfter > cap) revert SupplyCapExceeded(supplyAfter, cap);
    }

    /// @dev Adds a request of `amount` by `controller` to the open epoch, after its checkpoint. A pending
    /// request in an epoch that has closed reverts EarlierRequestPending (re-bucketing it would let the
    /// requester move a request past a round it has seen); an expired one must be cancelled first.
    function _join(
        RequestQueue.Book storage b,
        Account storage a,
        address controller,
        uint256 amount,
        uint256 u,
        uint256 feeBps
    ) internal {
        (uint256 e,) = _checkpoint(b, a);
        if (a.pending != 0 && e != b.queue.open) revert EarlierRequestPending(e);
        a.epoch = b.add(amount, u, block.timestamp, feeBps);
        a.pending = (a.pending + amount).toUint128();
    }

    /// @dev Moves a settled pending amount into the claimable pair; returns the resolved epoch and its status.
    function _checkpoint(RequestQueue.Book storage b, Account storage a) internal returns (uint256 e, uint8 status) {
        uint256 pending = a.pending;
        if (pending == 0) return (0, RequestQueue.PENDING);
        e = b.resolve(a.epoch);
        RequestQueue.Epoch storage ep = b.epochs[e];
        status = ep.status;
        if (status == RequestQueue.SETTLED) {
            a.claimOut = (a.claimOut + pending * ep.out / ep.amount).toUint128();
            a.claimIn = (a.claimIn + pending).toUint128();
            a.pending = 0;
            uint256 refund = ep.refund;
            if (refund != 0) a.claimRefund = (a.claimRefund + pending * refund / ep.amount).toUint128();
        }
    }

    /// @dev The claimable (in, out) pair of `a` after a virtual checkpoint.
    function _claimable(RequestQueue.Book storage b, Account storage a)
        internal
        view
        returns (uint256 claimIn, uint256 claimOut)
    {
        (claimIn, claimOut) = (a.claimIn, a.claimOut);
        uint256 pending = a.pending;
        if (pending == 0) return (claimIn, claimOut);
        RequestQueue.Epoch storage ep = b.epochs[b.resolve(a.epoch)];
        if (ep.status == RequestQueue.SETTLED) {
            claimIn += pending;
            claimOut += pending * ep.out / ep.amount;
        }
    }

    function _pending(RequestQueue.Book storage b, Account storage a) internal view returns (uint256) {
        uint256 pending = a.pending;
        if (pending == 0 || b.epochs[b.resolve(a.epoch)].status == RequestQueue.SETTLED) return 0;
        return pending;
    }

    /// @dev Takes `amount` of input (`byInput`) or of output out of the claimable pair, after a checkpoint:
    /// input to output rounds down, output to input rounds up; all of one side takes all of the other.
    function _claim(RequestQueue.Book storage b, Account storage a, uint256 amount, bool byInput)
        internal
        returns (uint256 input, uint256 output)
    {
        if (amount == 0) revert ZeroAmount();
        _checkpoint(b, a);
        (uint256 claimIn, uint256 claimOut) = (a.claimIn, a.claimOut);
        if (byInput) {
            if (amount > claimIn) revert ExceedsClaimable(amount, claimIn);
            (input, output) = (amount, amount == claimIn ? claimOut : Math.mulDiv(amount, claimOut, claimIn));
        } else {
            if (amount > claimOut) revert ExceedsClaimable(amount, claimOut);
            (input, output) =
                (amount == claimOut ? claimIn : Math.mulDiv(amount, claimIn, claimOut, Math.Rounding.Ceil), amount);
        }
        a.claimIn = (claimIn - input).toUint128();
        a.claimOut = (claimOut - output).toUint128();
    }

    /// @dev Finishes a deposit claim of `assets` for `shares`: the shares to `receiver`, with the same part of the
    /// controller's refund (all of it with the last claim; rounded down otherwise), which the Deposit event's
    /// assets leave out.
    function _claimDeposit(address controller, address receiver, uint256 assets, uint256 shares) internal {
        Account storage a = _depositAccounts[controller];
        uint256 refundLeft = a.claimRefund;
        uint256 claimLeft = a.claimIn;
        uint256 refund = claimLeft == 0 ? refundLeft : Math.mulDiv(assets, refundLeft, claimLeft + assets);
        if (refund != 0) {
            a.claimRefund = uint128(refundLeft - refund);
            _payOut(receiver, refund);
            emit DepositRefunded(controller, receiver, refund);
        }
        _transfer(address(this), receiver, shares);
        emit Deposit(controller, receiver, assets - refund, shares);
    }

    /// @dev Pays `assets` held in escrow to `receiver`.
    function _payOut(address receiver, uint256 assets) internal {
        escrowAssets -= assets;
        if (assets != 0) _asset().safeTransfer(receiver, assets);
    }

    /// @dev When the deposit in live epoch `e` may be cancelled if nothing settles it: the end of its batch's
    /// window, or the deadline of an epoch no round has qualified yet.
    function _cancelAllowedAt(uint256 e) internal view returns (uint256) {
        RequestQueue.Queue memory q = _deposits.queue;
        if (e == q.batch) return uint256(q.batchSince) + _window();
        (uint256 u, uint256 heartbeat) = _roundTime();
        return _deposits.deadline(e, u, heartbeat + _window());
    }

    function _checkOperator(address owner) internal view {
        if (owner != msg.sender && !_operators[owner][msg.sender]) revert UnauthorizedOperator(owner, msg.sender);
    }

    function _checkController(address controller) internal view {
        if (controller != msg.sender && !_operators[controller][msg.sender]) {
            revert UnauthorizedOperator(controller, msg.sender);
        }
    }
}
