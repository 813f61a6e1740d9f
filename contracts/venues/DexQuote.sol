// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

import {BitMath} from "@uniswap/v4-core/src/libraries/BitMath.sol";
import {LiquidityMath} from "@uniswap/v4-core/src/libraries/LiquidityMath.sol";
import {SwapMath} from "@uniswap/v4-core/src/libraries/SwapMath.sol";
import {TickBitmap} from "@uniswap/v4-core/src/libraries/TickBitmap.sol";
import {TickMath} from "@uniswap/v4-core/src/libraries/TickMath.sol";

/// @notice What DexQuote reads of a Uniswap v3 pool (IUniswapV3PoolState's getters, ABI-identical).
interface IUniswapV3PoolReads {
    function slot0()
        external
        view
        returns (uint160 sqrtPriceX96, int24 tick, uint16, uint16, uint16, uint8, bool);
    function liquidity() external view returns (uint128);
    function fee() external view returns (uint24);
    function tickSpacing() external view returns (int24);
    function tickBitmap(int16 wordPosition) external view returns (uint256);
    function ticks(int24 tick)
        external
        view
        returns (uint128 liquidityGross, int128 liquidityNet, uint256, uint256, int56, uint160, uint32, bool);
}

/// @title DexQuote
/// @notice What a Uniswap v3 pool's `swap` would do now, from a view: the same loop over the pool's own ticks and
/// the same step arithmetic (Uniswap's own math libraries, v4-core's ports of v3's), so a quote equals the swap that
/// follows it in the same block, to the unit. The periphery's QuoterV2 cannot serve a view: it swaps and reverts.
/// @dev Mirrors UniswapV3Pool.swap without the protocol fee (a pool whose factory takes none, as the venue's) and
/// without its state writes. Amounts follow the pool's convention: `amountSpecified` > 0 is an exact input, < 0 an
/// exact output; the returned deltas are the pool's (positive: it receives).
library DexQuote {
    /// @notice The pool's token deltas and its price after a swap of `amountSpecified` now.
    /// @param pool The pool.
    /// @param zeroForOne True to sell token0 for token1.
    /// @param amountSpecified Exact input (> 0) or exact output (< 0), in the token sold or bought.
    /// @param sqrtPriceLimitX96 The price the swap stops at (0: the pool's own limit for the direction).
    /// @return amount0 Token0 the pool receives (negative: pays).
    /// @return amount1 Token1 the pool receives (negative: pays).
    /// @return sqrtPriceX96 The pool's price after the swap.
    function swap(IUniswapV3PoolReads pool, bool zeroForOne, int256 amountSpecified, uint160 sqrtPriceLimitX96)
        internal
        view
        returns (int256 amount0, int256 amount1, uint160 sqrtPriceX96)
    {
        if (sqrtPriceLimitX96 == 0) {
            sqrtPriceLimitX96 = zeroForOne ? TickMath.MIN_SQRT_PRICE + 1 : TickMath.MAX_SQRT_PRICE - 1;
        }
        State memory s;
        (s.sqrtPriceX96, s.tick,,,,,) = pool.slot0();
        s.liquidity = pool.liquidity();
        s.remaining = amountSpecified;
        Swap memory c = Swap(pool, zeroForOne, amountSpecified > 0, sqrtPriceLimitX96, pool.fee(), pool.tickSpacing());
        while (s.remaining != 0 && s.sqrtPriceX96 != sqrtPriceLimitX96) {
            _step(c, s);
        }
        (amount0, amount1) = zeroForOne == c.exactInput
            ? (amountSpecified - s.remaining, s.calculated)
            : (s.calculated, amountSpecified - s.remaining);
        sqrtPriceX96 = s.sqrtPriceX96;
    }

    /// @dev What a swap is: its pool and direction, exact input or output, the price it stops at, the pool's fee and
    /// tick spacing.
    struct Swap {
        IUniswapV3PoolReads pool;
        bool zeroForOne;
        bool exactInput;
        uint160 limit;
        uint24 fee;
        int24 spacing;
    }

    /// @dev The swap's running state, as UniswapV3Pool.swap's SwapState.
    struct State {
        int256 remaining;
        int256 calculated;
        uint160 sqrtPriceX96;
        int24 tick;
        uint128 liquidity;
    }

    /// @dev One step of the loop: to the next initialized tick in the direction, or as far as the remainder goes.
    function _step(Swap memory c, State memory s) private view {
        uint160 start = s.sqrtPriceX96;
        (int24 next, bool initialized) = _nextInitializedTick(c.pool, s.tick, c.spacing, c.zeroForOne);
        if (next < TickMath.MIN_TICK) next = TickMath.MIN_TICK;
        else if (next > TickMath.MAX_TICK) next = TickMath.MAX_TICK;
        uint160 nextPrice = TickMath.getSqrtPriceAtTick(next);
        uint160 target = SwapMath.getSqrtPriceTarget(c.zeroForOne, nextPrice, c.limit);
        uint256 amountIn;
        uint256 amountOut;
        uint256 feeAmount;
        // v4's step takes an exact input as a negative remainder, v3's pool as a positive one.
        (s.sqrtPriceX96, amountIn, amountOut, feeAmount) =
            SwapMath.computeSwapStep(s.sqrtPriceX96, target, s.liquidity, -s.remaining, c.fee);
        if (c.exactInput) {
            s.remaining -= int256(amountIn + feeAmount);
            s.calculated -= int256(amountOut);
        } else {
            s.remaining += int256(amountOut);
            s.calculated += int256(amountIn + feeAmount);
        }
        if (s.sqrtPriceX96 == nextPrice) {
            if (initialized) {
                (, int128 liquidityNet,,,,,,) = c.pool.ticks(next);
                s.liquidity = LiquidityMath.addDelta(s.liquidity, c.zeroForOne ? -liquidityNet : liquidityNet);
            }
            s.tick = c.zeroForOne ? next - 1 : next;
        } else if (s.sqrtPriceX96 != start) {
            s.tick = TickMath.getTickAtSqrtPrice(s.sqrtPriceX96);
        }
    }

    /// @dev TickBitmap.nextInitializedTickWithinOneWord over the pool's `tickBitmap` getter instead of a storage
    /// mapping.
    function _nextInitializedTick(IUniswapV3PoolReads pool, int24 tick, int24 spacing, bool lte)
        private
        view
        returns (int24 next, bool initialized)
    {
        unchecked {
            int24 compressed = TickBitmap.compress(tick, spacing);
            if (lte) {
                (int16 wordPos, uint8 bitPos) = TickBitmap.position(compressed);
                uint256 masked = pool.tickBitmap(wordPos) & (type(uint256).max >> (uint256(type(uint8).max) - bitPos));
                initialized = masked != 0;
                next = initialized
                    ? (compressed - int24(uint24(bitPos - BitMath.mostSignificantBit(masked)))) * spacing
                    : (compressed - int24(uint24(bitPos))) * spacing;
            } else {
                (int16 wordPos, uint8 bitPos) = TickBitmap.position(++compressed);
                uint256 masked = pool.tickBitmap(wordPos) & ~((1 << bitPos) - 1);
                initialized = masked != 0;
                next = initialized
                    ? (compressed + int24(uint24(BitMath.leastSignificantBit(masked) - bitPos))) * spacing
                    : (compressed + int24(uint24(type(uint8).max - bitPos))) * spacing;
            }
        }
    }
}

/// @title DexQuoter
/// @notice DexQuote as an external view, deployed once: the money-market venue quotes its swaps through it (the
/// library inlined would take the venue past the contract-size limit).
contract DexQuoter {
    /// @notice DexQuote.swap on `pool`.
    /// @param pool The Uniswap v3 pool.
    /// @param zeroForOne True to sell token0 for token1.
    /// @param amountSpecified Exact input (> 0) or exact output (< 0).
    /// @param sqrtPriceLimitX96 The price the swap stops at (0: none).
    /// @return amount0 Token0 the pool would receive (negative: pay).
    /// @return amount1 Token1 the pool would receive (negative: pay).
    /// @return sqrtPriceX96 The pool's price after the swap.
    function swap(IUniswapV3PoolReads pool, bool zeroForOne, int256 amountSpecified, uint160 sqrtPriceLimitX96)
        external
        view
        returns (int256 amount0, int256 amount1, uint160 sqrtPriceX96)
    {
        return DexQuote.swap(pool, zeroForOne, amountSpecified, sqrtPriceLimitX96);
    }
}
