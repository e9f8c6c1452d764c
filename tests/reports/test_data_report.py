"""The HTML data report: statistics, inline SVG histograms, failed checks, nothing online."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pandas as pd

from noria.data.profile import profile_data
from noria.data.schema import ColumnSchema, Schema
from noria.data.validate import validate_frame
from noria.reports.data_report import render_data_report, write_data_report


def test_report_has_columns_histograms_and_failed_checks(tmp_path: Path) -> None:
    frame = pd.DataFrame(
        {
            "age": [30, 40, -5, 50, 61],
            "plan": ["free", "pro", "free", "<b>gold</b>", "pro"],
            "when": pd.date_range("2024-01-01", periods=5, freq="D"),
        }
    )
    schema = Schema(
        columns={
            "age": ColumnSchema("age", "integer", min=0, max=120),
            "plan": ColumnSchema("plan", "string", values=("free", "pro")),
        }
    )
    result = validate_frame(frame, schema)
    profile = profile_data(frame)
    path = write_data_report(tmp_path / "out" / "report.html", profile, result)
    html = path.read_text()
    assert html.startswith("<!DOCTYPE html>") and "<svg" in html
    assert "failed" in html and "outside [0, 120]" in html and "row=3" in html
    assert "&lt;b&gt;gold&lt;/b&gt;" in html and "<b>gold</b>" not in html  # escaped
    assert not re.search(r"(src|href)=\"https?://", html) and "<script" not in html  # offline
    # the report reads plain JSON dicts too (what the engine stores)
    again = render_data_report(json.loads(json.dumps(profile.to_dict())),
                               json.loads(json.dumps(result.to_dict())))  # fmt: skip
    assert "outside [0, 120]" in again and again.count("<svg") == html.count("<svg")


def test_report_without_validation() -> None:
    html = render_data_report(profile_data(pd.DataFrame({"x": [1.0, 2.0, None]})))
    assert "Validation" not in html and "nulls" in html


def test_numbers_are_written_for_people() -> None:
    """Years were "2,003" and every quantile of a year column was 2,009; a price of a million
    plus a few units was "1e+06" in every row."""
    import numpy as np

    rng = np.random.default_rng(0)
    frame = pd.DataFrame(
        {
            "year": rng.integers(2003, 2011, 3000),
            "price": 1e6 + rng.lognormal(0, 1, 3000),
            "visits": rng.integers(20_000, 40_000, 3000),
        }
    )
    html = render_data_report(profile_data(frame))
    cards = {
        card.split("<")[0].strip(): dict(
            re.findall(r"<tr><th>(\w+)</th><td>([^<]*)</td></tr>", card)
        )
        for card in html.split('<div class="card">\n<h3>')[1:]
    }
    year, price, visits = cards["year"], cards["price"], cards["visits"]
    assert (year["min"], year["p5"], year["p95"], year["max"]) == ("2003", "2003", "2010", "2010")
    assert year["p25"] < year["p50"] < year["p75"]  # the quantiles tell the years apart
    assert all(price[k].startswith("1,000,0") and price[k].count(".") == 1 for k in ("p5", "p95"))
    assert price["p5"] != price["p50"] != price["p95"]
    assert visits["min"].startswith(("20,", "21,")) and "," in visits["p50"]
    assert "2,00" not in html and "e+0" not in html
