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
