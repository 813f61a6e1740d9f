"""The lending market and the DEX a money-market venue stands on, as their registries publish them, deployed on a
local chain: Morpho Blue (its npm package's sources, built with its own compiler and settings by
toolchain/build-protocols.js) and Uniswap v3 (the compiled artifacts its npm packages ship). Nothing of either
protocol is written here; this module loads their artifacts, deploys them, opens a pool and a market, and brings a
pool back to the oracle's price as the replay's arbitrageur.

Uniswap prices a pool as token1 per token0 in raw units (sqrtPriceX96 = sqrt(raw price) * 2^96, token0 the lower
address); Morpho prices collateral in loan-token units scaled by 1e36 (contracts/venues/FeedOracle.sol) and names a
market by the keccak of its parameters.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass
from decimal import Decimal, localcontext
from pathlib import Path
from typing import Any, ClassVar

from eth_abi import encode
from eth_utils import keccak

ROOT = Path(__file__).resolve().parents[1]
MORPHO_BUILD = ROOT / ".build" / "protocols" / "morpho.json"
UNISWAP = {  # contract name: its artifact in the npm packages
    "UniswapV3Factory": "@uniswap/v3-core/artifacts/contracts/UniswapV3Factory.sol/UniswapV3Factory.json",
    "UniswapV3Pool": "@uniswap/v3-core/artifacts/contracts/UniswapV3Pool.sol/UniswapV3Pool.json",
    "SwapRouter": "@uniswap/v3-periphery/artifacts/contracts/SwapRouter.sol/SwapRouter.json",
    "NonfungiblePositionManager":
        "@uniswap/v3-periphery/artifacts/contracts/NonfungiblePositionManager.sol/NonfungiblePositionManager.json",
    "QuoterV2": "@uniswap/v3-periphery/artifacts/contracts/lens/QuoterV2.sol/QuoterV2.json",
}
POOL_FEE = 500  # 0.05%: the tier of the most liquid asset/stablecoin pools
TICK_SPACING = {100: 1, 500: 10, 3000: 60, 10000: 200}
# The position manager's token descriptor serves only tokenURI(); positions are minted and managed without one.
NO_DESCRIPTOR = "0x000000000000000000000000000000000000dEaD"


class ProtocolError(Exception):
    """A protocol's artifact is missing (the toolchain has not built or installed it); the message says what to run."""


def artifact(name: str):
    """An ape ContractContainer for a protocol contract from its registry artifact: Morpho and IrmMock from the
    Morpho Blue build, the Uniswap v3 contracts from their npm packages."""
    from ape.contracts import ContractContainer
    from ethpm_types import ContractType

    if name in UNISWAP:
        path = ROOT / "node_modules" / UNISWAP[name]
        if not path.is_file():
            raise ProtocolError(f"{path} not found: run `make setup` (npm installs Uniswap v3)")
        raw = json.loads(path.read_text())
        abi, bytecode, runtime = raw["abi"], raw["bytecode"], raw["deployedBytecode"]
    else:
        if not MORPHO_BUILD.is_file():
            raise ProtocolError(f"{MORPHO_BUILD} not found: run `./toolchain/build.sh` (it builds Morpho Blue)")
        built = json.loads(MORPHO_BUILD.read_text())["contracts"]
        if name not in built:
            raise ProtocolError(f"no {name} in {MORPHO_BUILD}; built: {', '.join(built)}")
        abi, bytecode, runtime = built[name]["abi"], built[name]["bytecode"], built[name]["deployedBytecode"]
    return ContractContainer(ContractType.model_validate({
        "contractName": name, "abi": abi,
        "deploymentBytecode": {"bytecode": bytecode}, "runtimeBytecode": {"bytecode": runtime},
    }))


@dataclass
class Protocols:
    """The deployed protocols: Morpho Blue with its interest-rate model, and Uniswap v3's factory, router, position
    manager and quoter."""

    morpho: Any
    irm: Any
    factory: Any
    router: Any
    positions: Any
    quoter: Any

    NAMES: ClassVar[dict[str, str]] = {"morpho": "Morpho", "irm": "IrmMock", "factory": "UniswapV3Factory",
                                       "router": "SwapRouter", "positions": "NonfungiblePositionManager",
                                       "quoter": "QuoterV2"}

    def addresses(self) -> dict[str, str]:
        """Each contract's address, by field name (what a deployment record keeps)."""
        return {name: getattr(self, name).address for name in self.NAMES}

    @classmethod
    def at(cls, addresses: dict[str, str]) -> "Protocols":
        """The deployed protocols at `addresses` (as `addresses()` gives them)."""
        return cls(**{name: artifact(kind).at(addresses[name]) for name, kind in cls.NAMES.items()})


def deploy_protocols(deployer, wrapped_native: str) -> Protocols:
    """Deploys Morpho Blue (owned by `deployer`) and its mock interest-rate model, and Uniswap v3 with its router,
    position manager and quoter (`wrapped_native` stands for WETH9, which only native-ETH payments use)."""
    morpho = deployer.deploy(artifact("Morpho"), deployer.address)
    irm = deployer.deploy(artifact("IrmMock"))
    morpho.enableIrm(irm.address, sender=deployer)
    factory = deployer.deploy(artifact("UniswapV3Factory"))
    router = deployer.deploy(artifact("SwapRouter"), factory.address, wrapped_native)
    positions = deployer.deploy(artifact("NonfungiblePositionManager"), factory.address, wrapped_native, NO_DESCRIPTOR)
    quoter = deployer.deploy(artifact("QuoterV2"), factory.address, wrapped_native)
    return Protocols(morpho, irm, factory, router, positions, quoter)


def sqrt_price_x96(price: Decimal, base_decimals: int, quote_decimals: int, base_is_token0: bool) -> int:
    """Uniswap's sqrtPriceX96 for `price` quote units per base unit (e.g. 30,000 USD per BTC), with the tokens'
    decimals, whichever of the two is token0."""
    with localcontext(prec=80):
        raw = price * Decimal(10) ** (quote_decimals - base_decimals)  # quote raw units per base raw unit
        if not base_is_token0:
            raw = 1 / raw
        return int((raw.sqrt() * 2**96).to_integral_value())


def tick_of(price: Decimal, base_decimals: int, quote_decimals: int, base_is_token0: bool) -> int:
    """The tick at `price` (as `sqrt_price_x96` takes it), rounded down."""
    root = Decimal(sqrt_price_x96(price, base_decimals, quote_decimals, base_is_token0)) / 2**96
    return math.floor(math.log(float(root * root)) / math.log(1.0001))


def open_pool(protocols: Protocols, base, quote, price: Decimal, deployer, fee: int = POOL_FEE):
    """Creates and initialises the `base`/`quote` pool at `price` quote per base (e.g. BTC at 30,000 USD) as
    `deployer`; returns the pool."""
    base_is_token0 = int(base.address, 16) < int(quote.address, 16)
    token0, token1 = (base, quote) if base_is_token0 else (quote, base)
    protocols.factory.createPool(token0.address, token1.address, fee, sender=deployer)
    pool = artifact("UniswapV3Pool").at(protocols.factory.getPool(token0.address, token1.address, fee))
    pool.initialize(sqrt_price_x96(price, base.decimals(), quote.decimals(), base_is_token0), sender=deployer)
    return pool


def provide_liquidity(protocols: Protocols, pool, base, quote, low: Decimal, high: Decimal, base_amount: int,
                      quote_amount: int, provider) -> int:
    """Adds `base_amount` and `quote_amount` (raw units, the most it takes of each) between the prices `low` and
    `high` (quote per base) to `pool` as `provider`, who must hold them; returns the position's token id."""
    for token, amount in ((base, base_amount), (quote, quote_amount)):
        token.approve(protocols.positions.address, amount, sender=provider)
    receipt = protocols.positions.mint(
        position_params(pool, base, quote, low, high, base_amount, quote_amount, provider.address), sender=provider)
    return receipt.decode_logs(protocols.positions.IncreaseLiquidity)[0].tokenId


def position_params(pool, base, quote, low: Decimal, high: Decimal, base_amount: int, quote_amount: int,
                    recipient: str) -> tuple:
    """NonfungiblePositionManager.mint's parameters: at most `base_amount` and `quote_amount` (raw units) between
    the prices `low` and `high` (quote per base, widened to the pool's tick spacing), the position to `recipient`."""
    base_is_token0 = pool.token0() == base.address
    decimals = (base.decimals(), quote.decimals(), base_is_token0)
    spacing = TICK_SPACING[pool.fee()]
    ticks = sorted(tick_of(p, *decimals) for p in (low, high))
    lower, upper = ticks[0] // spacing * spacing, -(-ticks[1] // spacing) * spacing
    amounts = (base_amount, quote_amount) if base_is_token0 else (quote_amount, base_amount)
    return (pool.token0(), pool.token1(), pool.fee(), lower, upper, amounts[0], amounts[1], 0, 0, recipient, 2**64)


def market_params(loan: str, collateral: str, oracle: str, irm: str, lltv: int) -> tuple:
    """Morpho's MarketParams tuple (loanToken, collateralToken, oracle, irm, lltv)."""
    return (loan, collateral, oracle, irm, lltv)


def market_id(params: tuple) -> bytes:
    """Morpho's Id of a market: keccak256(abi.encode(MarketParams))."""
    return keccak(encode(["address", "address", "address", "address", "uint256"], list(params)))


def open_market(protocols: Protocols, params: tuple, owner) -> bytes:
    """Enables the market's LLTV (if it is not yet) and creates the market, as Morpho's `owner`; returns its Id."""
    if not protocols.morpho.isLltvEnabled(params[4]):
        protocols.morpho.enableLltv(params[4], sender=owner)
    protocols.morpho.createMarket(params, sender=owner)
    return market_id(params)


def pool_price(pool, base, quote) -> Decimal:
    """The pool's price now, quote per base (e.g. USD per BTC), from its sqrtPriceX96."""
    with localcontext(prec=80):
        raw = Decimal(pool.slot0().sqrtPriceX96) ** 2 / Decimal(2) ** 192  # token1 raw units per token0 raw unit
        if pool.token0() != base.address:
            raw = 1 / raw
        return raw * Decimal(10) ** (base.decimals() - quote.decimals())


def arbitrage(protocols: Protocols, pool, base, quote, price: Decimal, arbitrageur) -> int:
    """Brings the pool back to `price` (quote per base), as an arbitrageur does once the oracle has moved: one swap
    through the router with the target as its price limit, so the pool takes exactly what moves it there (the
    arbitrageur holds both tokens, minted for it on a local chain). Returns the amount it sold (raw units of the
    token it sold; 0 when the pool is already there)."""
    base_is_token0 = pool.token0() == base.address
    limit = sqrt_price_x96(price, base.decimals(), quote.decimals(), base_is_token0)
    sell_base = sells_base(pool.slot0().sqrtPriceX96, limit, base_is_token0)
    if sell_base is None:
        return 0
    token_in, token_out = (base, quote) if sell_base else (quote, base)
    budget = token_in.balanceOf(arbitrageur)
    token_in.approve(protocols.router.address, budget, sender=arbitrageur)
    protocols.router.exactInputSingle(
        exact_input(token_in.address, token_out.address, pool.fee(), arbitrageur.address, budget, limit),
        sender=arbitrageur)
    return budget - token_in.balanceOf(arbitrageur)


def sells_base(current: int, target: int, base_is_token0: bool) -> bool | None:
    """Whether bringing a pool at sqrtPriceX96 `current` to `target` sells the base into it (the base is dear there)
    or buys it; None when the pool is there already, compared as the pool holds it (a swap limited to the price it
    is at is refused: SPL)."""
    if current == target:
        return None
    return (current > target) == base_is_token0  # token1 per token0 above the target: sell token0


def exact_input(token_in: str, token_out: str, fee: int, recipient: str, amount: int, limit: int) -> tuple:
    """SwapRouter.exactInputSingle's parameters: at most `amount` of `token_in`, stopping at sqrtPriceX96 `limit`,
    no minimum out, no deadline to speak of."""
    return (token_in, token_out, fee, recipient, 2**64, amount, 0, limit)
