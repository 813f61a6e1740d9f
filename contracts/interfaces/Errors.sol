// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

// Errors several contracts raise, and the price feed checks' (OracleLib has no interface of its own),
// declared once at file level: each contract's ABI carries the ones it can raise, every ABI the same
// declaration (one selector, one set of argument names). An error only one contract raises is declared
// in that contract's interface.

/// @dev Zero amount of assets, shares or size where one is needed.
error ZeroAmount();
/// @dev Fewer shares or assets (or a worse price) than the caller's minimum.
error SlippageExceeded(uint256 amount, uint256 minimum);
/// @dev The market id is not listed in the venue.
error UnknownMarket(uint256 marketId);
/// @dev Target leverage is zero, above the hard cap, or (for the factory) not a multiple of 0.1x.
error LeverageOutOfRange(int256 targetLeverage);
/// @dev A change of a market's configuration or a token's parameters raises field `name` from `current` to
/// `proposed`, more than `maxStep` in one change (DESIGN.md 11: a holder sees each step coming, and many steps
/// take many delays).
error ConfigStepTooLarge(string name, uint256 current, uint256 proposed, uint256 maxStep);

/// @dev ConfigStepTooLarge unless `proposed` is at most `current` + `maxStep` (lowering is never limited).
function checkStep(string memory name, uint256 current, uint256 proposed, uint256 maxStep) pure {
    if (proposed > current + maxStep) revert ConfigStepTooLarge(name, current, proposed, maxStep);
}

// OracleLib (the price feed checks every consumer makes)

/// @dev The price feed answered zero or a negative price.
error InvalidPrice(int256 answer);
/// @dev The price feed's latest answer is older than the heartbeat allows.
error StalePrice(uint256 updatedAt, uint256 heartbeat);
/// @dev The price feed's latest round is not complete (no timestamp, or answered in an earlier round).
error IncompleteRound(uint80 roundId);
