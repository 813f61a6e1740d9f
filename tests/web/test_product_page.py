"""The product page in a real browser over a real chain: headless Chromium on `levtoken serve`, the keeper acting
on the module's anvil, the numbers compared with the contracts' views, the wallet's requests settled by the keeper.

Tests run in order and build on each other's chain (one module, one node): the list, the token page and its live
update, then a mint, a redemption and a decoded contract error from the wallet."""

from __future__ import annotations

import csv
import json
import math
import socket
import urllib.error
import urllib.request
from decimal import Decimal

import pytest
from eth_abi import encode
from eth_utils import keccak
from selenium.webdriver.common.by import By
from selenium.webdriver.support.ui import WebDriverWait

from tests.utils.cli import ROOT, assert_one_clear_error, deployed_token, invoke, levtoken, operation_id, wait_for
from tests.web.page import PAGE_WAIT, dollars, text_of, times, tokens, wait_text

SYMBOLS = ("BTC3L", "BTC3S", "BTC1S")


def submit_price(node, deployed, ratio: float) -> int:
    """The deployer publishes the feed's price times `ratio`; returns the block."""
    from ape import project

    record = json.loads(deployed.read_text())
    feed = node.contract(record["feeds"]["BTC"], project.PriceFeed.contract_type)
    answer = feed.functions.latestRoundData().call()[1]
    tx = feed.functions.submit(int(answer * ratio)).transact({"from": record["deployer"]})
    return node.w3.eth.wait_for_transaction_receipt(tx)["blockNumber"]


def feed_of(node, deployed):
    """The deployment's BTC PriceFeed (web3)."""
    from ape import project

    return node.contract(json.loads(deployed.read_text())["feeds"]["BTC"], project.PriceFeed.contract_type)


def venue_of(node, deployed):
    """The deployment's PerpVenue (web3)."""
    from ape import project

    return node.contract(json.loads(deployed.read_text())["venue"], project.PerpVenue.contract_type)


def events(token, name: str) -> list:
    """Every `name` event of a web3 token contract, oldest first."""
    return getattr(token.events, name).get_logs(from_block=0)


def test_list__every_token_with_the_contracts_numbers(node, deployed, served, browser, screenshot):
    """A 12% fall puts BTC3L above its band; once the keeper has rebalanced, the list shows each token's NAV,
    leverage, supply and equity as the contracts' views give them."""
    btc3l = deployed_token(node, deployed, "BTC3L")
    submit_price(node, deployed, 0.88)
    wait_for(lambda: events(btc3l, "Rebalanced"), 60, "the keeper did not rebalance BTC3L after a 12% fall")
    browser.get(served)
    head = node.w3.eth.block_number
    WebDriverWait(browser, PAGE_WAIT).until(lambda d: int(d.find_element(By.ID, "head").get_attribute("data-block") or -1) >= head)
    for symbol in SYMBOLS:
        f = deployed_token(node, deployed, symbol).functions
        row = f'tr[data-symbol="{symbol}"]'
        wait_text(browser, f"{row} .nav", dollars(f.navPerToken().call(), 6))
        if f.totalSupply().call():
            assert text_of(browser, f"{row} .leverage") == times(f.leverage().call())
        assert text_of(browser, f"{row} .supply") == tokens(f.totalSupply().call())
        assert text_of(browser, f"{row} .equity") == dollars(f.equity().call())
    assert text_of(browser, 'tr[data-symbol="BTC3L"] .target') == "3.0000x"
    assert text_of(browser, 'tr[data-symbol="BTC3S"] .change').startswith("+")  # a short gains on a fall
    # The underlying up front: the feed's price and its move since its first round (younger than a day of chain time).
    feed = feed_of(node, deployed)
    latest = feed.functions.latestRoundData().call()
    first = feed.functions.getRoundData(1).call()[1]
    btc = '#markets [data-market="BTC"]'
    assert text_of(browser, f'{btc} [data-key="price"]') == dollars(latest[1] // 100)
    assert text_of(browser, f'{btc} [data-key="move"]').startswith(f"{(latest[1] / first - 1) * 100:+.2f}%")
    assert "chain time" in text_of(browser, f"{btc} span")
    assert text_of(browser, "#head").startswith(f"block {head}") and " · chain time " in text_of(browser, "#head")
    # What one token carries: the venue position's size per token, in BTC.
    record = json.loads(deployed.read_text())
    for symbol in ("BTC3L", "BTC3S"):
        size = venue_of(node, deployed).functions.position(1, record["tokens"][symbol]["address"]).call()[1]
        supply = deployed_token(node, deployed, symbol).functions.totalSupply().call()
        assert text_of(browser, f'tr[data-symbol="{symbol}"] .exposure') == \
            f"{Decimal(size * 10**18 // supply) / 10**18:+,.8f} BTC per token"
    # A token nobody holds says so, rather than a change, a leverage and an exposure of nothing.
    empty = 'tr[data-symbol="BTC1S"]'
    assert [text_of(browser, f"{empty} .{c}") for c in ("change", "leverage", "exposure")] == \
        ["no holders yet", "no position", "none (no holders)"]
    screenshot("tokens")


def test_token_page__chain_numbers_history_and_live_update(node, deployed, served, browser, screenshot):
    """BTC3L's page: NAV, leverage and the venue position as the views give them, its settlement and the keeper's
    band rebalance in the history with leverage before and after; a new price updates it without a reload."""
    from ape import project

    token = deployed_token(node, deployed, "BTC3L")
    record = json.loads(deployed.read_text())
    venue = node.contract(record["venue"], project.PerpVenue.contract_type)
    browser.get(f"{served}/token/BTC3L")
    wait_text(browser, '[data-key="nav"]', dollars(token.functions.navPerToken().call(), 6))
    assert text_of(browser, '[data-key="leverage"]') == times(token.functions.leverage().call())
    assert text_of(browser, '[data-key="band"]') == "2.250x to 4.000x"
    size = venue.functions.position(record["tokens"]["BTC3L"]["market_id"], token.address).call()[1]
    assert text_of(browser, '#position [data-key="size"]') == f"{Decimal(size) / 10**18:,.6f} BTC"
    rows = [r.text for r in browser.find_elements(By.CSS_SELECTOR, "#history tbody tr")]
    (rebalance,) = events(token, "Rebalanced")
    assert len(rows) == len(events(token, "Settled")) + 1
    band_row = next(r for r in rows if " REBALANCE BAND " in f" {r} ")
    assert band_row.startswith(str(rebalance["blockNumber"]))
    assert times(rebalance["args"]["leverageBefore"]) in band_row
    assert times(token.functions.leverage().call(block_identifier=rebalance["blockNumber"])) in band_row
    assert "SETTLE REQUESTS" in rows[-1]
    assert browser.find_elements(By.CSS_SELECTOR, "#nav-chart canvas")  # the chart library drew

    first_nav = token.functions.navPerToken().call(block_identifier=events(token, "Settled")[0]["blockNumber"])
    nav = token.functions.navPerToken().call()
    attribution = {row.find_element(By.TAG_NAME, "th").text: row.find_element(By.TAG_NAME, "td").text
                   for row in browser.find_elements(By.CSS_SELECTOR, "#attribution tr")}
    assert attribution["return"] == f"{(nav / first_nav - 1) * 100:+.2f}%"
    assert attribution["= actual % ($ at the end)"].startswith(attribution["return"])
    terms = [value for label, value in attribution.items() if label.endswith("% ($ at the end)") and not label.startswith("=")]
    assert len(terms) == 9  # static, compounding, gap, schedule, streaming fee, funding, trading, liquidation, rounding
    assert abs(sum(float(t.split("%")[0]) for t in terms) - (nav / first_nav - 1) * 100) < 0.05

    browser.execute_script("window.notReloaded = true")
    submit_price(node, deployed, 1.03)
    wait_text(browser, '[data-key="nav"]', dollars(token.functions.navPerToken().call(), 6))
    assert browser.execute_script("return window.notReloaded") is True
    screenshot("token")
    # A wallet's way onto this chain, and what a request goes through.
    assert text_of(browser, '#chain [data-key="chain_id"]') == "31337"
    assert text_of(browser, '#chain [data-key="rpc_url"]') == node.url
    from ape import accounts
    assert text_of(browser, '#chain [data-key="test_key"]') == str(accounts.test_accounts[1].private_key)
    assert "the market's price feed publishes its next round" in text_of(browser, "#after-request").lower()
    assert "different baselines" in text_of(browser, "#calculator-vs-attribution")
    # A short's band and ripcord in its own sign.
    browser.get(f"{served}/token/BTC3S")
    wait_text(browser, '[data-key="band"]', "-2.250x to -4.000x")
    assert text_of(browser, '[data-key="ripcord"]') == "-4.50x"


def test_token_page__nobody_holds_it__says_so_in_plain_words(served, browser):
    """BTC1S before anybody mints it: no charts of nothing, no green "+0.00%", no 0.0000x leverage."""
    browser.get(f"{served}/token/BTC1S")
    wait_text(browser, "#no-holders", "Nobody holds this token yet: it has no position, no leverage and no history. "
                                      "The first settled mint starts them.")
    assert not browser.find_element(By.ID, "charts").is_displayed()
    assert [text_of(browser, f'#summary [data-key="{k}"]') for k in ("change", "leverage", "exposure")] == \
        ["no holders yet", "no position", "none (no holders)"]


@pytest.fixture(scope="module")
def btc1s_page(node, deployed, served, browser, wallet):
    """BTC1S's page with the wallet connected; the wallet holds 5,000 test dollars."""
    from ape import project

    record = json.loads(deployed.read_text())
    collateral = node.contract(record["collateral"], project.TestStablecoin.contract_type)
    node.w3.eth.wait_for_transaction_receipt(collateral.functions.mint(wallet, 5_000 * 10**6).transact({"from": wallet}))
    browser.get(f"{served}/token/BTC1S")
    browser.find_element(By.ID, "connect").click()
    wait_text(browser, "#account", wallet)
    wait_text(browser, '#holding [data-key="collateral"]', "$5,000.00")
    return deployed_token(node, deployed, "BTC1S")


def act(browser, button_or_form: str, amount: str | None = None, field: str | None = None) -> str:
    """Types `amount` into `field` and submits the form (or clicks the button); returns the wallet's message once
    the action ends (done or an error)."""
    browser.execute_script("const m = document.getElementById('wallet-message'); m.textContent = ''; m.className = ''")
    if field:
        box = browser.find_element(By.ID, field)
        box.clear()
        box.send_keys(amount)
    browser.find_element(By.CSS_SELECTOR, button_or_form).click()
    message = browser.find_element(By.ID, "wallet-message")
    WebDriverWait(browser, PAGE_WAIT).until(lambda d: message.text.endswith("done") or "error" in message.get_attribute("class"))
    return message.text


def test_wallet__mint_request_settled_by_the_keeper__page_shows_the_new_balance(node, deployed, btc1s_page, browser,
                                                                               wallet):
    token = btc1s_page
    assert act(browser, "#deposit-form button", "500", "deposit-amount") == "mint: done"
    assert token.functions.pendingDepositRequest(0, wallet).call() == 500 * 10**6
    wait_text(browser, '#holding [data-key="pending_mint"]', "$500.00")
    node.publish_newer_round(deployed)  # the round that prices the request; the keeper settles at it
    wait_for(lambda: token.functions.claimableDepositRequest(0, wallet).call() > 0, 60, "the keeper did not settle")
    wait_text(browser, '#holding [data-key="claimable_mint"]', "$500.00")
    assert act(browser, "#claim") == "claim: done"
    balance = token.functions.balanceOf(wallet).call()
    assert balance > 0
    wait_text(browser, '#holding [data-key="balance"]', f"{tokens(balance)} BTC1S")
    wait_text(browser, '#holding [data-key="value"]', dollars(token.functions.convertToAssets(balance).call()))


def test_wallet__redemption_settled_by_the_keeper__page_shows_the_dollars(node, deployed, btc1s_page, browser, wallet):
    from ape import project

    token = btc1s_page
    collateral = node.contract(json.loads(deployed.read_text())["collateral"], project.TestStablecoin.contract_type)
    before = collateral.functions.balanceOf(wallet).call()
    assert act(browser, "#redeem-form button", "all", "redeem-amount") == "redemption: done"
    assert token.functions.balanceOf(wallet).call() == 0
    node.publish_newer_round(deployed)
    wait_for(lambda: token.functions.claimableRedeemRequest(0, wallet).call() > 0, 60, "the keeper did not settle")
    wait_text(browser, '#holding [data-key="claimable_redeem"]', f"{tokens(token.functions.claimableRedeemRequest(0, wallet).call())} BTC1S")
    assert act(browser, "#claim") == "claim: done"
    after = collateral.functions.balanceOf(wallet).call()
    assert 490 * 10**6 < after - before < 500 * 10**6  # 500 dollars in, less the two fees and the trades' costs
    wait_text(browser, '#holding [data-key="collateral"]', dollars(after))
    wait_text(browser, '#holding [data-key="balance"]', "0.0000 BTC1S")
    settled = [e["blockNumber"] for e in events(token, "Settled")]
    wait_text(browser, "#my-requests tbody tr:nth-child(1) td:nth-child(5)", f"settled in block {settled[-1]}")
    assert "redeem" in text_of(browser, "#my-requests tbody tr:nth-child(1)")
    assert text_of(browser, "#my-requests tbody tr:nth-child(2)").endswith(f"mint $500.00 settled in block {settled[-2]}")


def test_wallet__contract_error__shown_by_name_in_the_holders_units(btc1s_page, browser, wallet):
    message = act(browser, "#cancel")
    assert message == f"the transaction reverted: NoPendingRequest(controller={wallet})"
    assert act(browser, "#deposit-form button", "ten", "deposit-amount") == \
        'amount "ten" is not a positive number of dollars'


def test_decay_calculator__formula_beside_the_shipped_closes(served, browser):
    """2x, 50% a year, 100 days: the formula's decay, and the daily-reset product over the latest 100 daily returns
    of the shipped BTC series; a volatility that is not a number is one line in the holder's units."""
    browser.get(f"{served}/token/BTC3L")
    wait_text(browser, '#decay-result [data-key="window"]', "2024-09-24 to 2025-09-24")
    for field, value in (("decay-leverage", "2"), ("decay-volatility", "50"), ("decay-days", "100")):
        box = browser.find_element(By.ID, field)
        box.clear()
        box.send_keys(value)
    browser.find_element(By.CSS_SELECTOR, "#decay-form button").click()
    wait_text(browser, '#decay-result [data-key="expected"]', f"{(math.exp(-(4 - 2) / 2 * 0.25 * 100 / 365) - 1) * 100:+.2f}%")
    with (ROOT / "data" / "btc_usd_daily.csv").open() as handle:
        closes = [float(row["close"]) for row in csv.DictReader(handle)][-101:]
    product = math.prod(1 + 2 * (b / a - 1) for a, b in zip(closes, closes[1:])) - 1
    assert text_of(browser, '#decay-result [data-key="product"]') == f"{product * 100:+.2f}%"
    box = browser.find_element(By.ID, "decay-volatility")
    box.clear()
    box.send_keys("high")
    browser.find_element(By.CSS_SELECTOR, "#decay-form button").click()
    wait_text(browser, '#decay-result [data-key="error"]', "volatility 'high' is not a number of % a year")


def test_scheduled_changes__shown_on_the_tokens_they_affect_until_cancelled(node, deployed, served, browser,
                                                                            screenshot):
    """A change scheduled for BTC3L shows on its page in plain words with when it lands (the local delay is 0: ready
    now), not on BTC3S's; once cancelled, the page says none is scheduled."""
    proposed = invoke(node, deployed, "levtoken governance propose BTC3L streaming_fee_per_day=0.0002")
    assert proposed.returncode == 0, proposed.stderr
    operation = operation_id(proposed.stdout)
    browser.get(f"{served}/token/BTC3L")
    wait_text(browser, "#governance tbody tr td:nth-child(2)", "BTC3L: streamingFeePerDay 0.0001 -> 0.0002")
    assert text_of(browser, "#governance tbody tr td:nth-child(1)") == "ready now"
    screenshot("governance")
    browser.get(f"{served}/token/BTC3S")
    wait_text(browser, "#governance-none", "None scheduled.")
    assert not browser.find_elements(By.CSS_SELECTOR, "#governance tbody tr")
    cancelled = invoke(node, deployed, f"levtoken governance cancel {operation}")
    assert cancelled.returncode == 0, cancelled.stderr
    browser.get(f"{served}/token/BTC3L")
    wait_text(browser, "#governance-none", "None scheduled.")


def test_api__unknown_token__one_line_and_404(served):
    with pytest.raises(urllib.error.HTTPError) as raised:
        urllib.request.urlopen(f"{served}/api/token/ETH3L")
    assert raised.value.code == 404
    assert json.loads(raised.value.read())["error"] == "unknown token 'ETH3L'; deployed: BTC3L, BTC3S, BTC1S"


def test_api__revert_data_of_a_nested_call__decoded_from_the_artifacts(served):
    """`levtoken serve` runs in a reader's environment (the venv's PATH, no compiler path): revert data of an error
    declared only in contracts/interfaces/Errors.sol, as a nested call raises it, is decoded by name from the
    compiled artifacts, with no compiler to find or download."""
    data = "0x" + keccak(text="ConfigStepTooLarge(string,uint256,uint256,uint256)")[:4].hex() + encode(
        ["string", "uint256", "uint256", "uint256"], ["mintFeeBps", 10, 100, 50]).hex()
    request = urllib.request.Request(f"{served}/api/revert", data=json.dumps({"data": data}).encode(),
                                     headers={"Content-Type": "application/json"}, method="POST")
    with urllib.request.urlopen(request, timeout=30) as answer:
        assert json.loads(answer.read()) == {
            "error": "ConfigStepTooLarge(name=mintFeeBps, current=10, proposed=100, maxStep=50)"}


def test_serve__port_taken__one_clear_line(tmp_path):
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        out = levtoken("serve", "--port", str(port), "--record", str(tmp_path / "none.json"))
    assert_one_clear_error(out, f"something already listens on 127.0.0.1:{port}; choose another --port")


def test_serve__address_not_this_machines__says_why(tmp_path):
    """A host the machine has no address for is refused in the OS's words, not taken for a port in use."""
    out = levtoken("serve", "--host", "192.0.2.1", "--port", "8000", "--record", str(tmp_path / "none.json"))
    assert_one_clear_error(out, "cannot listen on 192.0.2.1:8000 (Cannot assign requested address); choose another "
                                "--host or --port")


def test_serve__missing_record__says_to_deploy(node, tmp_path):
    out = node.run(f"levtoken serve --port 1 --record {tmp_path / 'none.json'}", tmp_path / "unused.json")
    assert_one_clear_error(out, "none.json not found; run `levtoken deploy` first")


def test_node_down__the_header_says_so_in_plain_words(node, served, browser):
    """The node stops under a running page (this module's last test: its node stays down): the header says which
    node is not answering and what to do, instead of a parse error of the server's 500."""
    browser.get(f"{served}/token/BTC3L")
    WebDriverWait(browser, PAGE_WAIT).until(lambda d: d.find_element(By.ID, "head").get_attribute("data-block"))
    node.stop()
    wait_text(browser, "#head", f"the node at {node.url} is not answering; start it (`levtoken node`) and this page "
                                "resumes")
