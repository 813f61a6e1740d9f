"""The product page's web app (Starlette): the page itself, the two browser libraries from the project's own
node_modules, the contracts' compiled ABIs, and JSON read from the chain at the latest block.

Routes:
- `/`, `/token/{symbol}`: the page (one HTML file; app.js renders the list or a token);
- `/static/...`: the page's code and style; `/vendor/{name}.mjs`: lightweight-charts and ethers;
- `/api/deployment`: chain, addresses and tokens; `/api/abi/{contract}`: a compiled ABI;
- `/api/head`: the latest block (the page polls it and refreshes when it moves);
- `/api/tokens`, `/api/token/{symbol}`, `/api/holder/{symbol}/{address}`: the list, a token, a wallet;
- `/api/decay?leverage=3&volatility=60&days=365`: the decay calculator (volatility in % a year);
- `POST /api/revert`: revert data decoded to the contract error's name and arguments in the holder's units.
"""

from __future__ import annotations

from pathlib import Path

from eth_utils import is_address, to_checksum_address
from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.middleware import Middleware
from starlette.middleware.base import BaseHTTPMiddleware
from starlette.requests import Request
from starlette.responses import FileResponse, JSONResponse
from starlette.routing import Mount, Route
from starlette.staticfiles import StaticFiles

from levtoken.decay import expected_decay, shipped_window
from levtoken.deploy_config import DeploymentError
from levtoken.deployment import Deployment
from levtoken.keeper.backoff import is_connection_error
from levtoken.keeper.reverts import decode_revert_data, format_error
from levtoken.node import LOCAL_CHAIN_IDS
from levtoken.rpc import RPC
from levtoken.web.reads import ChainReader, abi_of

STATIC = Path(__file__).parent / "static"
NODE_MODULES = Path(__file__).resolve().parents[2] / "node_modules"
# The browser libraries the page imports, as ES modules from the project's node_modules (nothing loads from
# outside the machine).
VENDOR = {
    "lightweight-charts": "lightweight-charts/dist/lightweight-charts.standalone.production.mjs",
    "ethers": "ethers/dist/ethers.min.js",
}
ABIS = ("LeveragedToken", "TestStablecoin", "PerpVenue")
# What the decay calculator accepts: (name, unit, lowest, highest).
DECAY_INPUTS = (("leverage", "x", -10.0, 10.0), ("volatility", "% a year", 0.0, 500.0), ("days", "days", 1, 5_000))


def decay_inputs(query) -> tuple[float, float, int]:
    """Leverage, volatility (a fraction) and days from the calculator's query; ValueError with one line in the
    holder's units when one is missing, not a number or out of range."""
    values = []
    for name, unit, low, high in DECAY_INPUTS:
        text = query.get(name, "")
        try:
            value = type(low)(text)
        except ValueError:
            raise ValueError(f"{name} {text!r} is not a {'whole ' if isinstance(low, int) else ''}number of {unit}") from None
        if not (low <= value <= high) or (name == "leverage" and value == 0):
            raise ValueError(f"{name} must be between {low:g} and {high:g} {unit}{', not 0' if name == 'leverage' else ''} "
                             f"(got {text})")
        values.append(value)
    leverage, volatility, days = values
    return leverage, volatility / 100, days


def create_app(deployment: Deployment, w3, rpc: RPC) -> Starlette:
    """The web app over `deployment`, reading the chain through `w3` and, batched, `rpc` (the same node)."""
    reader = ChainReader(deployment, w3, rpc)
    rpc_url = rpc.url  # the node's, as a wallet reaches it from this machine

    def page(request: Request) -> FileResponse:
        return FileResponse(STATIC / "index.html")

    def vendor(request: Request) -> FileResponse | JSONResponse:
        name = request.path_params["name"]
        if name not in VENDOR or not (NODE_MODULES / VENDOR[name]).is_file():
            return JSONResponse({"error": f"no browser library {name!r} (run `make setup`)"}, 404)
        return FileResponse(NODE_MODULES / VENDOR[name], media_type="text/javascript")

    def abi(request: Request) -> JSONResponse:
        name = request.path_params["name"]
        if name not in ABIS:
            return JSONResponse({"error": f"no ABI {name!r}; known: {', '.join(ABIS)}"}, 404)
        return JSONResponse(abi_of(name))

    def info(request: Request) -> JSONResponse:
        return JSONResponse({
            "chain_id": deployment.chain_id, "collateral": deployment.collateral, "venue": deployment.venue,
            "collateral_is_test": deployment.collateral_is_test, "rpc_url": rpc_url,
            # A local chain's test account 1 (anvil's well-known keys: never for anything of value), for a wallet.
            "test_key": test_key(1) if deployment.chain_id in LOCAL_CHAIN_IDS else None,
            "tokens": {s: {"address": t.address, "market": t.market, "name": t.name} for s, t in deployment.tokens.items()},
        })

    async def head(request: Request) -> JSONResponse:
        return JSONResponse(await run_in_threadpool(reader.head))

    async def tokens(request: Request) -> JSONResponse:
        def read():
            top = reader.head()
            return {"head": top, "markets": [reader.market_row(m, top["block"]) for m in deployment.feeds],
                    "tokens": [reader.token_row(s, top["block"]) for s in deployment.tokens]}

        return JSONResponse(await run_in_threadpool(read))

    async def token(request: Request) -> JSONResponse:
        symbol = request.path_params["symbol"]
        if symbol not in deployment.tokens:
            return JSONResponse({"error": f"unknown token {symbol!r}; deployed: {', '.join(deployment.tokens)}"}, 404)

        def read():
            top = reader.head()
            return {"head": top, "symbol": symbol, **reader.token_page(symbol, top["block"])}

        return JSONResponse(await run_in_threadpool(read))

    async def holder(request: Request) -> JSONResponse:
        symbol, address = request.path_params["symbol"], request.path_params["address"]
        if symbol not in deployment.tokens or not is_address(address):
            return JSONResponse({"error": f"unknown token {symbol!r} or not an address: {address!r}"}, 404)

        def read():
            return reader.holder(symbol, to_checksum_address(address), reader.head()["block"])

        return JSONResponse(await run_in_threadpool(read))

    def decay(request: Request) -> JSONResponse:
        try:
            leverage, volatility, days = decay_inputs(request.query_params)
        except ValueError as err:
            return JSONResponse({"error": str(err)}, 400)
        window = shipped_window(leverage, days)
        pct = lambda x: f"{x * 100:+.2f}%"  # noqa: E731
        return JSONResponse({
            "expected": pct(expected_decay(leverage, volatility, days)),
            "window": f"{window.start} to {window.end}", "volatility": f"{window.volatility * 100:.1f}% a year",
            "underlying": pct(window.underlying), "static": pct(window.static), "compounded": pct(window.compounded),
            "product": pct(window.product), "decay": pct(window.decay), "expected_there": pct(window.expected),
        })

    async def revert(request: Request) -> JSONResponse:
        data = str((await request.json()).get("data") or "")
        decoded = await run_in_threadpool(decode_revert_data, data)
        return JSONResponse({"error": format_error(*decoded) if decoded else None})

    routes = [
        Route("/", page), Route("/token/{symbol}", page),
        Route("/vendor/{name}.mjs", vendor), Route("/api/abi/{name}", abi), Route("/api/deployment", info),
        Route("/api/head", head), Route("/api/tokens", tokens), Route("/api/token/{symbol}", token),
        Route("/api/holder/{symbol}/{address}", holder), Route("/api/decay", decay),
        Route("/api/revert", revert, methods=["POST"]),
        Mount("/static", StaticFiles(directory=STATIC), name="static"),
    ]
    async def node_down(request: Request, call_next):
        # A node that stopped answering is said in plain words (the page shows it in its header and resumes once the
        # node is back), not as an unreadable 500.
        try:
            return await call_next(request)
        except Exception as err:
            if not is_connection_error(err):
                raise
            return JSONResponse({"error": f"the node at {rpc_url} is not answering; start it "
                                          "(`levtoken node`) and this page resumes"}, 503)

    return Starlette(routes=routes, exception_handlers={DeploymentError: _deployment_error},
                     middleware=[Middleware(BaseHTTPMiddleware, dispatch=node_down)])


async def _deployment_error(request: Request, err: Exception) -> JSONResponse:
    return JSONResponse({"error": str(err)}, 404)


def test_key(index: int) -> str:
    """The private key of a local chain's test account `index` (0x-hex), as anvil and ape derive it."""
    from ape import accounts

    return str(accounts.test_accounts[index].private_key)
