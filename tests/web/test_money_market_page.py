"""The product page over a money-market deployment (config/money-market.toml), in Chromium: the keeper serves the
tokens as on the perpetual venue, `levtoken feed publish` moves the price and arbitrages the pool, and the token
page shows the Morpho loop behind the token (its venue, collateral, debt, LLTV and borrow rate, as the venue and
Morpho hold them) and where its return went, the borrow interest in the funding's place."""

from __future__ import annotations

import json
from pathlib import Path
from decimal import Decimal

import pytest
from selenium.webdriver.common.by import By

from tests.utils.cli import assert_one_clear_error, deployed_token, invoke, operation_id
from tests.web.page import dollars, text_of, wait_text


@pytest.fixture(scope="module")
def deployed(node) -> Path:  # noqa: F811  (the product page's fixtures take this module's deployment)
    """The record of `levtoken deploy --config config/money-market.toml` on the module's node."""
    record = node.tmp / "money-market.json"
    out = node.run("levtoken deploy --config config/money-market.toml", record)
    assert out.returncode == 0, out.stderr
    return record


def venue(node, deployed):
    """The deployment's MoneyMarketVenue (web3)."""
    from ape import project

    return node.contract(json.loads(deployed.read_text())["money_market"]["venue"],
                         project.MoneyMarketVenue.contract_type)


def test_token_page__the_loop_behind_the_token(node, deployed, served, browser):
    """After a 2% rise published (and the pool arbitraged to it), BTC3L's page names its venue and shows its
    Morpho collateral and debt as the venue's book gives them, the LLTV and the borrow rate in place of funding;
    its attribution adds up to its return."""
    out = invoke(node, deployed, "levtoken feed publish 30600")
    assert out.returncode == 0 and "its pool arbitraged to 30,600.00" in out.stdout, out.stdout + out.stderr
    token = deployed_token(node, deployed, "BTC3L")
    side, collateral, debt, cash, _ = venue(node, deployed).functions.book(1, token.address).call()
    browser.get(f"{served}/token/BTC3L")
    wait_text(browser, '#position [data-key="venue"]', "money market (Morpho Blue and Uniswap v3)")
    assert text_of(browser, '#position [data-key="collateral"]') == f"{Decimal(collateral) / 10**18:,.6f} BTC"
    assert text_of(browser, '#position [data-key="debt"]') == dollars(debt)
    assert text_of(browser, '#position [data-key="lltv"]') == "86% of the collateral's value lent"
    assert text_of(browser, '#position [data-key="borrow_rate"]').endswith("% a year on the debt")
    attribution = {row.find_element(By.TAG_NAME, "th").text: row.find_element(By.TAG_NAME, "td").text
                   for row in browser.find_elements(By.CSS_SELECTOR, "#attribution tr")}
    terms = [value for label, value in attribution.items()
             if label.endswith("% ($ at the end)") and not label.startswith("=")]
    assert len(terms) == 9
    total = float(attribution["return"].rstrip("%"))
    assert abs(sum(float(t.split("%")[0]) for t in terms) - total) < 0.05


def test_cli__a_mint_the_pool_cannot_take__refused_in_one_line(node, deployed):
    """A mint whose hedge the pool could not fill within the swap's bound is refused before anything is sent, in
    one line naming the venue's error with the oracle price in dollars."""
    out = invoke(node, deployed, "levtoken mint BTC3L 20000000")
    assert_one_clear_error(out, "the venue would refuse the hedge of 20,000,000.000000 collateral on BTC3L now: "
                                "SwapBeyondBound(")
    assert "oraclePrice=$30,600.00" in out.stdout + out.stderr


def test_cli__governance_widens_the_swap_bound__in_its_units(node, deployed):
    """`levtoken governance propose BTC maxSlippageBps=150` on the money market is described in its units and
    lands when executed (the config's delay is 0); a proposal naming its feed is refused in one line."""
    run = lambda command: invoke(node, deployed, command)  # noqa: E731
    assert_one_clear_error(run(f"levtoken governance propose BTC feed={'0x' + '11' * 20}"),
                           "market BTC's feed holds its tokens' loops and stays as listed")
    proposed = run("levtoken governance propose BTC maxSlippageBps=150")
    assert proposed.returncode == 0, proposed.stderr
    assert "market BTC: maxSlippageBps 100 bps -> 150 bps" in proposed.stdout
    executed = run(f"levtoken governance execute {operation_id(run('levtoken governance').stdout)}")
    assert executed.returncode == 0, executed.stderr
    record = json.loads(deployed.read_text())
    assert venue(node, deployed).functions.marketConfig(record["markets"]["BTC"]).call()[2] == 150
