"""The metadata-store contract as a pytest suite: every concern, on any backend.

Subclass :class:`MetadataStoreSuite` and provide the ``metadata_store`` fixture: a new, empty
:class:`~noria.store.metadata.MetadataStore` at head (over your database URL, or over your own
:class:`~noria.store.backend.Backend` with ``MetadataStore(backend=…)``). ``tests/store`` runs it
over SQLite and over a real PostgreSQL server. :func:`check_concurrent_writers` is the
many-processes check, also usable on its own (it needs a URL other processes can open).
"""

from __future__ import annotations

import subprocess
import sys
import time
import uuid

import pytest

from noria.errors import NotFoundError, StoreError
from noria.store.metadata import HEAD_REVISION, MetadataStore

__all__ = ["MetadataStoreSuite", "check_concurrent_writers"]


def _id() -> str:
    return uuid.uuid4().hex


_WRITER = """
import sys, time
from noria import tracking
from noria.store.metadata import MetadataStore
url, name, runs, points = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4])
store = MetadataStore(url)
for i in range(runs):
    with tracking.start_run(store, name=f"{name}-{i}") as run:
        tracking.log_param("writer", name)
        for j in range(points):
            tracking.log_metric("m", j, step=j)
            if j % 25 == 24:
                run.flush()  # many small transactions, interleaved with the other writers
store.close()
"""


def check_concurrent_writers(
    url: str, *, processes: int = 8, runs: int = 5, points: int = 100, timeout: float = 300.0
) -> float:
    """``processes`` processes write runs, params and metrics into ``url`` at once.

    Every process must exit cleanly and every row must be there. Returns the seconds it took.
    """
    tag = _id()[:8]
    started = time.perf_counter()
    procs = [
        subprocess.Popen(
            [sys.executable, "-c", _WRITER, url, f"{tag}-w{k}", str(runs), str(points)],
            stderr=subprocess.PIPE,
        )
        for k in range(processes)
    ]
    failures = []
    for proc in procs:
        _, err = proc.communicate(timeout=timeout)
        if proc.returncode != 0:
            failures.append(err.decode(errors="replace")[-1500:])
    elapsed = time.perf_counter() - started
    assert not failures, failures
    store = MetadataStore(url)
    try:
        mine = [r for r in store.list_runs(limit=100_000) if r.name.startswith(tag)]
        assert len(mine) == processes * runs
        assert {r.status for r in mine} == {"completed"}
        counts = {r.id: len(store.metrics(r.id)) for r in mine}
        assert set(counts.values()) == {points}, counts
        assert all(store.params(r.id)["writer"] == r.name.rsplit("-", 1)[0] for r in mine)
    finally:
        store.close()
    return elapsed


class MetadataStoreSuite:
    """The metadata-store contract. Subclass it (as ``Test…``) and provide ``metadata_store``.

    Attributes:
        writers: processes of the concurrent-writers check (0 skips it).
    """

    writers = 8

    # ----------------------------------------------------------------- schema

    def test_revision_is_head_and_reopening_is_fine(self, metadata_store: MetadataStore) -> None:
        assert metadata_store.backend.revision() == HEAD_REVISION
        again = MetadataStore(metadata_store.url)
        assert again.backend.revision() == HEAD_REVISION
        again.close()

    def test_a_failed_transaction_leaves_nothing(self, metadata_store: MetadataStore) -> None:
        run_id = _id()
        with pytest.raises(RuntimeError), metadata_store.write() as tx:
            metadata_store.insert_runs(
                tx,
                [{"id": run_id, "name": "x", "kind": "trial", "parent_id": None,
                  "status": "completed", "started_at": 1.0, "ended_at": 2.0}],
            )  # fmt: skip
            raise RuntimeError("the step failed")
        with pytest.raises(NotFoundError):
            metadata_store.get_run(run_id)

    # ----------------------------------------------------------------- runs

    def test_runs(self, metadata_store: MetadataStore) -> None:
        store = metadata_store
        parent = "abcdef" + _id()[6:]
        store.create_run(parent, name="parent run", kind="pipeline", pipeline="p", started_at=10.0)
        assert store.get_run(parent[:8]).name == "parent run"
        with pytest.raises(NotFoundError, match="noria runs"):
            store.get_run("ffffffff")
        children = [
            {"id": _id(), "name": f"trial {i}", "kind": "trial", "parent_id": parent,
             "status": "completed", "started_at": 11.0 + i, "ended_at": 12.0 + i}
            for i in range(3)
        ]  # fmt: skip
        with store.write() as tx:
            store.insert_runs(tx, children)
            store.finish_run(tx, parent, status="failed", error="boom", ended_at=20.0)
        record = store.get_run(parent)
        assert (record.status, record.error, record.duration) == ("failed", "boom", 10.0)
        assert record.pid is not None and record.host and record.owner
        assert [r.id for r in store.list_runs()] == [parent]
        listed = store.list_runs(parent_id=parent, kind="trial")
        assert [r.name for r in listed] == ["trial 2", "trial 1", "trial 0"]
        assert len(store.list_runs(parent_id=parent, limit=2)) == 2

    def test_ambiguous_prefix(self, metadata_store: MetadataStore) -> None:
        metadata_store.create_run("aaaa1" + _id()[5:], name="a", kind="manual")
        metadata_store.create_run("aaaa2" + _id()[5:], name="b", kind="manual")
        with pytest.raises(NotFoundError, match="ambiguous"):
            metadata_store.get_run("aaaa")

    def test_abandoned_run_is_marked_interrupted(self, metadata_store: MetadataStore) -> None:
        run_id = _id()
        metadata_store.create_run(run_id, name="r", kind="manual")
        with metadata_store.write() as tx:  # a pid that cannot exist: the process is gone
            tx.execute("UPDATE runs SET pid = 2147483647 WHERE id = :id", {"id": run_id})
        assert metadata_store.mark_abandoned_runs() == 1
        assert metadata_store.get_run(run_id).status == "interrupted"

    # ----------------------------------------------------------------- steps and the cache

    def test_steps_artifacts_lineage_and_cache(self, metadata_store: MetadataStore) -> None:
        store = metadata_store
        run_id, step_a, step_b = _id(), _id(), _id()
        art = _id()
        store.create_run(run_id, name="r", kind="pipeline")
        steps = [
            {"id": step_a, "run_id": run_id, "step": "a", "fingerprint": "f" * 32,
             "status": "completed", "started_at": 1.0, "ended_at": 2.0, "duration": 1.0,
             "attempts": 1, "error": None, "output_artifact": art, "cached_from": None},
            {"id": step_b, "run_id": run_id, "step": "b", "fingerprint": None,
             "status": "failed", "started_at": 2.0, "ended_at": 3.0, "duration": 1.0,
             "attempts": 2, "error": "x", "output_artifact": None, "cached_from": None},
        ]  # fmt: skip
        big = 3 * 2**31  # sizes past 32 bits
        with store.write() as tx:
            store.insert_step_runs(tx, steps)
            artifact = {"materializer": "json", "type_name": "dict", "created_at": 1.0}
            store.insert_artifacts(tx, [{"id": art, "size": big, **artifact}])
            store.insert_artifacts(tx, [{"id": art, "size": 1, **artifact}])  # known: kept
            store.insert_lineage(
                tx, [{"step_run_id": step_a, "direction": "out", "name": "a", "artifact_id": art},
                     {"step_run_id": step_b, "direction": "in", "name": "a", "artifact_id": art}],
            )  # fmt: skip
            store.insert_cache(
                tx, [{"fingerprint": "f" * 32, "step": "a", "artifact_id": art,
                      "step_run_id": step_a, "created_at": 1.0}],
            )  # fmt: skip
        assert [s.step for s in store.step_runs(run_id)] == ["a", "b"]
        assert store.step_runs(run_id)[1].attempts == 2
        assert store.artifact(art)["size"] == big
        with pytest.raises(NotFoundError):
            store.artifact(_id())
        assert store.lookup_cache("f" * 32) == (art, "json", step_a)
        assert store.lookup_cache("0" * 32) is None
        assert store.lineage_of_run(run_id) == [("a", "out", "a", art), ("b", "in", "a", art)]
        assert store.producers_of(art) == [(run_id, "a")]
        assert store.step_counts([run_id]) == {run_id: {"completed": 1, "failed": 1}}
        assert store.step_counts([]) == {}
        step_c = _id()
        with store.write() as tx:  # a newer producer of the fingerprint replaces the entry
            store.insert_cache(
                tx, [{"fingerprint": "f" * 32, "step": "a", "artifact_id": art,
                      "step_run_id": step_c, "created_at": 2.0}],
            )  # fmt: skip
        assert store.lookup_cache("f" * 32) == (art, "json", step_c)

    def test_file_hashes(self, metadata_store: MetadataStore) -> None:
        mtime_ns = 1_790_000_000_123_456_789  # nanoseconds: past 32 bits
        metadata_store.remember_file_hash("/p/a.csv", 5 * 2**31, mtime_ns, "h1")
        assert metadata_store.file_hash("/p/a.csv", 5 * 2**31, mtime_ns) == "h1"
        assert metadata_store.file_hash("/p/a.csv", 5 * 2**31, mtime_ns + 1) is None
        metadata_store.remember_file_hash("/p/a.csv", 7, mtime_ns + 1, "h2")
        assert metadata_store.file_hash("/p/a.csv", 7, mtime_ns + 1) == "h2"

    # ----------------------------------------------------------------- tracking

    def test_tracking(self, metadata_store: MetadataStore) -> None:
        store = metadata_store
        a, b = _id(), _id()
        for run_id, name in ((a, "search/1"), (b, "search/2")):
            store.create_run(run_id, name=name, kind="trial")
        with store.write() as tx:
            store.log_batch(
                tx,
                params=[(a, "alpha", 0.1), (a, "layers", [1, 2]), (a, "alpha", 0.2)],
                metrics=[(a, "loss", 1.0, 0, 1.0), (a, "loss", 0.5, 1, 2.0),
                         (b, "loss", 0.7, 2**40, 3.0), (a, "acc", 0.9, 0, 4.0)],
                tags=[(a, "note", "ünïcode ✓"), (b, "note", "b")],
            )  # fmt: skip
            store.finish_run(tx, a, status="completed")
            store.finish_run(tx, b, status="completed")
        assert store.params(a) == {"alpha": 0.2, "layers": [1, 2]}
        assert store.tags(a) == {"note": "ünïcode ✓"}
        assert store.metrics(a) == [
            ("loss", 1.0, 0, 1.0), ("loss", 0.5, 1, 2.0), ("acc", 0.9, 0, 4.0)
        ]  # fmt: skip
        assert store.metrics(b) == [("loss", 0.7, 2**40, 3.0)]
        assert store.latest_metrics([a, b]) == {a: {"loss": 0.5, "acc": 0.9}, b: {"loss": 0.7}}
        assert store.latest_metrics([]) == {}
        assert store.tags_of([a, b]) == {a: {"note": "ünïcode ✓"}, b: {"note": "b"}}
        best = store.best_runs(kind="trial", name_prefix="search/", metric="loss", maximize=False)
        assert [r for r, _ in best][:1] == [a]
        assert store.best_runs(kind="trial", name_prefix="x/", metric="loss", maximize=True) == []

    # ----------------------------------------------------------------- registry and audit

    def test_registry_and_audit(self, metadata_store: MetadataStore) -> None:
        store = metadata_store
        with store.write() as tx:
            v1 = store.insert_model_version(
                tx, name="churn", artifact_id="a" * 32, run_id=None,
                signature=[{"name": "x", "type": "float"}], metrics={"auc": 0.8},
                params={"task": "classification"}, description="first",
            )  # fmt: skip
            store.set_alias(tx, "churn", "champion", v1.version)
            store.audit(tx, action="register", object="churn/1", detail={"why": ["a", 1]})
        with store.write() as tx:
            v2 = store.insert_model_version(
                tx, name="churn", artifact_id="b" * 32, run_id="r", signature=[],
                metrics={}, params={},
            )  # fmt: skip
            assert store.alias_version("churn", "champion", tx) == 1
            store.set_alias(tx, "churn", "champion", v2.version)
            store.audit(tx, action="promote", object="churn/2", detail={}, actor="ci")
        assert (v1.version, v2.version) == (1, 2)
        assert store.model_version("churn", 1) == v1
        assert store.model_version("churn", 3) is None
        assert [v.version for v in store.model_versions("churn")] == [1, 2]
        assert [v.name for v in store.model_versions()] == ["churn", "churn"]
        assert store.aliases("churn") == [("churn", "champion", 2)]
        assert store.alias_version("churn", "champion") == 2
        assert store.alias_version("churn", "nope") is None
        events = store.audit_events()
        assert [(e["action"], e["object"]) for e in events] == [
            ("register", "churn/1"), ("promote", "churn/2")
        ]  # fmt: skip
        assert events[0]["detail"] == {"why": ["a", 1]} and events[1]["actor"] == "ci"
        assert len(store.audit_events("churn/2")) == 1

    # ----------------------------------------------------------------- monitoring

    def test_monitor_windows_are_exactly_once(self, metadata_store: MetadataStore) -> None:
        store = metadata_store
        first = store.commit_window(
            model="churn", segments=[("s1", 10), ("s2", 5)], versions=[2, 1, 2], status="ok",
            drifted=[], report_artifact="r" * 32, first_time=1.0, last_time=2.0,
        )  # fmt: skip
        second = store.commit_window(
            model="churn", segments=[("s3", 1)], versions=[2], status="drift",
            drifted=["age"], report_artifact="q" * 32, first_time=None, last_time=None,
        )  # fmt: skip
        assert second > first
        with pytest.raises(StoreError, match="another process"):
            store.commit_window(
                model="churn", segments=[("s4", 1), ("s2", 5)], versions=[2], status="ok",
                drifted=[], report_artifact="z" * 32, first_time=None, last_time=None,
            )  # fmt: skip
        assert store.consumed_segments("churn") == {"s1": first, "s2": first, "s3": second}
        windows = store.windows("churn")
        assert [w["id"] for w in windows] == [second, first]  # nothing of the refused one
        assert windows[1]["rows"] == 15 and windows[1]["versions"] == [1, 2]
        assert windows[0]["drifted"] == ["age"] and windows[0]["status"] == "drift"
        assert store.windows("other") == [] and store.consumed_segments("other") == {}

    # ----------------------------------------------------------------- many writers

    def test_concurrent_registrations_get_distinct_versions(
        self, metadata_store: MetadataStore
    ) -> None:
        import threading

        errors: list[BaseException] = []

        def register() -> None:
            other = MetadataStore(metadata_store.url)
            try:
                for _ in range(5):
                    with other.write() as tx:
                        other.insert_model_version(
                            tx, name="m", artifact_id="a" * 32, run_id=None, signature=[],
                            metrics={}, params={},
                        )  # fmt: skip
            except BaseException as exc:
                errors.append(exc)
            finally:
                other.close()

        threads = [threading.Thread(target=register) for _ in range(4)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        assert not errors, errors
        assert [v.version for v in metadata_store.model_versions("m")] == list(range(1, 21))

    def test_concurrent_writer_processes(self, metadata_store: MetadataStore) -> None:
        if not self.writers:
            pytest.skip("writers = 0")
        check_concurrent_writers(metadata_store.url, processes=self.writers, runs=3, points=50)
