"""levtoken.prices: the shipped series load; malformed files give one clear error."""

import pytest

from levtoken.prices import DAILY_CSV, HOURLY_CSV, PriceDataError, load_prices, parse_date


def test_load__shipped_files__ascending_positive():
    daily = load_prices(DAILY_CSV)
    hourly = load_prices(HOURLY_CSV, parse_date("2020-03-01"), parse_date("2020-03-02"))
    assert len(daily) == 5152
    assert all(a.timestamp < b.timestamp for a, b in zip(daily, daily[1:]))
    assert len(hourly) == 25 and hourly[1].timestamp - hourly[0].timestamp == 3600


@pytest.mark.parametrize(
    "content, message",
    [
        ("when,price\n2020-01-01,1\n", "header 'date,close'"),
        ("date,close\n2020-01-01,abc\n2020-01-02,1\n", ":2: close 'abc' is not a number"),
        ("date,close\n2020-01-01,0\n2020-01-02,1\n", ":2: close must be a positive"),
        ("date,close\n2020-01-02,1\n2020-01-01,1\n", ":3: dates must be strictly ascending"),
        ("date,close\n2020-13-01,1\n", "neither YYYY-MM-DD"),
        ("date,close\n2020-01-01,1\n", "fewer than two rows"),
    ],
)
def test_load__malformed__names_line_and_problem(written, content, message):
    with pytest.raises(PriceDataError, match=message):
        load_prices(written("prices.csv", content))


def test_load__missing_file__clear_error(tmp_path):
    with pytest.raises(PriceDataError, match="not found"):
        load_prices(tmp_path / "nope.csv")


def test_load__byte_order_mark__read_like_any_csv(tmp_path):
    """A spreadsheet's export starts with a UTF-8 byte-order mark; its header is still 'date,close'."""
    path = tmp_path / "excel.csv"
    path.write_bytes("\ufeffdate,close\n2020-01-01,7200.17\n2020-01-02,6985.47\n".encode("utf-8"))
    points = load_prices(path)
    assert [str(p.close) for p in points] == ["7200.17", "6985.47"]
