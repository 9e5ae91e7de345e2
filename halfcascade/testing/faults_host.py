"""The fault runs' stand-ins in a process of their own, driven over a pipe.

A provider is another machine: its CPU, memory and event loop are not the worker's. Run in
the sessions' own process, the stand-ins (three servers and two fault proxies per session,
with their VAD, synthesis and buffers) shared the sessions' event loop and counted in their
RSS, so a soak measured them as much as halfcascade. :class:`StandInHost` runs them in a
child process (``python -m halfcascade.testing.faults_host``); each :class:`HostedRig` is
one session's set, and faults are injected by name::

    async with StandInHost() as host, host.rig(seed=1) as rig:
        brain = OpenAIBrain(base_url=rig.realtime_url, api_key="test", ...)
        await rig.call("before_reply", kind="tts_hang")

Requests are JSON lines on the child's stdin, answers JSON lines on a pipe of its own (the
child's stdout is its stderr, so a stray print cannot break the protocol); the child logs
WARNING and above to a file whose tail is raised if it dies. ``perf_counter`` readings the
child returns (``first_delta_at``) are on the same monotonic clock as the parent's (Linux
``CLOCK_MONOTONIC``).
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import json
import logging
import os
import sys
import tempfile
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any, Self

__all__ = ["HostedRig", "StandInError", "StandInHost"]

_START_TIMEOUT = 60.0
_CALL_TIMEOUT = 30.0


class StandInError(RuntimeError):
    """The stand-in process failed a request or died."""


class StandInHost:
    """A child process holding the stand-ins of any number of fault-run sessions."""

    def __init__(self) -> None:
        self._proc: asyncio.subprocess.Process | None = None
        self._answers: asyncio.StreamReader | None = None
        self._reader: asyncio.Task[None] | None = None
        self._pending: dict[int, asyncio.Future[Any]] = {}
        self._ids = itertools.count(1)
        self._rigs = itertools.count(1)
        self._log = Path(tempfile.mkstemp(prefix="halfcascade-standins-", suffix=".log")[1])

    async def __aenter__(self) -> Self:
        read_fd, write_fd = os.pipe()
        with self._log.open("ab") as log:
            self._proc = await asyncio.create_subprocess_exec(
                sys.executable, "-m", "halfcascade.testing.faults_host", str(write_fd),
                stdin=asyncio.subprocess.PIPE, stdout=log, stderr=log, pass_fds=(write_fd,),
            )  # fmt: skip
        os.close(write_fd)
        loop = asyncio.get_running_loop()
        answers = self._answers = asyncio.StreamReader(limit=2**20)
        await loop.connect_read_pipe(
            lambda: asyncio.StreamReaderProtocol(answers),
            os.fdopen(read_fd, "rb", buffering=0),
        )
        self._reader = asyncio.create_task(self._read(), name="standin-host-answers")
        await self.call("ping", timeout=_START_TIMEOUT)
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.aclose()

    async def call(self, op: str, *, timeout: float = _CALL_TIMEOUT, **args: Any) -> Any:  # noqa: ASYNC109
        """Run ``op`` in the child; its result, or :class:`StandInError`."""
        proc = self._proc
        if proc is None or proc.stdin is None or proc.returncode is not None:
            raise StandInError(f"the stand-in process is not running{self._tail()}")
        rid = next(self._ids)
        fut: asyncio.Future[Any] = asyncio.get_running_loop().create_future()
        self._pending[rid] = fut
        try:
            proc.stdin.write(json.dumps({"id": rid, "op": op, **args}).encode() + b"\n")
            await proc.stdin.drain()
            async with asyncio.timeout(timeout):
                return await fut
        except ConnectionError:
            raise StandInError(f"the stand-in process exited{self._tail()}") from None
        except TimeoutError:
            raise StandInError(f"stand-in {op!r} took over {timeout:.0f} s{self._tail()}") from None
        finally:
            self._pending.pop(rid, None)

    @asynccontextmanager
    async def rig(self, *, seed: int) -> AsyncIterator[HostedRig]:
        """One session's stand-ins (realtime, ElevenLabs, OpenAI TTS, two fault proxies)."""
        rig_id = next(self._rigs)
        urls = await self.call("open", rig=rig_id, seed=seed)
        try:
            yield HostedRig(self, rig_id, urls)
        finally:
            with contextlib.suppress(StandInError):
                await self.call("close", rig=rig_id)

    async def stats(self) -> dict[str, Any]:
        """The child's RSS (bytes) and how many ERROR records it logged."""
        result: dict[str, Any] = await self.call("stats")
        return result

    async def aclose(self) -> None:
        """Stop the child (its servers close with it)."""
        proc, self._proc = self._proc, None
        if proc is not None and proc.returncode is None:
            if proc.stdin is not None:
                proc.stdin.close()
            try:
                async with asyncio.timeout(10):
                    await proc.wait()
            except TimeoutError:
                proc.kill()
                await proc.wait()
        if self._reader is not None:
            self._reader.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._reader
        self._log.unlink(missing_ok=True)

    async def _read(self) -> None:
        assert self._answers is not None
        while line := await self._answers.readline():
            msg = json.loads(line)
            fut = self._pending.get(msg["id"])
            if fut is None or fut.done():
                continue
            if "error" in msg:
                fut.set_exception(StandInError(msg["error"]))
            else:
                fut.set_result(msg.get("result"))
        died = StandInError(f"the stand-in process exited{self._tail()}")
        for fut in self._pending.values():
            if not fut.done():
                fut.set_exception(died)

    def _tail(self) -> str:
        with contextlib.suppress(OSError):
            if text := self._log.read_text(errors="replace")[-2000:].strip():
                return f"; its log ends:\n{text}"
        return ""


class HostedRig:
    """One session's stand-ins in a :class:`StandInHost`: their URLs and fault switches."""

    def __init__(self, host: StandInHost, rig_id: int, urls: dict[str, str]) -> None:
        self._host, self._id = host, rig_id
        self.realtime_url: str = urls["realtime"]
        """The realtime stand-in, behind its fault proxy (``OpenAIBrain(base_url=...)``)."""
        self.elevenlabs_url: str = urls["elevenlabs"]
        """The primary voice, behind its fault proxy."""
        self.backup_url: str = urls["backup"]
        """The OpenAI TTS stand-in, for the fallback voice."""

    async def call(self, op: str, **args: Any) -> Any:
        """Run one of the child's per-rig operations (see ``_StandIns``)."""
        return await self._host.call(op, rig=self._id, **args)


# --- the child -------------------------------------------------------------------------


class _ErrorCount(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.ERROR)
        self.count = 0

    def emit(self, record: logging.LogRecord) -> None:
        self.count += 1


async def _child(answer_fd: int) -> None:
    from .faults_standins import StandIns

    errors = _ErrorCount()
    logging.getLogger().addHandler(errors)
    loop = asyncio.get_running_loop()
    requests = asyncio.StreamReader(limit=2**20)
    await loop.connect_read_pipe(lambda: asyncio.StreamReaderProtocol(requests), sys.stdin)
    out = os.fdopen(answer_fd, "wb", buffering=0)
    rigs: dict[int, StandIns] = {}
    tasks: set[asyncio.Task[None]] = set()

    async def handle(msg: dict[str, Any]) -> None:
        answer: dict[str, Any] = {"id": msg.pop("id")}
        op = msg.pop("op")
        try:
            if op == "ping":
                answer["result"] = os.getpid()
            elif op == "stats":
                answer["result"] = {"rss": _rss(), "errors": errors.count, "rigs": len(rigs)}
            elif op == "open":
                rig = rigs[msg["rig"]] = await StandIns.open(seed=msg["seed"])
                answer["result"] = rig.urls()
            elif op == "close":
                await rigs.pop(msg["rig"]).aclose()
            else:
                answer["result"] = await rigs[msg.pop("rig")].run(op, **msg)
        except Exception as e:  # every failure goes back to the caller
            answer["error"] = f"{op}: {type(e).__name__}: {e}"
        out.write(json.dumps(answer).encode() + b"\n")

    while line := await requests.readline():
        task = asyncio.create_task(handle(json.loads(line)))
        tasks.add(task)
        task.add_done_callback(tasks.discard)
    await asyncio.gather(*tasks, return_exceptions=True)
    for rig in rigs.values():
        await rig.aclose()


def _rss() -> int:
    pages = int(Path("/proc/self/statm").read_text().split()[1])
    return pages * os.sysconf("SC_PAGE_SIZE")


if __name__ == "__main__":
    os.dup2(2, 1)  # stray prints go to the log, not into the answers
    logging.basicConfig(level=logging.WARNING, stream=sys.stderr)
    asyncio.run(_child(int(sys.argv[1])))
