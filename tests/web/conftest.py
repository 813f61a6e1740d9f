"""The product page's fixtures: a deployment with history on the module's anvil, the keeper and `levtoken serve`
running against it, and a headless Chromium (Debian's, driven by its chromedriver) whose page sees an injected
EIP-1193 wallet that forwards every request to anvil for one of its unlocked test accounts."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from levtoken.node import free_port
from tests.tooling.conftest import deployed, node  # noqa: F401  (the module's anvil and `levtoken deploy`)
from tests.utils.cli import ROOT, invoke, port_open, running, wait_for

SCREENSHOTS = ROOT / "out" / "web"
WALLET_ACCOUNT = 3  # anvil's test account the injected wallet signs for
# An EIP-1193 provider as a wallet injects it, before the page's scripts run: the account is the wallet's, every
# other request (calls, estimates, transactions, receipts) goes to the node as JSON-RPC, errors keep their data.
WALLET_SHIM = """
window.ethereum = {
  isLevtokenTestWallet: true,
  nextId: 0,
  async request({ method, params }) {
    if (method === "eth_requestAccounts" || method === "eth_accounts") return ["%(account)s"];
    const response = await fetch("%(rpc)s", { method: "POST", headers: { "content-type": "application/json" },
      body: JSON.stringify({ jsonrpc: "2.0", id: ++this.nextId, method, params: params || [] }) });
    const answer = await response.json();
    if (answer.error) throw Object.assign(new Error(answer.error.message), { code: answer.error.code, data: answer.error.data });
    return answer.result;
  },
  on() {}, removeListener() {},
};
"""




@pytest.fixture(scope="module")
def served(node, deployed):  # noqa: F811
    """The page's URL: BTC3L and BTC3S minted (a settlement each), then the keeper and `levtoken serve` running
    against the module's node until the module ends."""
    for symbol in ("BTC3L", "BTC3S"):
        out = invoke(node, deployed, f"levtoken mint {symbol} 1000 --settle")
        assert out.returncode == 0, out.stderr
    port = free_port()
    env = node.env(deployed)
    keeper_log, serve_log = node.tmp / "keeper.log", node.tmp / "serve.log"
    with running("levtoken keeper", env, keeper_log), running(f"levtoken serve --port {port}", env, serve_log):
        wait_for(lambda: "serving BTC3L, BTC3S, BTC1S" in keeper_log.read_text(), 90, "the keeper did not start")
        wait_for(lambda: port_open(port), 60, f"levtoken serve did not listen: {serve_log.read_text()}")
        yield f"http://127.0.0.1:{port}"


@pytest.fixture(scope="module")
def wallet(node) -> str:  # noqa: F811
    """The injected wallet's address."""
    return node.w3.eth.accounts[WALLET_ACCOUNT]


@pytest.fixture(scope="module")
def browser(node, wallet):  # noqa: F811
    """Headless Chromium with the injected wallet on every page."""
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    chromium, driver_path = shutil.which("chromium"), shutil.which("chromedriver")
    assert chromium and driver_path, "Debian's chromium and chromium-driver are needed: toolchain/setup.sh --test"
    options = webdriver.ChromeOptions()
    options.binary_location = chromium
    for argument in ("--headless=new", "--no-sandbox", "--disable-dev-shm-usage", "--window-size=1280,1800"):
        options.add_argument(argument)
    driver = webdriver.Chrome(options=options, service=Service(driver_path))
    driver.execute_cdp_cmd("Page.addScriptToEvaluateOnNewDocument",
                           {"source": WALLET_SHIM % {"account": wallet, "rpc": node.url}})
    try:
        yield driver
    finally:
        driver.quit()


@pytest.fixture(scope="module")
def screenshot(browser):
    """screenshot(name): writes the browser's page to out/web/<name>.png and returns the path."""
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)

    def take(name: str) -> Path:
        path = SCREENSHOTS / f"{name}.png"
        browser.save_screenshot(str(path))
        return path

    return take

