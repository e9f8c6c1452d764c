"""Tests for noria.data.sources: resolving and reading CSV, Parquet and JSON; bad inputs."""

from __future__ import annotations

import gzip
from pathlib import Path

import duckdb
import numpy as np
import pandas as pd
import pytest
from palmerpenguins import load_penguins

from noria.data.sources import format_of, read_source, resolve_files
from noria.errors import ConfigError, DataError


def _write(path: Path, text: str | bytes) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    if isinstance(text, bytes):
        path.write_bytes(text)
    else:
        path.write_text(text, encoding="utf-8")
    return path


def _one_line(exc: pytest.ExceptionInfo[BaseException]) -> str:
    message = str(exc.value)
    assert "\n" not in message
    return message


# ------------------------------------------------------------------------------ resolve_files


def test_resolve_relative_file_against_base(tmp_path: Path) -> None:
    csv = _write(tmp_path / "data" / "train.csv", "a\n1\n")
    assert resolve_files("data/train.csv", base=tmp_path) == [csv]
    assert resolve_files(str(csv)) == [csv]


def test_resolve_glob_is_sorted_and_files_only(tmp_path: Path) -> None:
    b = _write(tmp_path / "b.csv", "a\n1\n")
    a = _write(tmp_path / "a.csv", "a\n1\n")
    (tmp_path / "dir.csv").mkdir()
    assert resolve_files("*.csv", base=tmp_path) == [a, b]


def test_resolve_directory_skips_hidden_markers_and_other_types(tmp_path: Path) -> None:
    part1 = _write(tmp_path / "d" / "year=2020" / "part-1.parquet", b"x")
    part0 = _write(tmp_path / "d" / "part-0.parquet", b"x")
    _write(tmp_path / "d" / "_SUCCESS", "")
    _write(tmp_path / "d" / ".hidden.csv", "a\n1\n")
    _write(tmp_path / "d" / "README.md", "notes")
    assert resolve_files("d", base=tmp_path) == [part0, part1]


def test_resolve_missing_file_names_path_near_match_and_fix(tmp_path: Path) -> None:
    _write(tmp_path / "churn.csv", "a\n1\n")
    with pytest.raises(DataError) as exc:
        resolve_files("chrun.csv", base=tmp_path)
    message = _one_line(exc)
    assert "chrun.csv" in message
    assert "did you mean 'churn.csv'" in message
    assert "check `data.source` in noria.yaml" in message


def test_resolve_glob_without_match_and_empty_folder(tmp_path: Path) -> None:
    with pytest.raises(DataError, match=r"no file matches '\*\.parquet'.*data\.source"):
        resolve_files("*.parquet", base=tmp_path)
    (tmp_path / "empty").mkdir()
    with pytest.raises(DataError, match="has no CSV, Parquet or JSON file"):
        resolve_files("empty", base=tmp_path)
    with pytest.raises(DataError, match=r"data\.source"):
        resolve_files("  ", base=tmp_path)


def test_format_of_ignores_compression() -> None:
    assert format_of(Path("x.csv.gz")) == "csv"
    assert format_of(Path("x.TSV")) == "csv"
    assert format_of(Path("x.ndjson")) == "json"
    assert format_of(Path("x.pq")) == "parquet"
    assert format_of(Path("x.xlsx")) is None


# -------------------------------------------------------------------------------- reading: ok


def test_read_csv_round_trips_penguins(tmp_path: Path) -> None:
    penguins = load_penguins()
    penguins.to_csv(tmp_path / "penguins.csv", index=False)
    df = read_source("penguins.csv", base=tmp_path)
    assert list(df.columns) == list(penguins.columns)
    assert df.shape == penguins.shape
    assert int(df["sex"].isna().sum()) == int(penguins["sex"].isna().sum()) == 11
    assert np.allclose(df["body_mass_g"].to_numpy(float), penguins["body_mass_g"], equal_nan=True)
    assert set(df["species"]) == {"Adelie", "Gentoo", "Chinstrap"}


def test_read_parquet_and_json_lines_and_json_array(tmp_path: Path) -> None:
    penguins = load_penguins()
    penguins.to_parquet(tmp_path / "p.parquet")
    assert read_source(str(tmp_path / "p.parquet")).shape == (344, 8)

    _write(tmp_path / "e.jsonl", '{"x": 1, "y": "a"}\n{"x": 2, "y": null}\n')
    lines = read_source("e.jsonl", base=tmp_path)
    assert list(lines.columns) == ["x", "y"]
    assert lines["x"].tolist() == [1, 2]
    assert lines["y"].isna().tolist() == [False, True]

    _write(tmp_path / "arr.json", '[{"x": 1.5, "z": true}, {"x": 2.5, "z": false}]')
    array = read_source("arr.json", base=tmp_path)
    assert array["x"].tolist() == [1.5, 2.5]
    assert array["z"].tolist() == [True, False]


def test_glob_of_two_csvs_is_unioned_by_name(tmp_path: Path) -> None:
    _write(tmp_path / "parts" / "1.csv", "id,b\n1,x\n2,y\n")
    _write(tmp_path / "parts" / "2.csv", "b,id,c\nz,3,0.5\n")
    df = read_source("parts/*.csv", base=tmp_path)
    assert len(df) == 3
    assert set(df.columns) == {"id", "b", "c"}
    assert df.sort_values("id")["b"].tolist() == ["x", "y", "z"]
    assert df["c"].isna().sum() == 2


def test_tsv_gzip_quotes_and_hash_values(tmp_path: Path) -> None:
    _write(tmp_path / "t.tsv", "name\tscore\nann\t1\nbob\t2\n")
    assert read_source("t.tsv", base=tmp_path)["score"].tolist() == [1, 2]
    raw = b'a,b\n1,"x, y"\n2,"two\nlines"\n#3,hash\n'
    (tmp_path / "q.csv.gz").write_bytes(gzip.compress(raw))
    df = read_source("q.csv.gz", base=tmp_path)
    assert df["b"].tolist() == ["x, y", "two\nlines", "hash"]  # '#' is not a comment
    assert df["a"].tolist() == ["1", "2", "#3"]


def test_semicolon_csv_keeps_column_names(tmp_path: Path) -> None:
    _write(tmp_path / "s.csv", "Customer ID;Monthly Charges\n7;29.85\n8;56.95\n")
    df = read_source("s.csv", base=tmp_path)
    assert list(df.columns) == ["Customer ID", "Monthly Charges"]
    assert df["Monthly Charges"].tolist() == [29.85, 56.95]


# ------------------------------------------------------------------------------- reading: bad


@pytest.mark.parametrize(
    ("body", "row", "line", "fields"),
    [
        ("a,b,c\n1,2,3\n4,5\n6,7,8\n", 2, 3, 2),  # too few
        ("a,b,c\n1,2,3\n4,5,6,7\n", 2, 3, 4),  # too many
    ],
)
def test_ragged_csv_names_file_row_and_counts(
    tmp_path: Path, body: str, row: int, line: int, fields: int
) -> None:
    _write(tmp_path / "ragged.csv", body)
    with pytest.raises(DataError) as exc:
        read_source("ragged.csv", base=tmp_path)
    message = _one_line(exc)
    assert "ragged.csv" in message
    assert f"row {row} (line {line}) has {fields} fields, the header has 3" in message
    assert isinstance(exc.value.__cause__, duckdb.Error)


def test_ragged_row_after_the_sniffer_sample(tmp_path: Path) -> None:
    _write(tmp_path / "big.csv", "a,b\n" + "1,x\n" * 25_000 + "2\n" + "3,y\n")
    with pytest.raises(DataError, match=r"big\.csv: row 25001 \(line 25002\) has 1 field, "):
        read_source("big.csv", base=tmp_path)


def test_unclosed_quote_names_its_line(tmp_path: Path) -> None:
    _write(tmp_path / "q.csv", 'a,b\n1,x\n2,"oops\n3,z\n')
    with pytest.raises(DataError) as exc:
        read_source("q.csv", base=tmp_path)
    assert 'q.csv: line 3 opens a quote (") that is never closed' in _one_line(exc)


def test_empty_and_header_only_files(tmp_path: Path) -> None:
    _write(tmp_path / "empty.csv", "")
    with pytest.raises(DataError, match=r"empty\.csv: the file is empty \(0 bytes\)"):
        read_source("empty.csv", base=tmp_path)
    _write(tmp_path / "header.csv", "a,b,c\n")
    with pytest.raises(DataError, match=r"header\.csv: has no data rows"):
        read_source("header.csv", base=tmp_path)
    _write(tmp_path / "none.json", "[]")
    with pytest.raises(DataError, match=r"none\.json: has no data rows"):
        read_source("none.json", base=tmp_path)


def test_not_utf8_names_file_and_line(tmp_path: Path) -> None:
    _write(tmp_path / "latin.csv", "name,city\nann,Z\xfcrich\n".encode("latin-1"))
    with pytest.raises(DataError) as exc:
        read_source("latin.csv", base=tmp_path)
    message = _one_line(exc)
    assert "latin.csv: line 2 is not valid UTF-8 (byte 0xfc" in message
    assert "iconv" in message


def test_truncated_and_fake_parquet(tmp_path: Path) -> None:
    path = tmp_path / "ok.parquet"
    load_penguins().to_parquet(path)
    _write(tmp_path / "cut.parquet", path.read_bytes()[:200])
    with pytest.raises(DataError) as exc:
        read_source("cut.parquet", base=tmp_path)
    assert "cut.parquet: not a valid Parquet file (corrupt or truncated" in _one_line(exc)
    _write(tmp_path / "fake.parquet", b"id,name\n1,x\n")
    with pytest.raises(DataError, match=r"fake\.parquet: not a valid Parquet file"):
        read_source("fake.parquet", base=tmp_path)


def test_duplicate_column_names(tmp_path: Path) -> None:
    _write(tmp_path / "dup.csv", "a,b,a\n1,2,3\n")
    with pytest.raises(DataError, match=r"dup\.csv: column 'a' appears 2 times in the header"):
        read_source("dup.csv", base=tmp_path)
    _write(tmp_path / "dup.jsonl", '{"a": 1, "a": 2}\n')
    with pytest.raises(DataError, match=r"dup\.jsonl.*key 'a' appears twice"):
        read_source("dup.jsonl", base=tmp_path)


def test_malformed_json_names_file(tmp_path: Path) -> None:
    _write(tmp_path / "bad.jsonl", '{"a": 1}\n{"a": \n')
    with pytest.raises(DataError) as exc:
        read_source("bad.jsonl", base=tmp_path)
    assert "bad.jsonl" in _one_line(exc)


def test_format_errors(tmp_path: Path) -> None:
    _write(tmp_path / "m" / "a.csv", "a\n1\n")
    _write(tmp_path / "m" / "b.json", '{"a": 2}\n')
    with pytest.raises(DataError, match="mixes file formats"):
        read_source("m", base=tmp_path)
    _write(tmp_path / "x.dat", "a\n1\n")
    with pytest.raises(DataError, match=r"x\.dat: unknown file type.*`data.format`"):
        read_source("x.dat", base=tmp_path)
    assert read_source("x.dat", format="csv", base=tmp_path)["a"].tolist() == [1]
    with pytest.raises(ConfigError, match=r"`data.format`.*did you mean 'parquet'"):
        read_source("x.dat", format="parquett", base=tmp_path)


def test_missing_file_through_read_source(tmp_path: Path) -> None:
    with pytest.raises(DataError, match=r"nope\.csv.*does not exist"):
        read_source("nope.csv", base=tmp_path)


def test_returns_pandas_frame_with_file_column_names(tmp_path: Path) -> None:
    _write(tmp_path / "c.csv", "Col A,col_b,3rd\n1,,2020-01-02\n2,x,2021-05-06\n")
    df = read_source("c.csv", base=tmp_path)
    assert isinstance(df, pd.DataFrame)
    assert list(df.columns) == ["Col A", "col_b", "3rd"]
    assert pd.api.types.is_datetime64_any_dtype(df["3rd"])


def test_r_style_na_cells_are_missing_values(tmp_path: Path) -> None:
    """Regression: R writes missing values as NA; they made numeric columns strings."""
    path = tmp_path / "na.csv"
    path.write_text("x,label\n1.5,a\nNA,b\n3.0,NA\n")
    frame = read_source(str(path))
    assert pd.api.types.is_float_dtype(frame["x"])
    assert frame["x"].isna().tolist() == [False, True, False]
    assert frame["label"].isna().tolist() == [False, False, True]


def test_penguins_measurements_are_numeric(penguins_csv: Path) -> None:
    frame = read_source(str(penguins_csv))
    assert pd.api.types.is_numeric_dtype(frame["bill_length_mm"])
    assert int(frame["bill_length_mm"].isna().sum()) == 2


# ------------------------------------------------------------------ one reader of types (issue 10)


def test_yes_no_and_true_false_text_stays_text(tmp_path: Path) -> None:
    path = _write(tmp_path / "a.csv", "smoker,flag,tf,n\nyes,Y,true,1\nno,N,false,2\nyes,,true,3\n")
    frame = read_source(str(path))
    assert frame["smoker"].tolist() == ["yes", "no", "yes"]
    assert frame["flag"].tolist()[:2] == ["Y", "N"] and frame["tf"].tolist()[0] == "true"
    assert frame["n"].tolist() == [1, 2, 3]


def test_scoring_reads_known_columns_with_the_training_types(tmp_path: Path) -> None:
    from noria.data.sources import iter_frames

    path = _write(tmp_path / "s.csv", "zip,x\n01234,1\n02345,2.5\n")
    [frame] = list(iter_frames(path, types={"zip": "VARCHAR", "x": "DOUBLE"}))
    assert frame["zip"].tolist() == ["01234", "02345"] and frame["x"].tolist() == [1.0, 2.5]
    bad = _write(tmp_path / "b.csv", "zip,x\n01234,1\n02345,lots\n")
    with pytest.raises(DataError) as exc:
        list(iter_frames(bad, types={"zip": "VARCHAR", "x": "DOUBLE"}))
    assert "'lots' is not a number" in _one_line(exc) and "line 3" in str(exc.value)


# ------------------------------------------------------------------ reader errors (issue 12)


def test_a_spreadsheet_with_a_csv_name_is_named_with_the_export(tmp_path: Path) -> None:
    import zipfile

    path = tmp_path / "sales.csv"
    with zipfile.ZipFile(path, "w") as book:  # the parts every .xlsx has
        book.writestr("[Content_Types].xml", "<Types/>")
        book.writestr("xl/workbook.xml", "<workbook/>")
        book.writestr("xl/worksheets/sheet1.xml", "<worksheet/>")
    with pytest.raises(DataError) as exc:
        read_source(str(path))
    message = _one_line(exc)
    assert "Excel workbook" in message and "save it with File > Save As > CSV" in message
    assert "UTF-8 (" not in message and "iconv" not in message
    old = _write(tmp_path / "old.csv", b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\0" * 512)
    with pytest.raises(DataError, match=r"old Excel workbook \(\.xls\)"):
        read_source(str(old))


def test_semicolons_and_decimal_commas_are_detected(tmp_path: Path) -> None:
    penguins = load_penguins().dropna().head(20)
    path = tmp_path / "eu.csv"
    penguins.to_csv(path, sep=";", decimal=",", index=False)
    assert "39,1" in path.read_text()
    frame = read_source(str(path))
    assert frame["bill_length_mm"].dtype == "float64"
    assert frame["bill_length_mm"].tolist() == penguins["bill_length_mm"].tolist()
    assert frame["species"].tolist() == penguins["species"].tolist()


def test_parquet_with_nested_columns_is_refused_naming_the_column(tmp_path: Path) -> None:
    import pyarrow as pa
    import pyarrow.parquet as pq

    table = pa.table({"x": [1, 2], "tags": [["a", "b"], ["c"]]})
    pq.write_table(table, tmp_path / "t.parquet")
    with pytest.raises(DataError) as exc:
        read_source(str(tmp_path / "t.parquet"))
    assert "column 'tags' holds list values" in _one_line(exc)
    struct = pa.table({"x": [1], "where": [{"lat": 1.0, "lon": 2.0}]})
    pq.write_table(struct, tmp_path / "s.parquet")
    with pytest.raises(DataError, match="column 'where' holds struct values"):
        read_source(str(tmp_path / "s.parquet"))
