"""A `sql` check is one expression over the row, run without access to other files."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from noria.data.validate import Check, parse_checks, validate_file, validate_frame
from noria.errors import ConfigError


@pytest.fixture
def secret(tmp_path: Path) -> Path:
    path = tmp_path / "secret.txt"
    path.write_text("the password")
    return path


def test_a_normal_check_works_on_files_and_frames(penguins_csv: Path) -> None:
    checks = parse_checks([{"sql": "bill_length_mm < 55 AND island != 'a;b'", "name": "short"}])
    result = validate_file(penguins_csv, checks=checks)
    (failed,) = [r for r in result.results if not r.passed]
    assert failed.check.name == "short" and failed.failing > 0
    frame = pd.read_csv(penguins_csv)
    assert validate_frame(frame, checks=checks).results[0].failing == failed.failing


@pytest.mark.parametrize(
    "expression",
    [
        "x > 0) OR (SELECT count(*) FROM read_text('{secret}')) > 0 OR (1",
        "(SELECT length(content) FROM read_text('{secret}')) > 0",
        "1), true) UNION ALL SELECT count(*) FROM read_text('{secret}') WHERE (1",
        "1); COPY (SELECT 42) TO '{out}'; SELECT (1",
        "island IN (SELECT * FROM read_csv('{secret}'))",
    ],
)
def test_a_check_that_breaks_out_of_its_expression_is_refused(
    expression: str, secret: Path, tmp_path: Path, penguins_csv: Path
) -> None:
    out = tmp_path / "stolen.csv"
    sql = expression.format(secret=secret, out=out)
    with pytest.raises(ConfigError, match=r"validation\.checks\[0\]: sql .* is refused"):
        parse_checks([{"sql": sql}])
    check = Check("sql", params={"sql": sql}, origin="user")  # not through parse_checks
    with pytest.raises(ConfigError, match="is refused"):
        validate_file(penguins_csv, checks=[check])
    assert not out.exists()


def test_the_connection_of_a_sql_check_reads_only_the_data(
    penguins_csv: Path, secret: Path
) -> None:
    import duckdb

    from noria.data.sqlcheck import sandbox

    con = duckdb.connect()
    sandbox(con, [penguins_csv])
    assert con.execute(f"SELECT count(*) FROM read_csv('{penguins_csv}')").fetchone()[0] > 300
    with pytest.raises(duckdb.PermissionException):
        con.execute(f"SELECT * FROM read_text('{secret}')").fetchall()
    with pytest.raises(duckdb.PermissionException):
        con.execute(f"COPY (SELECT 1) TO '{secret.with_name('out.csv')}'")
    with pytest.raises(duckdb.Error):
        con.execute("SET enable_external_access = true")
    con.close()
