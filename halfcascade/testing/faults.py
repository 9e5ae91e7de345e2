"""Socket faults at any point: a TCP proxy between a livekit plugin and a local stand-in.

The stand-ins inject faults at request boundaries (``server.fail_next(kind=...)``); real
sockets also die *mid-reply*, and servers hang after accepting. :class:`FaultProxy` sits in
front of any local server (realtime, TTS, avatar) and does that at the TCP level, so the
plugin sees exactly what a dropped or stalled connection looks like::

    async with ElevenLabsServer() as el, FaultProxy(el.port) as proxy:
        voice = ElevenLabsVoice(base_url=proxy.base_url(el.base_url), api_key="test")
        ...
        proxy.drop_all()          # every open connection is reset now (mid-reply)
        proxy.mode = "hang"       # new connections are accepted and never answered
        proxy.mode = "refuse"     # new connections are closed at once
        proxy.delay = 0.5         # server data arrives 0.5 s late (a slow provider)
        proxy.bandwidth = 32_000  # bytes/s from the server (slower than it speaks)
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from typing import Literal, Self

from .._service import Service

__all__ = ["FaultProxy", "ProxyMode"]

logger = logging.getLogger("halfcascade.testing.faults")

#: What a new connection gets: forwarded, accepted and never answered, or closed at once.
ProxyMode = Literal["pass", "hang", "refuse"]

_CHUNK = 65536


class FaultProxy(Service):
    """A TCP proxy to ``127.0.0.1:target_port`` that drops, hangs, refuses or slows.

    Args:
        target_port: the local server's port.
        host: the address to listen on.
    """

    def __init__(self, target_port: int, *, host: str = "127.0.0.1") -> None:
        self._target = target_port
        self._host = host
        self._server: asyncio.Server | None = None
        self._links: set[_Link] = set()
        self.mode: ProxyMode = "pass"
        """What new connections get (see the module notes)."""
        self.delay = 0.0
        """Seconds each chunk from the server is held before it is passed on (added latency;
        the throughput is unchanged)."""
        self.bandwidth: float | None = None
        """Bytes per second from the server to the client (``None``: unlimited)."""
        self.connections = 0
        """Connections accepted so far."""
        self.drops = 0
        """Connections dropped by :meth:`drop_all`."""

    async def start(self) -> Self:
        """Listen on a free port."""
        self._server = await asyncio.start_server(self._accept, self._host, 0)
        return self

    @property
    def port(self) -> int:
        """The port the proxy listens on."""
        if self._server is None:
            raise RuntimeError("FaultProxy is not started: use `async with FaultProxy(...)`")
        return int(self._server.sockets[0].getsockname()[1])

    def base_url(self, upstream_url: str) -> str:
        """``upstream_url`` (the server's own base URL) pointed at the proxy instead."""
        return upstream_url.replace(f":{self._target}", f":{self.port}", 1)

    @property
    def open_connections(self) -> int:
        """Connections currently open through the proxy."""
        return len(self._links)

    def drop_all(self) -> int:
        """Reset every open connection now; returns how many were dropped."""
        links = list(self._links)
        for link in links:
            link.abort()
        self.drops += len(links)
        return len(links)

    def hang_all(self) -> None:
        """Stop forwarding on every open connection, leaving it open (a stalled server)."""
        for link in self._links:
            link.hung = True

    def drop_hung(self) -> int:
        """Reset the connections :meth:`hang_all` (or ``mode="hang"``) stalled."""
        hung = [link for link in self._links if link.hung]
        for link in hung:
            link.abort()
        return len(hung)

    async def aclose(self) -> None:
        """Stop listening and drop every connection."""
        self.drop_all()
        if self._server is not None:
            self._server.close()
            with contextlib.suppress(Exception):
                await self._server.wait_closed()
        for link in list(self._links):
            await link.wait()

    async def _accept(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.connections += 1
        if self.mode == "refuse":
            writer.transport.abort()
            return
        link = _Link(self, writer)
        self._links.add(link)
        try:
            if self.mode == "hang":
                link.hung = True
                await link.closed.wait()
                return
            try:
                up_reader, up_writer = await asyncio.open_connection("127.0.0.1", self._target)
            except OSError:
                writer.transport.abort()
                return
            link.upstream = up_writer
            await link.run(reader, up_reader)
        finally:
            self._links.discard(link)
            link.abort()


class _Link:
    """One client connection and its upstream twin."""

    def __init__(self, proxy: FaultProxy, client: asyncio.StreamWriter) -> None:
        self._proxy = proxy
        self.client = client
        self.upstream: asyncio.StreamWriter | None = None
        self.hung = False
        self.closed = asyncio.Event()
        self._tasks: list[asyncio.Task[None]] = []

    async def run(self, client_reader: asyncio.StreamReader, up: asyncio.StreamReader) -> None:
        assert self.upstream is not None
        self._tasks = [
            asyncio.create_task(self._pipe(client_reader, self.upstream)),
            asyncio.create_task(self._pipe_delayed(up, self.client)),
        ]
        await asyncio.wait(self._tasks, return_when=asyncio.FIRST_COMPLETED)
        self.abort()
        await self.wait()

    async def _pipe(self, src: asyncio.StreamReader, dst: asyncio.StreamWriter) -> None:
        with contextlib.suppress(ConnectionError, OSError):
            while data := await src.read(_CHUNK):
                if self.hung:
                    await self.closed.wait()  # swallow everything until dropped
                    return
                dst.write(data)
                await dst.drain()

    async def _pipe_delayed(self, src: asyncio.StreamReader, dst: asyncio.StreamWriter) -> None:
        """Server -> client, each chunk held ``proxy.delay`` s: latency, not lower throughput."""
        loop = asyncio.get_running_loop()
        queue: asyncio.Queue[tuple[float, bytes]] = asyncio.Queue()

        async def read() -> None:
            with contextlib.suppress(ConnectionError, OSError):
                while data := await src.read(_CHUNK):
                    queue.put_nowait((loop.time() + self._proxy.delay, data))
            queue.put_nowait((0.0, b""))

        reader = asyncio.create_task(read())
        try:
            with contextlib.suppress(ConnectionError, OSError):
                while True:
                    due, data = await queue.get()
                    if not data:
                        return
                    await asyncio.sleep(max(0.0, due - loop.time()))
                    if self.hung:
                        await self.closed.wait()
                        return
                    dst.write(data)
                    await dst.drain()
                    if self._proxy.bandwidth:
                        await asyncio.sleep(len(data) / self._proxy.bandwidth)
        finally:
            reader.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await reader

    def abort(self) -> None:
        if self.closed.is_set():
            return
        self.closed.set()
        for writer in (self.client, self.upstream):
            if writer is not None:
                writer.transport.abort()
        for task in self._tasks:
            task.cancel()

    async def wait(self) -> None:
        for task in self._tasks:
            with contextlib.suppress(asyncio.CancelledError):
                await task
