"""A throwaway Ray cluster on the loopback for tests: a head and more nodes, through ``ray start``.

Each node is ``ray start --block`` in a session of its own, so that stopping the cluster ends
exactly the processes it started (the node's daemons and workers), never another Ray on the
machine as ``ray stop`` would. Every port is chosen free, so two nodes share one machine, and
the cluster's files live in a temporary folder (not ``/tmp/ray``)::

    with local_ray_cluster(nodes=2, cpus_per_node=1) as cluster:
        executor = create_executor("ray", settings={"address": cluster.address})

Raises :class:`RayUnavailable` when Ray is not installed, which a test turns into a skip.
"""

from __future__ import annotations

import contextlib
import importlib.util
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path

__all__ = ["LocalRayCluster", "RayUnavailable", "local_ray_cluster", "wait_for_nodes"]


#: The nodes' address: on the loopback, but not 127.0.0.1, which Ray replaces by the machine's
#: network address (traffic would then leave the loopback).
HOST = "127.0.0.2"


#: Ray settings for a busy machine: a node that misses its health checks for a while (the
#: machine's cores taken by something else) is not declared dead.
TOLERANT = {
    "RAY_health_check_period_ms": "5000",
    "RAY_health_check_timeout_ms": "30000",
    "RAY_health_check_failure_threshold": "24",
}


class RayUnavailable(RuntimeError):
    """Ray cannot be started here (it is not installed)."""


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _session_members(sid: int) -> list[int]:
    """The processes of session ``sid`` (Linux: field 6 of /proc/PID/stat)."""
    members = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat") as fh:
                stat = fh.read()
        except OSError:
            continue
        fields = stat[stat.rfind(")") + 2 :].split()
        if len(fields) > 3 and int(fields[3]) == sid:
            members.append(int(entry))
    return members


def _stop_session(leader: subprocess.Popen[bytes], grace: float = 10.0) -> None:
    """End every process of the session that ``leader`` leads: SIGTERM, then SIGKILL."""
    sid = leader.pid
    for sig, wait in ((signal.SIGTERM, grace), (signal.SIGKILL, 5.0)):
        members = _session_members(sid)
        for pid in members:
            with contextlib.suppress(OSError):
                os.kill(pid, sig)
        deadline = time.monotonic() + wait
        while time.monotonic() < deadline:
            with contextlib.suppress(Exception):
                leader.wait(0.05)
            if not _session_members(sid):
                return
            time.sleep(0.1)
    with contextlib.suppress(Exception):
        leader.wait(1)


@dataclass
class LocalRayCluster:
    """A running local Ray cluster.

    Attributes:
        address: the head's GCS address (``127.0.0.2:PORT``), for ``ray.address``.
        folder: the cluster's temporary folder (its logs are under ``session_latest/logs``).
        nodes: the ``ray start --block`` process of each node, the head first.
    """

    address: str
    folder: Path
    nodes: list[subprocess.Popen[bytes]] = field(default_factory=list)

    def logs(self) -> Path:
        """The folder of the head's session logs."""
        return self.folder / "session_latest" / "logs"

    def wait_for_nodes(self, timeout: float = 300.0) -> None:
        """Wait until every node is alive in the cluster (``ray.init`` done in this process).

        Raises:
            TimeoutError: not in time, with what each node's ``ray start`` said last.
        """
        try:
            wait_for_nodes(len(self.nodes), timeout)
        except TimeoutError as exc:
            said = []
            for index, proc in enumerate(self.nodes):
                out = self.folder / f"node{index}.out"
                tail = out.read_text(errors="replace")[-800:] if out.exists() else ""
                said.append(f"node {index} (exit {proc.poll()}): {tail}")
            raise TimeoutError(f"{exc}\n" + "\n".join(said)) from None


def _ray_cli() -> list[str]:
    return [sys.executable, "-c", "from ray.scripts.scripts import main; main()"]


def _node_args(cpus: int, resources: Mapping[str, float] | None) -> list[str]:
    args = [
        f"--num-cpus={cpus}",
        "--num-gpus=0",
        "--block",
        "--disable-usage-stats",
        f"--node-manager-port={_free_port()}",
        f"--object-manager-port={_free_port()}",
        f"--metrics-export-port={_free_port()}",
        f"--dashboard-agent-listen-port={_free_port()}",
        f"--dashboard-agent-grpc-port={_free_port()}",
        f"--runtime-env-agent-port={_free_port()}",
        "--object-store-memory=80000000",
    ]
    if resources:
        args.append(f"--resources={json.dumps(dict(resources))}")
    return args


def _wait_port(port: int, node: subprocess.Popen[bytes], timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if node.poll() is not None:
            raise RuntimeError(f"ray start exited with {node.returncode} before it listened")
        with contextlib.suppress(OSError), socket.create_connection((HOST, port), 1):
            return
        time.sleep(0.2)
    raise TimeoutError(f"the Ray head did not listen on {port} within {timeout:g} s")


@contextlib.contextmanager
def local_ray_cluster(
    *,
    nodes: int = 2,
    cpus_per_node: int = 1,
    env: Mapping[str, str] | None = None,
    node_env: Mapping[int, Mapping[str, str]] | None = None,
    node_resources: Mapping[int, Mapping[str, float]] | None = None,
    timeout: float = 180.0,
) -> Iterator[LocalRayCluster]:
    """Start a head and ``nodes - 1`` more nodes on the loopback; stop them all at the end.

    Args:
        nodes: nodes in all, the head included.
        cpus_per_node: the CPUs each node offers.
        env: environment variables for every node (e.g. ``PYTHONPATH``), over this one's.
        node_env: more variables per node index (0 is the head).
        node_resources: custom resources per node index.
        timeout: seconds to wait for the head to listen.

    Raises:
        RayUnavailable: Ray is not installed.
    """
    if importlib.util.find_spec("ray") is None:
        raise RayUnavailable("Ray is not installed: pip install 'noria[ray]'")
    folder = Path(tempfile.mkdtemp(prefix="nray", dir="/tmp"))  # short: socket paths
    port = _free_port()
    address = f"{HOST}:{port}"
    cluster = LocalRayCluster(address, folder)
    base = {**os.environ, **TOLERANT, **(env or {}), "RAY_TMPDIR": str(folder)}
    base.pop("RAY_ADDRESS", None)
    try:
        for index in range(nodes):
            node_environment = {**base, **((node_env or {}).get(index) or {})}
            extra = (node_resources or {}).get(index)
            if index == 0:
                args = [
                    "start",
                    "--head",
                    f"--node-ip-address={HOST}",
                    f"--port={port}",
                    f"--ray-client-server-port={_free_port()}",
                    "--include-dashboard=false",
                    f"--temp-dir={folder}",
                ]
            else:
                args = ["start", f"--address={address}", f"--node-ip-address={HOST}"]
            log = open(folder / f"node{index}.out", "wb")  # noqa: SIM115 (kept open by the node)
            proc = subprocess.Popen(
                [*_ray_cli(), *args, *_node_args(cpus_per_node, extra)],
                env=node_environment,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
            log.close()
            cluster.nodes.append(proc)
            if index == 0:
                _wait_port(port, proc, timeout)
        yield cluster
    finally:
        for proc in reversed(cluster.nodes):
            _stop_session(proc)
        shutil.rmtree(folder, ignore_errors=True)


def wait_for_nodes(count: int, timeout: float = 300.0) -> None:
    """Wait until the connected cluster (``ray.init`` done) has ``count`` live nodes."""
    import ray

    deadline = time.monotonic() + timeout
    alive = dead = 0
    while time.monotonic() < deadline:
        nodes = ray.nodes()
        alive = sum(1 for n in nodes if n.get("Alive"))
        dead = len(nodes) - alive
        if alive >= count:
            return
        time.sleep(0.5)
    raise TimeoutError(
        f"{alive} of {count} Ray nodes alive ({dead} declared dead) within {timeout:g} s"
    )
