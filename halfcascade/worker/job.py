"""A job's start-up, from the worker receiving the dispatch to the agent's first audio.

::

    @server.rtc_session(agent_name="biscuit")
    async def entrypoint(ctx: JobContext) -> None:
        job = JobStartup(ctx)                     # first line: the clock is the dispatch's
        session = halfcascade.Session(..., startup=job.tracker)
        job.watch(session)                        # TTS opened now, stages marked as they come
        await session.start(agent, room=ctx.room) # connects the room and the model together

:class:`~halfcascade.latency.StartupTracker` (``job.tracker``) then logs its
``STARTUP_LATENCY`` line from the moment the *worker* received the job, with
``ROOM_CONNECTED_MS`` filled in; :meth:`JobStartup.summary` adds the dispatch stages and
the modules the job had to import itself (none, with :func:`~halfcascade.worker.worker_server`).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import sys
import time
from typing import Any

from livekit import rtc
from livekit.agents import AgentSession, JobContext
from livekit.agents.voice.events import AgentStateChangedEvent

from .._livekit.worker import dispatch_times
from ..latency import StartupTracker
from ..latency.startup import warm_tts

__all__ = ["JobStartup"]

logger = logging.getLogger("halfcascade.worker")

# top-level packages whose import inside a job would block its event loop noticeably
_HEAVY = ("openai", "livekit", "google", "halfcascade", "numpy", "PIL", "asyncpg")


class JobStartup:
    """Start-up stages of one job; create it first thing in the entrypoint.

    Args:
        connect: start joining the room at once, in parallel with building the session.

    Attributes:
        tracker: the :class:`~halfcascade.latency.StartupTracker` to pass to
            ``Session(startup=...)``, clocked from the worker receiving the job.
    """

    def __init__(self, ctx: JobContext, *, connect: bool = True) -> None:
        now = time.time()
        times = dispatch_times(ctx)
        self._received_at = times.received_at or now
        self.tracker = StartupTracker(job_received_at=self._received_at)
        self._marks: dict[str, float] = {"entrypoint": now}
        if times.launched_at:
            self._marks["job_launched"] = times.launched_at
        self._ctx = ctx
        self._modules = set(sys.modules)
        self._tasks: set[asyncio.Task[None]] = set()
        self._logged = False
        if ctx.room.isconnected():
            self._mark("room_connected", now)
        else:
            ctx.room.on("connection_state_changed", self._on_connection)
        ctx.add_shutdown_callback(self.aclose)
        if connect and not ctx.room.isconnected():
            # join now, while the session is being built (``session.start`` then finds
            # the room connected instead of starting the connection itself)
            self._spawn(ctx.connect())

    def _mark(self, stage: str, at: float | None = None) -> None:
        at = at or time.time()
        self._marks.setdefault(stage, at)
        if stage in ("room_connected", "realtime_ready", "tts_warm", "avatar_ready"):
            self.tracker.mark(stage, at)

    def _on_connection(self, state: rtc.ConnectionState.ValueType) -> None:
        if state == rtc.ConnectionState.CONN_CONNECTED:
            self._mark("room_connected")

    def mark(self, stage: str) -> None:
        """Record a stage of your own (or ``avatar_ready``) now."""
        self._mark(stage)

    def watch(self, session: AgentSession[Any], *, end_job_on_close: bool = True) -> None:
        """Open ``session``'s TTS connection now (in parallel with the room and the model)
        and mark ``agent_listening`` when the agent first listens.

        With ``end_job_on_close``, the job ends as soon as the session closes (the user
        left): livekit otherwise keeps it, and its slot on the worker, until LiveKit
        closes the empty room (20 s later by default).
        """
        if session.tts is not None:
            self._spawn(self._warm(session))
        if end_job_on_close:
            session.on("close", lambda _: self._ctx.shutdown(reason="session closed"))

        def on_state(ev: AgentStateChangedEvent) -> None:
            if ev.new_state == "listening" and "agent_listening" not in self._marks:
                self._mark("agent_listening", ev.created_at)
                self._log()

        session.on("agent_state_changed", on_state)

    async def _warm(self, session: AgentSession[Any]) -> None:
        assert session.tts is not None
        if await warm_tts(session.tts):
            self._mark("tts_warm")

    def _spawn(self, coro: Any) -> None:
        task = asyncio.create_task(coro, name="halfcascade.worker.startup")
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    def imports_in_job(self) -> list[str]:
        """Heavy modules first imported after the job started (should be empty)."""
        new = set(sys.modules) - self._modules
        return sorted(m for m in new if m.split(".")[0] in _HEAVY)

    def summary(self) -> dict[str, Any]:
        """Every stage as milliseconds from the worker receiving the job, and the job's
        own heavy imports."""
        out: dict[str, Any] = {
            f"{stage}_ms": round((at - self._received_at) * 1000)
            for stage, at in sorted(self._marks.items(), key=lambda kv: kv[1])
        }
        for stage, at in self.tracker.timeline.marks.items():
            out.setdefault(f"{stage}_ms", round((at - self._received_at) * 1000))
        out["received_at"] = self._received_at
        out["imports_in_job"] = self.imports_in_job()
        return out

    def _log(self) -> None:
        if self._logged:
            return
        self._logged = True
        fields = " ".join(
            f"{k.removesuffix('_ms').upper()}_MS={v}"
            for k, v in self.summary().items()
            if k.endswith("_ms")
        )
        logger.info("WORKER_STARTUP %s JOB_IMPORTS=%d", fields, len(self.imports_in_job()))

    async def aclose(self) -> None:
        """Stop the warm-up task (runs at job shutdown)."""
        for task in list(self._tasks):
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
