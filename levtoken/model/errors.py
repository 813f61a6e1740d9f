"""Every error the contracts can revert with, as Python exceptions named like the Solidity errors.

`Revert` is the base: catching it is catching a reverted transaction or call. Each subclass carries the
error's arguments in `args`, in the Solidity order. Grouped by where the contracts declare them.
"""

from __future__ import annotations


class Revert(Exception):
    """A transaction or call reverted; the subclass name is the Solidity error's name."""

    @property
    def name(self) -> str:
        """The Solidity error's name."""
        return type(self).__name__


# --- Solidity 0.8 and OpenZeppelin ---------------------------------------------------------------


class Panic(Revert):
    """Solidity panic: 0x11 arithmetic overflow or underflow, 0x12 division by zero."""


class MathOverflowedMulDiv(Revert):
    """Math.mulDiv: the result does not fit in 256 bits."""


class SafeCastOverflowedIntDowncast(Revert):
    """SafeCast: a signed value does not fit the narrower type."""


class SafeCastOverflowedUintDowncast(Revert):
    """SafeCast: an unsigned value does not fit the narrower type."""


class SafeCastOverflowedIntToUint(Revert):
    """SafeCast: a negative value cast to unsigned."""


class SafeCastOverflowedUintToInt(Revert):
    """SafeCast: an unsigned value above int256's maximum."""


class ERC20InsufficientBalance(Revert):
    """ERC-20 transfer or burn above the balance."""


class ERC20InsufficientAllowance(Revert):
    """ERC-20 transferFrom above the allowance."""


class ERC20InvalidReceiver(Revert):
    """ERC-20 transfer or mint to the zero address."""


class ERC20InvalidSender(Revert):
    """ERC-20 transfer or burn from the zero address."""


class InsufficientBalance(Revert):
    """Solady's ERC20 (the token's shares): transfer or burn above the balance."""


class InsufficientAllowance(Revert):
    """Solady's ERC20 (the token's shares): transferFrom above the allowance."""


class OnlyFactory(Revert):
    """LeveragedToken.initialize called by another account than the clone's factory."""


class AlreadyInitialized(Revert):
    """LeveragedToken.initialize on a token already initialized (or on the locked implementation)."""


class AccessControlUnauthorizedAccount(Revert):
    """AccessControl: the caller lacks the role."""


class OwnableUnauthorizedAccount(Revert):
    """Ownable: the caller is not the owner."""


class EnforcedPause(Revert):
    """Pausable: the contract is paused."""


class ExpectedPause(Revert):
    """Pausable: the contract is not paused."""


# --- interfaces/Errors.sol: raised by more than one contract or library --------------------------


class ZeroAmount(Revert):
    """Zero amount of assets, shares or size where one is needed."""


class SlippageExceeded(Revert):
    """Fewer shares or assets (or a worse price) than the caller's minimum."""


class UnknownMarket(Revert):
    """The market id is not listed."""


class LeverageOutOfRange(Revert):
    """Target leverage is zero, above the hard cap, or (for the factory) not a multiple of 0.1x."""


class InvalidPrice(Revert):
    """The feed answered zero or a negative price."""


class StalePrice(Revert):
    """The feed's latest answer is older than the heartbeat allows."""


class IncompleteRound(Revert):
    """The feed's latest round is not complete (no timestamp, or answered in an earlier round)."""


# --- interfaces/ITokenVenue.sol ------------------------------------------------------------------


class InvalidConfig(Revert):
    """A market parameter is outside its hard bounds; the argument is the MarketConfig field's name."""


class NotRegistered(Revert):
    """Only registered accounts trade, modify positions and move liquidity in one step."""


class NotRegistrar(Revert):
    """Only the owner or the registrar registers accounts."""


# --- interfaces/IPerpVenue.sol -------------------------------------------------------------------


class ConfigStepTooLarge(Revert):
    """A configuration or parameter change raises a field by more than its step: (name, current, proposed,
    maxStep)."""


def check_step(name: str, current: int, proposed: int, max_step: int) -> None:
    """checkStep (contracts/interfaces/Errors.sol): ConfigStepTooLarge unless `proposed` is at most `current` +
    `max_step` (lowering is never limited)."""
    if proposed > current + max_step:
        raise ConfigStepTooLarge(name, current, proposed, max_step)


class InsufficientMargin(Revert):
    """The account would fall below initial margin (or below zero value)."""


class InsufficientFreeMargin(Revert):
    """The margin balance cannot cover the withdrawal (unrealised profit cannot be withdrawn)."""


class InsufficientPoolLiquidity(Revert):
    """The LP pool cannot pay this profit or withdrawal."""


class OpenInterestCapExceeded(Revert):
    """The trade would take open interest on one side above the market's cap."""


class NotLiquidatable(Revert):
    """The account is above maintenance margin."""


class InsufficientShares(Revert):
    """The LP holds fewer shares than asked."""


class NotOrders(Revert):
    """Only the venue's DelayedOrders executes for other accounts."""


class PoolReserveBreached(Revert):
    """The withdrawal would leave the pool less cash than the traders' unrealised profit."""


# --- interfaces/ILeveragedToken.sol --------------------------------------------------------------


class SupplyCapExceeded(Revert):
    """A request or settlement would take total supply above the cap."""


class RebalanceNotDue(Revert):
    """No rebalance is due now."""


class RipcordNotDue(Revert):
    """|leverage| has not reached the ripcord limit."""


class InvalidParameter(Revert):
    """A token parameter is outside its bounds; the argument is the Params field's name."""


class TradeCapBelowFloor(Revert):
    """A parameter change lowers maxTradeNotional below a tenth of the token's equity: (proposed, floor)."""


class PreviewNotAvailable(Revert):
    """previewDeposit, previewMint, previewWithdraw, previewRedeem: the flows are asynchronous."""


class UnauthorizedOperator(Revert):
    """The caller is neither the controller (or owner) nor its operator: (controller, caller)."""


class ExceedsClaimable(Revert):
    """A claim above what settlements left claimable: (amount, claimable)."""


class CancelTooEarly(Revert):
    """The deposit's batch has not expired yet: (allowedAt)."""


class RequestAlreadySettled(Revert):
    """The deposit to cancel was settled: (epoch)."""


class NoPendingRequest(Revert):
    """The controller has no pending deposit: (controller)."""


class EarlierRequestPending(Revert):
    """The controller's earlier request waits in a closed epoch: (epoch)."""


class NoNewerPrice(Revert):
    """Requests wait, but no round after them has been published yet: (lastRequest, priceTime)."""


class NothingToSettle(Revert):
    """No request waits."""


class SettlementRejected(Revert):
    """Even the redemptions alone cannot be settled now (no valid price, or a trade the venue rejects)."""


class FallbackNotOpen(Revert):
    """A settlement by someone other than a keeper before the redemption batch's window passed: (opensAt)."""


class NotInRedemptionBatch(Revert):
    """Past the window, a settlement by someone without a request in the redemption batch: (caller)."""


class InsufficientGas(Revert):
    """A venue call a decision depends on ran out of gas (never raised by the model, which has no gas)."""


# --- PriceFeed.sol -------------------------------------------------------------------------------


class NonPositiveAnswer(Revert, ValueError):
    """PriceFeed.submit: the answer is zero, negative or above int192 (also a ValueError: a bad input)."""


# --- interfaces/IDelayedOrders.sol ---------------------------------------------------------------
# (NoNewerPrice and CancelTooEarly are declared by the token's interface too, with the same arguments' meaning.)


class NotKeeper(Revert):
    """The caller is not one of the orders contract's keepers."""


class NotRequester(Revert):
    """Only the requester may cancel its order."""


class OrderNotPending(Revert):
    """The order is executed, cancelled or unknown."""


class OrderExpired(Revert):
    """The order's window passed: only its requester's cancel remains."""


class InvalidTerms(Revert):
    """An owner's term outside its bounds (executionFee or window)."""
