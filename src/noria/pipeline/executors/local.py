"""The executors of one machine: threads of the runner's process, or a pool of processes."""

from __future__ import annotations

import concurrent.futures as cf
import os

from noria.pipeline.tasks import Outcome, Task, pack, run_packed, run_task

__all__ = ["LocalExecutor", "ProcessExecutor"]


def _workers(max_workers: int | None) -> int:
    return max_workers or os.cpu_count() or 1


class LocalExecutor:
    """Threads of the runner's process; values pass in memory.

    Args:
        max_workers: threads at most; the number of cores by default.
    """

    name = "local"
    in_process = True

    def __init__(self, max_workers: int | None = None) -> None:
        self.max_workers = _workers(max_workers)
        self._pool: cf.ThreadPoolExecutor | None = None

    def submit(self, task: Task) -> cf.Future[Outcome]:
        """Run ``task`` on a thread of the pool (made on first use)."""
        if self._pool is None:
            self._pool = cf.ThreadPoolExecutor(self.max_workers, thread_name_prefix="noria-step")
        return self._pool.submit(run_task, task)

    def shutdown(self) -> None:
        """Cancel queued tasks and wait for the running ones."""
        if self._pool is not None:
            self._pool.shutdown(wait=True, cancel_futures=True)
            self._pool = None


class ProcessExecutor:
    """A pool of spawned processes; tasks and outcomes are pickled (steps by value).

    Args:
        max_workers: processes at most; the number of cores by default.
    """

    name = "processes"
    in_process = False

    def __init__(self, max_workers: int | None = None) -> None:
        self.max_workers = _workers(max_workers)
        self._pool: cf.ProcessPoolExecutor | None = None

    def submit(self, task: Task) -> cf.Future[Outcome]:
        """Run ``task`` in a process of the pool (started on first use)."""
        if self._pool is None:
            import multiprocessing

            self._pool = cf.ProcessPoolExecutor(
                self.max_workers, mp_context=multiprocessing.get_context("spawn")
            )
        return self._pool.submit(run_packed, pack(task))

    def shutdown(self) -> None:
        """Cancel queued tasks and wait for the running ones."""
        if self._pool is not None:
            self._pool.shutdown(wait=True, cancel_futures=True)
            self._pool = None
