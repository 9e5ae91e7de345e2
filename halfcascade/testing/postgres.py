"""A throwaway PostgreSQL server for tests and benchmarks.

:class:`TemporaryPostgres` creates a cluster in a temporary folder with the server binaries
of the Debian package ``postgresql`` (``/usr/lib/postgresql/<version>/bin``), starts it on a
free loopback port with trust authentication, and removes it on exit. It can be stopped
and started again mid-test to simulate an outage::

    with TemporaryPostgres() as pg:            # or: async with TemporaryPostgres() as pg
        store = PostgresMemoryStore(pg.dsn)
        await pg.astop()                       # the store is now unavailable
        await pg.astart()                      # same port, same data

PostgreSQL refuses to run as root: as root the server runs as the ``postgres`` system user
(created by the Debian package) through ``runuser``.
"""

from __future__ import annotations

import asyncio
import glob
import os
import pwd
import shutil
import socket
import subprocess
import tempfile
from pathlib import Path

from ..errors import ConfigError

__all__ = ["TemporaryPostgres", "find_postgres_bin", "postgres_unavailable_reason"]

_INSTALL_HINT = "install the Debian package `postgresql` (apt-get install postgresql)"


def find_postgres_bin() -> Path | None:
    """The newest ``/usr/lib/postgresql/*/bin`` with ``initdb`` and ``pg_ctl``, if any."""
    found = []
    for initdb in glob.glob("/usr/lib/postgresql/*/bin/initdb"):
        bindir = Path(initdb).parent
        if (bindir / "pg_ctl").exists():
            try:
                found.append((int(bindir.parent.name), bindir))
            except ValueError:
                continue
    if found:
        return max(found)[1]
    on_path = shutil.which("initdb")
    return Path(on_path).parent if on_path and shutil.which("pg_ctl") else None


def postgres_unavailable_reason() -> str | None:
    """Why :class:`TemporaryPostgres` cannot run here, or ``None`` if it can."""
    if find_postgres_bin() is None:
        return f"PostgreSQL server binaries not found: {_INSTALL_HINT}"
    if os.geteuid() == 0:
        try:
            pwd.getpwnam("postgres")
        except KeyError:
            return f"running as root and there is no `postgres` user: {_INSTALL_HINT}"
        if shutil.which("runuser") is None:
            return "running as root and `runuser` (util-linux) is missing"
    return None


class TemporaryPostgres:
    """A private PostgreSQL cluster on ``127.0.0.1:<free port>``; see the module docstring.

    Args:
        settings: extra server settings (``{"fsync": "off"}`` for faster, unsafe tests).
        start_timeout: seconds to wait for the server to accept connections.
    """

    def __init__(
        self, *, settings: dict[str, str] | None = None, start_timeout: float = 30.0
    ) -> None:
        self._settings = dict(settings or {})
        self._timeout = start_timeout
        self._dir: Path | None = None
        self._port = 0
        self._running = False

    @property
    def dsn(self) -> str:
        """``postgresql://postgres@127.0.0.1:<port>/postgres``."""
        if self._dir is None:
            raise RuntimeError("TemporaryPostgres is not set up: use `with` or call setup()")
        return f"postgresql://postgres@127.0.0.1:{self._port}/postgres"

    @property
    def running(self) -> bool:
        """Whether the server is currently started."""
        return self._running

    def setup(self) -> TemporaryPostgres:
        """Create the cluster and start it (blocking)."""
        if (reason := postgres_unavailable_reason()) is not None:
            raise ConfigError(f"TemporaryPostgres: {reason}")
        self._dir = Path(tempfile.mkdtemp(prefix="halfcascade-pg-"))
        if os.geteuid() == 0:
            user = pwd.getpwnam("postgres")
            os.chown(self._dir, user.pw_uid, user.pw_gid)
        self._port = _free_port()
        self._run(
            "initdb",
            "-D",
            str(self._dir / "data"),
            "-U",
            "postgres",
            "--auth=trust",
            "-E",
            "UTF8",
            "--no-sync",
            "--no-instructions",
        )
        self.start()
        return self

    def start(self) -> None:
        """Start (or restart) the server on the same port and data (blocking)."""
        assert self._dir is not None, "call setup() first"
        options = [
            f"-p {self._port}",
            "-c listen_addresses=127.0.0.1",
            f"-k {self._dir}",
            *(f"-c {k}={v}" for k, v in self._settings.items()),
        ]
        self._run(
            "pg_ctl",
            "-D",
            str(self._dir / "data"),
            "-l",
            str(self._dir / "server.log"),
            "-w",
            "-t",
            str(int(self._timeout)),
            "-o",
            " ".join(options),
            "start",
        )
        self._running = True

    def stop(self) -> None:
        """Stop the server now, disconnecting clients (blocking)."""
        if self._dir is None or not self._running:
            return
        self._run("pg_ctl", "-D", str(self._dir / "data"), "-m", "fast", "-w", "stop")
        self._running = False

    def teardown(self) -> None:
        """Stop the server and delete the cluster."""
        try:
            self.stop()
        finally:
            if self._dir is not None:
                shutil.rmtree(self._dir, ignore_errors=True)
                self._dir = None

    async def astart(self) -> None:
        """:meth:`start` without blocking the event loop."""
        await asyncio.to_thread(self.start)

    async def astop(self) -> None:
        """:meth:`stop` without blocking the event loop."""
        await asyncio.to_thread(self.stop)

    def __enter__(self) -> TemporaryPostgres:
        return self.setup()

    def __exit__(self, *exc: object) -> None:
        self.teardown()

    async def __aenter__(self) -> TemporaryPostgres:
        return await asyncio.to_thread(self.setup)

    async def __aexit__(self, *exc: object) -> None:
        await asyncio.to_thread(self.teardown)

    def _run(self, tool: str, *args: str) -> None:
        bindir = find_postgres_bin()
        assert bindir is not None
        cmd = [str(bindir / tool), *args]
        if os.geteuid() == 0:
            cmd = ["runuser", "-u", "postgres", "--", *cmd]
        done = subprocess.run(cmd, capture_output=True, text=True, timeout=self._timeout + 30)
        if done.returncode != 0:
            log = self._log_tail()
            raise ConfigError(
                f"TemporaryPostgres: {tool} failed ({done.returncode}): "
                f"{done.stderr.strip() or done.stdout.strip()}{log}"
            )

    def _log_tail(self) -> str:
        log = self._dir / "server.log" if self._dir else None
        if log is None or not log.exists():
            return ""
        return "\nserver log:\n" + "\n".join(log.read_text(errors="replace").splitlines()[-10:])


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])
