"""The stores under faults: damaged files, a full disk, a lock held too long, a lost database."""

from __future__ import annotations

import errno
import os
import sqlite3
import time
from pathlib import Path

import pytest

from noria.errors import StoreError, StoreUnavailable
from noria.store import artifacts as artifacts_module
from noria.store.artifacts import FsspecArtifactStore, LocalArtifactStore, content_hash
from noria.store.metadata import MetadataStore

from ..conftest import cli


def _flip(path: Path) -> None:
    data = bytearray(path.read_bytes())
    data[len(data) // 2] ^= 0xFF
    path.write_bytes(bytes(data))


@pytest.mark.parametrize("kind", ["local", "fsspec-file"])
def test_put_over_a_damaged_copy_replaces_it(tmp_path: Path, kind: str) -> None:
    """A flipped byte (same size): a put of the same bytes (`noria run --fresh`) used to skip
    the existing file and leave it corrupt."""
    store = LocalArtifactStore(tmp_path) if kind == "local" else FsspecArtifactStore(
        f"file://{tmp_path}"
    )  # fmt: skip
    data = os.urandom(10_000)
    artifact_id = store.put(data)
    path = tmp_path / artifact_id[:2] / artifact_id[2:]
    _flip(path)
    with pytest.raises(StoreError, match="corrupt"):
        store.get(artifact_id)
    assert store.put(data) == artifact_id
    assert store.get(artifact_id) == data


def test_a_failed_write_leaves_no_partial_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    store = LocalArtifactStore(tmp_path)

    class Full:
        def __init__(self, path: Path, mode: str) -> None:
            self.fh = open(path, mode)  # noqa: SIM115

        def __enter__(self) -> Full:
            return self

        def __exit__(self, *exc: object) -> None:
            self.fh.close()

        def write(self, data: bytes) -> None:
            self.fh.write(data[: len(data) // 2])
            raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(artifacts_module, "open", Full, raising=False)
    data = os.urandom(50_000)
    with pytest.raises(StoreUnavailable, match="disk is full") as info:
        store.put(data)
    assert str(store.path(content_hash(data))) in str(info.value)
    assert [p for p in tmp_path.rglob("*") if p.is_file()] == []


def test_stale_temporary_files_are_removed_on_open(tmp_path: Path) -> None:
    store = LocalArtifactStore(tmp_path)
    store.put(b"x")
    stale = tmp_path / ".incoming" / "abc.1234.tmp"
    fresh = tmp_path / ".incoming" / "def.5678.tmp"  # another process may be writing it now
    stale.write_bytes(b"half")
    fresh.write_bytes(b"half")
    old = time.time() - 2 * artifacts_module.STALE_SECONDS
    os.utime(stale, (old, old))
    LocalArtifactStore(tmp_path)
    assert not stale.exists() and fresh.exists()


def test_artifact_put_on_a_real_full_disk(tiny_disk: Path) -> None:
    store = LocalArtifactStore(tiny_disk / "artifacts")
    store.put(b"small")
    with pytest.raises(StoreUnavailable, match="disk is full"):
        store.put(os.urandom(2_000_000))
    leftovers = [p for p in tiny_disk.rglob("*") if p.is_file()]
    assert len(leftovers) == 1  # the small artifact only: no 1 MiB partial file


# --------------------------------------------------------------------------- metadata


def test_locked_database_is_one_line_naming_the_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from noria.store import sqlite_backend

    monkeypatch.setattr(sqlite_backend, "BUSY_TIMEOUT_S", 0.2)
    path = tmp_path / "noria.db"
    store = MetadataStore(f"sqlite:///{path}")
    holder = sqlite3.connect(path, isolation_level=None)
    holder.execute("BEGIN IMMEDIATE")  # another process in a long write
    try:
        with pytest.raises(StoreUnavailable, match="locked by another process") as info:
            store.create_run("r1", name="x", kind="manual")
        assert str(path) in str(info.value) and "\n" not in str(info.value)
        assert info.value.exit_code == 2
    finally:
        holder.execute("ROLLBACK")
        holder.close()
    store.create_run("r1", name="x", kind="manual")  # works once the lock is gone
    store.close()


def test_full_database_disk_is_one_line(tmp_path: Path) -> None:
    path = tmp_path / "noria.db"
    store = MetadataStore(f"sqlite:///{path}")
    pages = store.read("PRAGMA page_count")[0][0]
    store.read(f"PRAGMA max_page_count = {pages}")  # no page more: SQLite's "disk is full"
    full = "disk holding the metadata database is full"
    with pytest.raises(StoreUnavailable, match=full), store.write() as tx:
        for i in range(2000):
            tx.execute(
                "INSERT INTO tags (run_id, key, value) VALUES (:r, :k, :v)",
                {"r": "r", "k": f"k{i}", "v": "x" * 200},
            )
    store.read(f"PRAGMA max_page_count = {pages * 100}")
    store.create_run("r2", name="x", kind="manual")  # the store is still usable
    store.close()


def test_malformed_database_is_one_line(tmp_path: Path) -> None:
    path = tmp_path / "noria.db"
    store = MetadataStore(f"sqlite:///{path}")
    for i in range(200):
        store.create_run(f"run{i:04d}", name="x" * 100, kind="manual")
    store.read("PRAGMA wal_checkpoint(TRUNCATE)")
    store.close()
    data = bytearray(path.read_bytes())
    page = 4096
    for start in range(2 * page, len(data), page):  # every page but the schema's
        data[start : start + 100] = os.urandom(100)
    path.write_bytes(bytes(data))
    with pytest.raises(StoreUnavailable, match=r"damaged|not a usable") as info:
        MetadataStore(f"sqlite:///{path}").get_run("run0100")
    assert str(path) in str(info.value) and info.value.exit_code == 2


def test_empty_database_next_to_artifacts_is_refused(tmp_path: Path) -> None:
    """A 0-byte noria.db used to become a new, empty store: every run and model lost."""
    LocalArtifactStore(tmp_path / "artifacts").put(b"model bytes")
    path = tmp_path / "noria.db"
    path.write_bytes(b"")
    with pytest.raises(StoreUnavailable, match=r"empty \(0 bytes\).*not new"):
        MetadataStore(f"sqlite:///{path}")
    assert path.stat().st_size == 0  # left as it was


def test_empty_database_of_a_new_store_is_fine(tmp_path: Path) -> None:
    (tmp_path / "noria.db").write_bytes(b"")
    (tmp_path / "artifacts" / ".incoming").mkdir(parents=True)  # nothing stored yet
    MetadataStore(f"sqlite:///{tmp_path / 'noria.db'}").close()


def test_cli_exits_2_with_one_line_for_a_lost_database(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (tmp_path / "noria.yaml").write_text("name: p\ndata: {source: d.csv}\ntarget: y\n")
    home = tmp_path / ".noria"
    LocalArtifactStore(home / "artifacts").put(b"model bytes")
    (home / "noria.db").write_bytes(b"")
    code, _, err = cli(capsys, "runs", "--path", str(tmp_path))
    assert code == 2
    assert err.strip().count("\n") == 0 and "noria.db" in err and "restore" in err
