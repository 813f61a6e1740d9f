"""What the product page's tests read from a page in Chromium, and how they write the chain's numbers as the page
writes them."""

from __future__ import annotations

from decimal import Decimal

from selenium.common.exceptions import StaleElementReferenceException
from selenium.webdriver.common.by import By
from selenium.webdriver.support.ui import WebDriverWait

PAGE_WAIT = 30  # seconds for the page to show what the chain holds (it polls the head every second)


def dollars(units: int, places: int = 2) -> str:
    """Collateral units (6 decimals) as the page writes dollars."""
    return f"${Decimal(units) / 10**6:,.{places}f}"


def tokens(wad: int) -> str:
    """Tokens (18 decimals) with four decimals."""
    return f"{Decimal(wad) / 10**18:,.4f}"


def times(wad: int) -> str:
    """A signed leverage."""
    return f"{Decimal(wad) / 10**18:.4f}x"


def text_of(browser, css: str) -> str:
    """The text of the first element at `css` (read again when the page re-rendered it meanwhile)."""
    return WebDriverWait(browser, PAGE_WAIT, ignored_exceptions=(StaleElementReferenceException,)).until(
        lambda driver: driver.find_element(By.CSS_SELECTOR, css).text)


def wait_text(browser, css: str, expected: str, timeout: float = PAGE_WAIT) -> None:
    """Waits until the element at `css` shows `expected` (the page refreshes on new blocks)."""
    def shows(driver) -> bool:
        found = driver.find_elements(By.CSS_SELECTOR, css)
        return bool(found) and found[0].text == expected

    try:
        # The page re-renders on every block: an element found a moment ago may be gone (stale); look again.
        WebDriverWait(browser, timeout, ignored_exceptions=(StaleElementReferenceException,)).until(shows)
    except Exception:
        found = browser.find_elements(By.CSS_SELECTOR, css)
        raise AssertionError(f"{css} shows {found[0].text if found else 'nothing'!r}, expected {expected!r}") from None
