"""The ``ray`` executor: each step a Ray task on a cluster, placed by its resources.

``noria.yaml``::

    executor: ray
    ray:
      address: auto          # auto | ray://HOST:10001 | HOST:6379 | null (a local Ray for the run)

- Every step runs as a Ray task with its ``@noria.step(resources=...)`` (``cpu``: 1 by
  default, ``gpu``, ``memory``, custom resources of the cluster).
- The worker loads the inputs it needs from the artifact store and writes its output there
  itself; only the outcome (artifact id, logs, timings) comes back to the driver, which records
  the metadata. So the store must be reachable from every node at the same URL or path (a local
  cluster on this machine shares the project's folder; a real cluster needs a shared file system
  or an object store such as ``s3://``).
- Ray is imported and connected on the first step that must run: a rerun whose steps are all
  cached never touches the cluster. The address is checked when the executor is made, before
  anything runs: an unreachable one is a one-line :class:`~noria.errors.ConfigError`.
- A worker or node lost mid-step (killed, out of memory, a node gone) is not the step's fault:
  the task is submitted again, up to ``max_retries`` times, and each lost start counts in the
  step's ``attempts``. A step's own exceptions follow its ``retries`` as on every executor.
"""

from __future__ import annotations

import concurrent.futures as cf
import contextlib
import importlib.util
import logging
import os
import socket
import sys
import threading
from collections.abc import Mapping
from typing import Any

from noria.errors import ConfigError, NoriaError
from noria.pipeline.tasks import Outcome, Task, pack, run_packed

__all__ = ["RayExecutor", "resolve_address"]

#: The address of a local Ray started for a run (Linux): on the loopback.
LOCAL_NODE_IP = "127.0.0.2"

#: Seconds to wait for a TCP answer when checking ``ray.address``.
CONNECT_TIMEOUT_S = 3.0

_FIX = (
    "start a cluster with `ray start --head`, fix ray.address in noria.yaml, or leave it out to "
    "start a local Ray for the run"
)


def _address_file() -> str:
    """Where ``ray start`` writes the address of the newest cluster (as Ray itself reads it)."""
    tmp = os.environ.get("RAY_TMPDIR") or os.environ.get("TMPDIR") or "/tmp"
    return os.path.join(tmp, "ray", "ray_current_cluster")


def resolve_address(address: str | None) -> str | None:
    """The address ``ray.init`` will use; ``None`` for a local Ray started for the run.

    ``auto`` is resolved as Ray does: ``RAY_ADDRESS``, else the cluster that the last
    ``ray start`` on this machine wrote down.

    Raises:
        ConfigError: ``auto`` finds no cluster.
    """
    if address is None or address.strip() in ("", "local"):
        return None
    address = address.strip()
    if address != "auto":
        return address
    found = os.environ.get("RAY_ADDRESS", "").strip()
    if found and found != "auto":
        return found
    try:
        with open(_address_file()) as fh:
            found = fh.read().strip()
    except OSError:
        found = ""
    if not found:
        raise ConfigError(
            "ray.address: 'auto' found no running Ray cluster (RAY_ADDRESS is unset and "
            f"{_address_file()} does not exist); {_FIX}"
        )
    return found


def _host_port(address: str) -> tuple[str, int]:
    rest = address.split("://", 1)[1] if "://" in address else address
    rest = rest.split("/", 1)[0]
    host, sep, port = rest.rpartition(":")
    if not sep or not port.isdigit():
        if address.startswith("ray://"):
            return rest, 10001
        raise ConfigError(
            f"ray.address: '{address}' is not an address; write auto, ray://HOST:PORT or HOST:PORT"
        )
    return host.strip("[]") or "127.0.0.1", int(port)


def check_reachable(address: str) -> None:
    """Raise a one-line :class:`ConfigError` unless something answers at ``address``."""
    host, port = _host_port(address)
    try:
        with socket.create_connection((host, port), timeout=CONNECT_TIMEOUT_S):
            pass
    except OSError as exc:
        reason = exc.strerror or type(exc).__name__
        if isinstance(exc, socket.timeout):
            reason = f"no answer in {CONNECT_TIMEOUT_S:g} s"
        message = f"ray.address: cannot reach Ray at {address} ({reason}); {_FIX}"
        raise ConfigError(message) from None


def _ray_options(task: Task) -> dict[str, Any]:
    """Ray's task options from the step's resources (``cpu`` 1 by default)."""
    needs = dict(task.step.resources)
    options: dict[str, Any] = {"num_cpus": needs.pop("cpu", 1.0), "max_retries": 0}
    if "gpu" in needs:
        options["num_gpus"] = needs.pop("gpu")
    if "memory" in needs:
        options["memory"] = int(needs.pop("memory"))
    if needs:
        options["resources"] = needs
    return options


def _lost_errors() -> tuple[type[BaseException], ...]:
    import ray.exceptions as rex

    return (
        rex.WorkerCrashedError,
        rex.NodeDiedError,
        rex.LocalRayletDiedError,
        rex.ObjectLostError,
        rex.OutOfMemoryError,
    )


class RayExecutor:
    """Steps as Ray tasks (see the module's docstring).

    Args:
        max_workers: the CPUs of a local Ray started for the run (when ``num_cpus`` is not
            given); ignored on an existing cluster, where Ray places tasks by resources.
        address: ``auto``, ``ray://HOST:PORT``, ``HOST:PORT``; ``None`` starts a local Ray.
        num_cpus: the CPUs of a local Ray started for the run; 2 by default (or
            ``max_workers``).
        max_retries: submissions again of a task whose worker or node was lost.

    Raises:
        ConfigError: Ray is not installed, a setting is wrong, or the address is unreachable.
    """

    name = "ray"
    in_process = False

    def __init__(
        self,
        max_workers: int | None = None,
        *,
        address: str | None = None,
        num_cpus: int | None = None,
        max_retries: int = 3,
    ) -> None:
        if importlib.util.find_spec("ray") is None:
            raise ConfigError(
                "executor: ray needs Ray, which is not installed: pip install 'noria[ray]' "
                "(or choose executor: local)"
            )
        if num_cpus is not None and num_cpus < 1:
            raise ConfigError(f"ray.num_cpus must be >= 1, got {num_cpus}")
        if max_retries < 0:
            raise ConfigError(f"ray.max_retries must be >= 0, got {max_retries}")
        self.address = resolve_address(address)
        if self.address is not None:
            check_reachable(self.address)
        self.num_cpus = num_cpus or max_workers or 2
        self.max_retries = max_retries
        self._lock = threading.Lock()
        self._remote: Any = None
        self._owns_connection = False
        self._in_flight: dict[int, Any] = {}  # id(outer future) -> the ObjectRef running it
        self._closed = False

    # -- connection

    def _start(self) -> Any:
        with self._lock:
            if self._remote is not None:
                return self._remote
            import ray

            if not ray.is_initialized():
                common: dict[str, Any] = {
                    "logging_level": logging.WARNING,
                    "configure_logging": True,
                }
                try:
                    if self.address is None:
                        if sys.platform.startswith("linux"):
                            # One machine: Ray talks to itself on the loopback, not on the
                            # machine's network address (127.0.0.1 it would replace by that).
                            common["_node_ip_address"] = LOCAL_NODE_IP
                        ray.init(
                            address="local",
                            num_cpus=self.num_cpus,
                            include_dashboard=False,
                            **common,
                        )
                    else:
                        ray.init(address=self.address, **common)
                except Exception as exc:
                    where = self.address or "a local Ray"
                    raise NoriaError(f"ray: cannot connect to {where}: {exc}") from exc
                self._owns_connection = True
            self._remote = ray.remote(run_packed)
            return self._remote

    def _check_feasible(self, task: Task, options: Mapping[str, Any]) -> None:
        """Fail at once a step that no node of the cluster could ever hold (else Ray waits)."""
        import ray

        wanted = {"CPU": options["num_cpus"], "GPU": options.get("num_gpus", 0)}
        wanted["memory"] = options.get("memory", 0)
        wanted.update(options.get("resources", {}))
        wanted = {k: v for k, v in wanted.items() if v}
        nodes = [n.get("Resources", {}) for n in ray.nodes() if n.get("Alive")]
        if any(all(node.get(k, 0) >= v for k, v in wanted.items()) for node in nodes):
            return
        asked = ", ".join(f"{k}={v:g}" for k, v in wanted.items())
        largest = ", ".join(f"{k}={max((n.get(k, 0) for n in nodes), default=0):g}" for k in wanted)
        raise ConfigError(
            f"step '{task.step.name}' asks for {asked} but no node of the Ray cluster has that "
            f"much (the most on one node: {largest}); lower its resources or add a node"
        )

    # -- the protocol

    def submit(self, task: Task) -> cf.Future[Outcome]:
        """Run ``task`` as a Ray task (connecting on the first call)."""
        if self._closed:
            raise NoriaError("ray executor: submit after shutdown")
        remote = self._start()
        options = _ray_options(task)
        if task.step.resources:
            self._check_feasible(task, options)
        outer: cf.Future[Outcome] = cf.Future()
        self._launch(remote.options(**options), pack(task), outer, lost=0)
        return outer

    def _launch(self, remote: Any, blob: bytes, outer: cf.Future[Outcome], lost: int) -> None:
        ref = remote.remote(blob)
        with self._lock:
            self._in_flight[id(outer)] = ref
        ref.future().add_done_callback(lambda inner: self._landed(inner, remote, blob, outer, lost))

    def _landed(
        self, inner: cf.Future[Any], remote: Any, blob: bytes, outer: cf.Future[Outcome], lost: int
    ) -> None:
        with self._lock:
            self._in_flight.pop(id(outer), None)
        try:
            outcome = inner.result()
        except _lost_errors() as exc:
            if lost < self.max_retries and not self._closed:
                try:
                    self._launch(remote, blob, outer, lost + 1)
                    return
                except Exception as again:
                    outer.set_exception(again)
                    return
            outer.set_exception(exc)
            return
        except BaseException as exc:
            outer.set_exception(exc)
            return
        if lost:
            outcome.attempts += lost
        outer.set_result(outcome)

    def shutdown(self) -> None:
        """Cancel the tasks still running and disconnect (a local Ray it started stops)."""
        if self._closed:
            return
        self._closed = True
        if self._remote is None:
            return
        import ray

        with self._lock:
            refs = list(self._in_flight.values())
            self._in_flight.clear()
        for ref in refs:
            with contextlib.suppress(Exception):  # already finished, or the cluster is gone
                ray.cancel(ref, force=True)
        if self._owns_connection and ray.is_initialized():
            ray.shutdown()
        self._remote = None
