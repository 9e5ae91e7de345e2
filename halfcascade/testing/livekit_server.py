"""A real ``livekit-server`` on loopback, for room tests.

::

    async with LiveKitServer() as lk:
        room = rtc.Room()
        await room.connect(lk.url, lk.token("alice", room="test"))

The binary is ``$LIVEKIT_SERVER_BIN``, else ``livekit-server`` on ``PATH``, else
``~/go/bin/server`` (what ``go install github.com/livekit/livekit-server/cmd/server@v1.13.5``
builds). It runs in development mode with a generated config: keys ``devkey``/``secret``
(padded to 32 bytes), signalling on a free port of 127.0.0.1, ICE-TCP and single-port UDP on
free ports, ``node_ip: 127.0.0.1`` with loopback candidates enabled, public STUN off.

Clients (libwebrtc inside the ``livekit`` wheel) do not gather candidates on the loopback
interface itself. On a machine with any other interface they use that address and reach
the server's 127.0.0.1 port, so traffic never leaves the host. In a network namespace with
only ``lo`` they gather nothing and ``Room.connect`` times out (``wait_pc_connection timed
out``); give such a namespace a veth pair (:func:`loopback_namespace`) and it works.
:func:`client_can_connect` probes which case applies.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import shutil
import socket
import subprocess
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import BinaryIO

from livekit import api

from .._service import Service
from ..errors import ConfigError

__all__ = [
    "API_KEY",
    "API_SECRET",
    "LiveKitServer",
    "LiveKitServerUnavailableError",
    "client_can_connect",
    "find_server_binary",
    "loopback_namespace",
]

API_KEY = "devkey"
API_SECRET = "secret-secret-secret-secret-0123"  # livekit wants at least 32 bytes
_START_TIMEOUT = 15.0


class LiveKitServerUnavailableError(ConfigError):
    """No livekit-server binary was found; the message says how to get one."""


def find_server_binary() -> Path | None:
    """The livekit-server binary to use, or ``None``."""
    candidates = [os.environ.get("LIVEKIT_SERVER_BIN"), shutil.which("livekit-server")]
    gopath = os.environ.get("GOPATH") or str(Path.home() / "go")
    candidates.append(str(Path(gopath) / "bin" / "server"))
    for c in candidates:
        if c and Path(c).is_file() and os.access(c, os.X_OK):
            return Path(c)
    return None


def _free_port(kind: int = socket.SOCK_STREAM) -> int:
    with socket.socket(socket.AF_INET, kind) as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


class LiveKitServer(Service):
    """Runs ``livekit-server --dev`` on loopback for the duration of an ``async with``.

    Args:
        binary: the server binary (default: :func:`find_server_binary`).
        log_level: the server's own log level.
    """

    def __init__(self, *, binary: Path | None = None, log_level: str = "warn") -> None:
        found = binary or find_server_binary()
        if found is None:
            raise LiveKitServerUnavailableError(
                "livekit-server not found: set LIVEKIT_SERVER_BIN, or run "
                "`go install github.com/livekit/livekit-server/cmd/server@v1.13.5`"
            )
        self.binary = found
        self._log_level = log_level
        self.port = _free_port()
        self.tcp_port = _free_port()
        self.udp_port = _free_port(socket.SOCK_DGRAM)
        self._dir: tempfile.TemporaryDirectory[str] | None = None
        self._proc: asyncio.subprocess.Process | None = None

    @property
    def url(self) -> str:
        """The signalling URL clients connect to."""
        return f"ws://127.0.0.1:{self.port}"

    @property
    def http_url(self) -> str:
        """The HTTP base URL (room service API)."""
        return f"http://127.0.0.1:{self.port}"

    def config(self) -> str:
        """The YAML config the server runs with."""
        return "\n".join(
            [
                f"port: {self.port}",
                'bind_addresses: ["127.0.0.1"]',
                "development: true",
                f"keys: {{ {API_KEY}: {API_SECRET} }}",
                f"logging: {{ level: {self._log_level} }}",
                "rtc:",
                f"  tcp_port: {self.tcp_port}",
                f"  udp_port: {self.udp_port}",
                "  use_external_ip: false",
                "  node_ip: 127.0.0.1",
                "  enable_loopback_candidate: true",
                '  stun_servers: ["127.0.0.1:3478"]',
                "",
            ]
        )

    async def start(self) -> None:
        """Start the server and wait until it accepts connections."""
        self._dir = tempfile.TemporaryDirectory(prefix="halfcascade-livekit-")
        cfg = Path(self._dir.name) / "livekit.yaml"
        cfg.write_text(self.config())
        log = _open_log(Path(self._dir.name) / "server.log")
        self._proc = await asyncio.create_subprocess_exec(
            str(self.binary), "--config", str(cfg), stdout=log, stderr=subprocess.STDOUT
        )
        log.close()
        try:
            async with asyncio.timeout(_START_TIMEOUT):
                while not await _port_open(self.port):
                    if self._proc.returncode is not None:
                        raise RuntimeError(f"livekit-server exited: {self.log_tail()}")
                    await asyncio.sleep(0.05)
        except BaseException:
            await self.aclose()
            raise

    def log_tail(self, lines: int = 20) -> str:
        """The end of the server's log."""
        if self._dir is None:
            return ""
        path = Path(self._dir.name) / "server.log"
        if not path.exists():
            return ""
        return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])

    def token(
        self,
        identity: str,
        *,
        room: str,
        kind: str | None = None,
        name: str | None = None,
        attributes: dict[str, str] | None = None,
    ) -> str:
        """A join token for ``identity`` in ``room`` (``kind="agent"`` for agents)."""
        tok = (
            api.AccessToken(API_KEY, API_SECRET)
            .with_identity(identity)
            .with_grants(api.VideoGrants(room_join=True, room=room))
        )
        if kind:
            tok = tok.with_kind(kind)  # type: ignore[arg-type]
        if name:
            tok = tok.with_name(name)
        if attributes:
            tok = tok.with_attributes(attributes)
        return tok.to_jwt()

    async def aclose(self) -> None:
        """Stop the server (terminate, then kill after 1 s: a test server need not drain)."""
        proc, self._proc = self._proc, None
        if proc is not None and proc.returncode is None:
            proc.terminate()
            try:
                async with asyncio.timeout(1.0):
                    await proc.wait()
            except TimeoutError:
                proc.kill()
                await proc.wait()
        if self._dir is not None:
            self._dir.cleanup()
            self._dir = None


def _open_log(path: Path) -> BinaryIO:
    return path.open("wb")


async def _port_open(port: int) -> bool:
    try:
        _, writer = await asyncio.open_connection("127.0.0.1", port)
    except OSError:
        return False
    writer.close()
    with contextlib.suppress(OSError):
        await writer.wait_closed()
    return True


async def client_can_connect(server: LiveKitServer, *, within: float = 10.0) -> bool:
    """Whether two ``rtc.Room`` clients here can connect and exchange an RPC via ``server``."""
    from livekit import rtc

    a, b = rtc.Room(), rtc.Room()
    try:
        async with asyncio.timeout(within):
            await a.connect(server.url, server.token("probe-a", room="probe"))
            await b.connect(server.url, server.token("probe-b", room="probe"))
            b.local_participant.register_rpc_method("ping", lambda _: "pong")
            reply = await a.local_participant.perform_rpc(
                destination_identity="probe-b", method="ping", payload=""
            )
            return reply == "pong"
    except Exception:
        return False
    finally:
        await a.disconnect()
        await b.disconnect()


@contextlib.contextmanager
def loopback_namespace(name: str = "halfcascade-lk") -> Iterator[str]:
    """A network namespace with ``lo`` and a veth pair (10.231.0.1/2), removed on exit.

    Run the server and clients inside it with ``ip netns exec <name> ...``. Needs root
    (CAP_NET_ADMIN) and ``iproute2``. Kernels without the ``dummy`` module still have veth.
    """
    ip = shutil.which("ip")
    if ip is None:
        raise ConfigError("loopback_namespace needs iproute2 (apt-get install iproute2)")

    def run(*args: str) -> None:
        subprocess.run([ip, *args], check=True, capture_output=True)

    def ns(*args: str) -> None:
        run("netns", "exec", name, ip, *args)

    run("netns", "add", name)
    try:
        ns("link", "set", "lo", "up")
        ns("link", "add", "hclk0", "type", "veth", "peer", "name", "hclk1")
        ns("addr", "add", "10.231.0.1/30", "dev", "hclk0")
        ns("addr", "add", "10.231.0.2/30", "dev", "hclk1")
        ns("link", "set", "hclk0", "up")
        ns("link", "set", "hclk1", "up")
        yield name
    finally:
        subprocess.run([ip, "netns", "del", name], capture_output=True)
