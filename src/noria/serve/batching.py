"""Micro-batching: concurrent requests gathered into one predict call per model version.

Not here: checking a request (:mod:`noria.serve.schema`), predicting
(:mod:`noria.serve.predictor`), the routes (:mod:`noria.serve.app`).
"""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING, Any

import numpy as np

from noria.serve.schema import Columns

if TYPE_CHECKING:
    from noria.serve.metrics import Metrics
    from noria.serve.predictor import Prediction, Predictor

__all__ = ["THREAD_ROWS", "MicroBatcher"]

#: Batches of at least this many rows are predicted in a worker thread, not on the event loop.
THREAD_ROWS = 256


class MicroBatcher:
    """Gathers concurrent requests into one predict call per model version.

    A request's columns, already checked against a predictor's signature, wait on a future; the
    batching task takes everything queued (after ``window_s`` when set, else after one turn of
    the event loop, so requests that arrived together go together), predicts each predictor's
    share in one call of at most ``max_rows`` rows, and hands each request its slice.
    """

    def __init__(self, metrics: Metrics, max_rows: int, window_s: float) -> None:
        self.metrics = metrics
        self.max_rows = max_rows
        self.window_s = window_s
        self._pending: list[tuple[Predictor, Columns, asyncio.Future[Any]]] = []
        self._wake: asyncio.Event | None = None
        self._task: asyncio.Task[None] | None = None
        self._executor: Any = None

    async def submit(self, predictor: Predictor, columns: Columns) -> Prediction:
        """Predict ``columns`` with ``predictor``, batched with concurrent requests."""
        loop = asyncio.get_running_loop()
        if self._task is None:
            self._wake = asyncio.Event()
            self._task = loop.create_task(self._run())
        future: asyncio.Future[Any] = loop.create_future()
        self._pending.append((predictor, columns, future))
        assert self._wake is not None
        self._wake.set()
        return await future

    async def _run(self) -> None:
        assert self._wake is not None
        while True:
            await self._wake.wait()
            self._wake.clear()
            await asyncio.sleep(self.window_s)
            while self._pending:
                batch, rows = [], 0
                first = self._pending[0][0]
                rest = []
                for item in self._pending:
                    if item[0] is first and (rows + item[1].n <= self.max_rows or not batch):
                        batch.append(item)
                        rows += item[1].n
                    else:
                        rest.append(item)
                self._pending = rest
                await self._predict(first, batch, rows)

    async def _predict(
        self,
        predictor: Predictor,
        batch: list[tuple[Predictor, Columns, asyncio.Future[Any]]],
        rows: int,
    ) -> None:
        if len(batch) == 1:
            columns = batch[0][1]
        else:
            names = list(batch[0][1].values)
            columns = Columns(
                {k: np.concatenate([b[1].values[k] for b in batch]) for k in names}, rows
            )
        try:
            if rows >= THREAD_ROWS:
                if self._executor is None:
                    from concurrent.futures import ThreadPoolExecutor

                    self._executor = ThreadPoolExecutor(1, thread_name_prefix="noria-predict")
                loop = asyncio.get_running_loop()
                result = await loop.run_in_executor(self._executor, predictor.predict, columns)
            else:
                result = predictor.predict(columns)
        except Exception as exc:
            for _, _, future in batch:
                if not future.done():
                    future.set_exception(exc)
            return
        self.metrics.batch(rows)
        if len(batch) == 1:
            if not batch[0][2].done():
                batch[0][2].set_result(result)
            return
        from noria.serve.predictor import Prediction

        start = 0
        for _, cols, future in batch:
            end = start + cols.n
            proba = result.probabilities
            part = Prediction(
                result.predictions[start:end], None if proba is None else proba[start:end]
            )
            if not future.done():
                future.set_result(part)
            start = end
