"""Throwaway servers on 127.0.0.1 for tests: PostgreSQL (``initdb`` + ``pg_ctl``) and an
S3-compatible server (moto's server mode).

Each is a context manager that starts the server in a temporary folder on an ephemeral port,
yields where to reach it, and stops it (and removes the folder) at the end. A missing program
raises :class:`ServerUnavailable` with the reason, which a test turns into a skip.

PostgreSQL refuses to run as root: as root, the server runs as the ``postgres`` user (Debian's
package makes one), or ``nobody``.
"""

from __future__ import annotations

import contextlib
import glob
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

__all__ = ["LocalPostgres", "LocalS3", "ServerUnavailable", "local_postgres", "local_s3"]


class ServerUnavailable(RuntimeError):
    """The server cannot be started here (a program or a package is missing)."""


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def postgres_bin() -> Path:
    """The folder of ``initdb`` and ``pg_ctl`` (Debian's newest, or on ``PATH``).

    Raises:
        ServerUnavailable: PostgreSQL's server programs are not installed.
    """
    found = sorted(
        glob.glob("/usr/lib/postgresql/*/bin/initdb"), key=lambda p: int(p.split("/")[4])
    )
    if found:
        return Path(found[-1]).parent
    initdb = shutil.which("initdb")
    if initdb:
        return Path(initdb).parent
    raise ServerUnavailable(
        "PostgreSQL's server programs (initdb, pg_ctl) are not installed: "
        "apt-get install postgresql"
    )


@dataclass(frozen=True)
class LocalPostgres:
    """A running throwaway PostgreSQL server.

    Attributes:
        host, port: where it listens.
        user, password: its superuser.
        folder: its data and socket folder.
    """

    host: str
    port: int
    user: str
    password: str
    folder: Path

    def url(self, database: str = "postgres", *, password: str | None = None) -> str:
        """A SQLAlchemy URL (psycopg 3) of ``database`` on this server."""
        secret = self.password if password is None else password
        return f"postgresql+psycopg://{self.user}:{secret}@{self.host}:{self.port}/{database}"

    def create_database(self, name: str) -> str:
        """Create an empty database and return its URL."""
        self.sql(f'CREATE DATABASE "{name}"')
        return self.url(name)

    def restart(self) -> None:
        """Restart the server (fast shutdown: open connections are dropped)."""
        ids = _demote()
        subprocess.run(
            [
                str(postgres_bin() / "pg_ctl"),
                "-D",
                str(self.folder / "data"),
                "-l",
                str(self.folder / "log"),  # not our pipes: the server outlives pg_ctl
                "-m",
                "fast",
                "-w",
                "restart",
            ],
            preexec_fn=(lambda: (os.setgid(ids[1]), os.setuid(ids[0]))) if ids else None,
            capture_output=True,
            check=True,
        )

    def sql(self, statement: str) -> None:
        """Run one statement as the superuser, outside a transaction."""
        import psycopg

        with psycopg.connect(
            host=self.host,
            port=self.port,
            user=self.user,
            password=self.password,
            dbname="postgres",
            autocommit=True,
        ) as conn:
            conn.execute(statement)  # type: ignore[arg-type]


def _demote() -> tuple[int, int] | None:
    """``(uid, gid)`` to run PostgreSQL as when this process is root, else ``None``."""
    if os.geteuid() != 0:
        return None
    import pwd

    for name in ("postgres", "nobody"):
        try:
            entry = pwd.getpwnam(name)
        except KeyError:
            continue
        return entry.pw_uid, entry.pw_gid
    raise ServerUnavailable("running as root and there is no postgres or nobody user")


@contextlib.contextmanager
def local_postgres(*, fsync: bool = False, timeout: float = 60.0) -> Iterator[LocalPostgres]:
    """Start a PostgreSQL server on 127.0.0.1 and an ephemeral port; stop it at the end.

    Args:
        fsync: flush to disk as a production server does (off: faster tests).
        timeout: seconds to wait for it to start.

    Raises:
        ServerUnavailable: PostgreSQL is not installed, or did not start (with its log).
    """
    bin_dir = postgres_bin()
    ids = _demote()
    folder = Path(tempfile.mkdtemp(prefix="noria-pg-"))
    user, password = "noria", "noria-test-password"
    port = free_port()

    def as_server() -> None:  # runs in the child, before exec
        if ids is not None:
            os.setgid(ids[1])
            os.setuid(ids[0])

    try:
        (folder / "pw").write_text(password + "\n")
        if ids is not None:
            for path in (folder, folder / "pw"):
                os.chown(path, ids[0], ids[1])
        done = subprocess.run(
            [
                str(bin_dir / "initdb"),
                "-D",
                str(folder / "data"),
                "-U",
                user,
                f"--pwfile={folder / 'pw'}",
                "--auth=scram-sha-256",
                "--no-sync",
                "-E",
                "UTF8",
                "--locale=C",
            ],
            preexec_fn=as_server,
            capture_output=True,
            text=True,
        )
        if done.returncode != 0:
            raise ServerUnavailable(f"initdb failed: {done.stderr.strip()[-500:]}")
        options = f"-p {port} -h 127.0.0.1 -k {folder} -c max_connections=200"
        if not fsync:
            options += " -F -c synchronous_commit=off -c full_page_writes=off"
        done = subprocess.run(
            [
                str(bin_dir / "pg_ctl"),
                "-D",
                str(folder / "data"),
                "-o",
                options,
                "-l",
                str(folder / "log"),
                "-w",
                "-t",
                str(int(timeout)),
                "start",
            ],
            preexec_fn=as_server,
            capture_output=True,
            text=True,
        )
        if done.returncode != 0:
            log = (folder / "log").read_text() if (folder / "log").exists() else ""
            raise ServerUnavailable(f"PostgreSQL did not start: {done.stderr.strip()} {log[-500:]}")
        try:
            yield LocalPostgres("127.0.0.1", port, user, password, folder)
        finally:
            subprocess.run(
                [str(bin_dir / "pg_ctl"), "-D", str(folder / "data"), "-m", "immediate", "stop"],
                preexec_fn=as_server,
                capture_output=True,
            )
    finally:
        shutil.rmtree(folder, ignore_errors=True)


@dataclass(frozen=True)
class LocalS3:
    """A running S3-compatible server (moto) with credentials that it accepts.

    Attributes:
        endpoint: ``http://127.0.0.1:PORT``.
        key, secret: an access key the server knows.
    """

    endpoint: str
    key: str
    secret: str

    def env(self) -> dict[str, str]:
        """The standard AWS variables that point a client (and noria) at this server."""
        return {
            "AWS_ENDPOINT_URL": self.endpoint,
            "AWS_ACCESS_KEY_ID": self.key,
            "AWS_SECRET_ACCESS_KEY": self.secret,
            "AWS_DEFAULT_REGION": "us-east-1",
        }

    def client(self, endpoint: str | None = None) -> object:
        """A boto3 S3 client of this server (``endpoint``: through a proxy)."""
        import boto3

        return boto3.client(
            "s3",
            endpoint_url=endpoint or self.endpoint,
            aws_access_key_id=self.key,
            aws_secret_access_key=self.secret,
            region_name="us-east-1",
        )


@contextlib.contextmanager
def local_s3(*, timeout: float = 60.0) -> Iterator[LocalS3]:
    """Start moto's S3 server on 127.0.0.1 with access control on; stop it at the end.

    Requests are checked against moto's IAM: the yielded key may do anything on S3, any other
    key is refused (``InvalidAccessKeyId``), as a real server would.

    Raises:
        ServerUnavailable: ``moto[server]`` (or boto3) is not installed, or it did not start.
    """
    try:
        import boto3
        import moto.server  # noqa: F401
    except ImportError as exc:
        raise ServerUnavailable(
            f"moto's server is not installed ({exc}): pip install 'moto[server]'"
        ) from None
    port = free_port()
    endpoint = f"http://127.0.0.1:{port}"
    # the first 3 requests need no credentials: they make the user, its policy and its key
    env = {**os.environ, "INITIAL_NO_AUTH_ACTION_COUNT": "3"}
    proc = subprocess.Popen(
        [sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p", str(port)],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    try:
        deadline = time.monotonic() + timeout
        while True:
            try:
                urllib.request.urlopen(f"{endpoint}/moto-api/", timeout=2).read()
                break
            except OSError:
                if proc.poll() is not None or time.monotonic() > deadline:
                    err = proc.stderr.read().decode(errors="replace") if proc.stderr else ""
                    raise ServerUnavailable(f"moto's server did not start: {err[-500:]}") from None
                time.sleep(0.1)
        import boto3

        iam = boto3.client(
            "iam",
            endpoint_url=endpoint,
            aws_access_key_id="bootstrap",
            aws_secret_access_key="bootstrap",
            region_name="us-east-1",
        )
        iam.create_user(UserName="noria")
        iam.put_user_policy(
            UserName="noria",
            PolicyName="s3",
            PolicyDocument='{"Version": "2012-10-17", "Statement": [{"Effect": "Allow", '
            '"Action": "s3:*", "Resource": "*"}]}',
        )
        made = iam.create_access_key(UserName="noria")["AccessKey"]
        yield LocalS3(endpoint, made["AccessKeyId"], made["SecretAccessKey"])
    finally:
        proc.terminate()
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
