"""Alerts: what a monitor window or the loop found wrong, to the log and to a webhook.

An alert is a small JSON object — ``{"kind", "model", "message", ...}`` — written as one line to
the ``noria.alerts`` logger and, when ``monitor.webhook`` is set, POSTed to that URL as
``application/json`` (one request per alert, 5 s timeout). A webhook that fails never stops the
monitor: the failure comes back as a warning line.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Sequence
from typing import Any

__all__ = ["send_alerts", "window_alerts"]

log = logging.getLogger("noria.alerts")


def window_alerts(window: Any) -> list[dict[str, Any]]:
    """The alerts of a :class:`noria.monitor.monitor.WindowReport`: drift, failed checks."""
    alerts: list[dict[str, Any]] = []
    base = {"model": window.model, "window": window.id, "rows": window.rows}
    if window.drifted:
        reasons = {c: window.drift.columns[c].reason for c in window.drifted}
        alerts.append(
            {
                **base,
                "kind": "drift",
                "columns": reasons,
                "message": f"{window.model} window {window.id}: drift in "
                + "; ".join(f"{c} ({r})" for c, r in reasons.items()),
            }
        )
    errors = [q for q in window.quality if q.get("severity") == "error"]
    if errors:
        alerts.append(
            {
                **base,
                "kind": "data_quality",
                "checks": errors,
                "message": f"{window.model} window {window.id}: {len(errors)} failed check(s): "
                + "; ".join(str(q["message"] or q["check"]) for q in errors[:3]),
            }
        )
    return alerts


def send_alerts(alerts: Sequence[dict[str, Any]], webhook: str | None = None) -> list[str]:
    """Log each alert and POST it to ``webhook``; one warning per failed delivery."""
    import urllib.error
    import urllib.request

    warnings: list[str] = []
    for alert in alerts:
        log.warning(alert["message"])
        if not webhook:
            continue
        body = json.dumps(alert, default=str).encode()
        request = urllib.request.Request(
            webhook, data=body, headers={"Content-Type": "application/json"}, method="POST"
        )
        try:
            with urllib.request.urlopen(request, timeout=5) as response:
                response.read()
        except (urllib.error.URLError, OSError, ValueError) as exc:
            reason = getattr(exc, "reason", exc)
            warnings.append(f"webhook {webhook}: alert not delivered ({reason})")
    return warnings
