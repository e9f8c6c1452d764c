"""Numbers for people: years without a thousands separator, no exponent for counts."""

from __future__ import annotations

import pytest

from noria.reports.numbers import column_formatter, number, plain_integers, tick


@pytest.mark.parametrize(
    ("value", "text"),
    [
        (2003, "2003"),  # four digits: not grouped (was "2,003")
        (9999, "9999"),
        (10_000, "10,000"),
        (10_000.0, "10,000"),  # a count that came as a float: no "1e+04"
        (1_234_567, "1,234,567"),
        (1.7e9, "1,700,000,000"),  # was "1.7e+09"
        (2006.5, "2006.5"),
        (12_345.67, "12,345.7"),
        (0.123456, "0.1235"),
        (12.3456, "12.35"),
        (0.0, "0"),
        (4.4e-5, "4.4e-05"),  # tiny values keep an exponent
        (2e15, "2e+15"),
        (None, "–"),
        (True, "true"),
        (float("inf"), "inf"),
    ],
)
def test_number(value: object, text: str) -> None:
    assert number(value) == text


def test_fixed_decimals_and_negative_zero() -> None:
    assert number(1_000_001.2345, decimals=2) == "1,000,001.23"
    assert number(-0.0002, decimals=2) == "0.00"  # not "-0.00"
    assert number(3.14159, decimals=9) == "3.142"  # finer than a millionth: 4 digits


def test_identifier_and_year_names_are_never_grouped() -> None:
    assert [plain_integers(n) for n in ("year", "customer_id", "customerId", "Zip code")] == [
        True,
        True,
        True,
        True,
    ]
    assert not any(plain_integers(n) for n in ("valid", "idle", "width", "visits"))
    ids = column_formatter({"name": "customer_id", "dtype": "BIGINT", "min": 1, "max": 2})
    assert ids(10_000_042) == "10000042" and ids(10_000_042.0) == "10000042"
    visits = column_formatter({"name": "visits", "dtype": "BIGINT", "min": 1, "max": 2})
    assert visits(30_114) == "30,114"


def test_a_column_shares_the_decimals_of_its_spread() -> None:
    """A price of 1,000,000 plus a few units: every number of the column tells them apart."""
    price = column_formatter(
        {"name": "price", "dtype": "DOUBLE", "std": 2.17, "min": 1e6, "max": 1e6 + 50}
    )
    assert [price(v) for v in (1_000_000.2, 1_000_001.0, 1_000_005.07)] == [
        "1,000,000.20",
        "1,000,001.00",
        "1,000,005.07",
    ]
    x = column_formatter({"name": "x", "dtype": "DOUBLE", "std": 1.0})
    assert x(-1.6582) == "-1.66" and x(-0.0003) == "0.00"


def test_ticks_drop_trailing_zeros() -> None:
    assert tick(2.5) == "2.5" and tick(2005.0, group=False) == "2005" and tick(0.0) == "0"
