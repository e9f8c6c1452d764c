"""The model server's ``/metrics``: counters and histograms in Prometheus's text format.

:class:`Metrics` counts requests by route and status, their latencies (a fixed-bucket
histogram), predicted rows and predict calls by size, and model swaps; :meth:`Metrics.render`
adds the served version, the signature's unseen-value counts and the prediction log's counters.
No client library: the exposition format is a few lines of text.

Not here: the routes (:mod:`noria.serve.app`).
"""

from __future__ import annotations

import bisect
import time
from typing import TYPE_CHECKING

from noria.serve.schema import input_metrics

if TYPE_CHECKING:
    from noria.predlog import PredictionLog
    from noria.serve.predictor import Predictor

__all__ = ["Metrics"]

#: Upper bounds (seconds) of the latency histogram's buckets.
_BUCKETS = (0.0005, 0.001, 0.002, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0)


class Metrics:
    """Counters and histograms in Prometheus's text format (no client library needed)."""

    def __init__(self) -> None:
        self.requests: dict[tuple[str, int], int] = {}
        self.latency: dict[str, list[int]] = {}
        self.latency_sum: dict[str, float] = {}
        self.rows = 0
        self.batches = 0
        self.batch_rows: list[int] = [0] * 8  # 1, 2-3, 4-7, … 128+
        self.swaps = 0
        self.swap_errors = 0
        self.started = time.time()

    def observe(self, route: str, status: int, seconds: float) -> None:
        """Count one request."""
        key = (route, status)
        self.requests[key] = self.requests.get(key, 0) + 1
        counts = self.latency.get(route)
        if counts is None:
            counts = self.latency[route] = [0] * (len(_BUCKETS) + 1)
            self.latency_sum[route] = 0.0
        counts[bisect.bisect_left(_BUCKETS, seconds)] += 1
        self.latency_sum[route] += seconds

    def batch(self, rows: int) -> None:
        """Count one predict call of ``rows`` rows."""
        self.batches += 1
        self.rows += rows
        self.batch_rows[min(rows.bit_length() - 1, 7)] += 1

    def render(self, predictor: Predictor | None, log: PredictionLog | None) -> str:
        """The exposition text."""
        out = [
            "# HELP noria_requests_total Requests by route and HTTP status.",
            "# TYPE noria_requests_total counter",
        ]
        for (route, status), n in sorted(self.requests.items()):
            out.append(f'noria_requests_total{{route="{route}",status="{status}"}} {n}')
        out += [
            "# HELP noria_request_errors_total Requests answered with a 4xx or 5xx status.",
            "# TYPE noria_request_errors_total counter",
        ]
        errors: dict[str, int] = {}
        for (route, status), n in self.requests.items():
            if status >= 400:
                errors[route] = errors.get(route, 0) + n
        for route, n in sorted(errors.items()):
            out.append(f'noria_request_errors_total{{route="{route}"}} {n}')
        out += [
            "# HELP noria_request_duration_seconds Time from request to response.",
            "# TYPE noria_request_duration_seconds histogram",
        ]
        for route, counts in sorted(self.latency.items()):
            total = 0
            for bound, n in zip((*_BUCKETS, float("inf")), counts, strict=True):
                total += n
                le = "+Inf" if bound == float("inf") else repr(bound)
                out.append(
                    f'noria_request_duration_seconds_bucket{{route="{route}",le="{le}"}} {total}'
                )
            out.append(
                f'noria_request_duration_seconds_sum{{route="{route}"}} '
                f"{self.latency_sum[route]:.6f}"
            )
            out.append(f'noria_request_duration_seconds_count{{route="{route}"}} {total}')
        out += [
            "# TYPE noria_predicted_rows_total counter",
            f"noria_predicted_rows_total {self.rows}",
            "# TYPE noria_predict_batches_total counter",
            f"noria_predict_batches_total {self.batches}",
            "# HELP noria_predict_batch_rows_total Predict calls by rows per call (power of two).",
            "# TYPE noria_predict_batch_rows_total counter",
        ]
        for i, n in enumerate(self.batch_rows):
            label = f"{2**i}+" if i == 7 else f"{2**i}-{2 ** (i + 1) - 1}"
            out.append(f'noria_predict_batch_rows_total{{rows="{label}"}} {n}')
        out += [
            "# TYPE noria_model_swaps_total counter",
            f"noria_model_swaps_total {self.swaps}",
            "# TYPE noria_model_swap_errors_total counter",
            f"noria_model_swap_errors_total {self.swap_errors}",
            "# HELP noria_model_version The version being served.",
            "# TYPE noria_model_version gauge",
        ]
        if predictor is not None:
            out.append(
                f'noria_model_version{{model="{predictor.name}",path="{predictor.path}"}} '
                f"{predictor.version}"
            )
            out += input_metrics(predictor.signature.totals, predictor.name)  # unseen, range
        if log is not None:
            out += log.metrics_lines()  # written, dropped, pending rows; failed writes
        out.append("# TYPE noria_uptime_seconds gauge")
        out.append(f"noria_uptime_seconds {time.time() - self.started:.1f}")
        return "\n".join(out) + "\n"
