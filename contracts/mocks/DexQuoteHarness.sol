// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

import {DexQuote, IUniswapV3PoolReads} from "../venues/DexQuote.sol";

/// @title DexQuoteHarness
/// @notice DexQuote as an external view, for the tests that compare its quotes with the pool's swaps.
contract DexQuoteHarness {
    /// @notice DexQuote.swap on `pool`.
    /// @param pool The Uniswap v3 pool.
    /// @param zeroForOne True to sell token0 for token1.
    /// @param amountSpecified Exact input (> 0) or exact output (< 0).
    /// @param sqrtPriceLimitX96 The price the swap stops at (0: none).
    /// @return amount0 Token0 the pool would receive (negative: pay).
    /// @return amount1 Token1 the pool would receive (negative: pay).
    /// @return sqrtPriceX96 The pool's price after the swap.
    function swap(address pool, bool zeroForOne, int256 amountSpecified, uint160 sqrtPriceLimitX96)
        external
        view
        returns (int256 amount0, int256 amount1, uint160 sqrtPriceX96)
    {
        return DexQuote.swap(IUniswapV3PoolReads(pool), zeroForOne, amountSpecified, sqrtPriceLimitX96);
    }
}
