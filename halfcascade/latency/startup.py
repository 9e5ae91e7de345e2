"""``StartupTracker``: how long a job takes from being received to the agent's first audio.

Stages: ``room_connected`` (mark it after ``ctx.connect()``), ``realtime_ready`` (the
realtime server acknowledged the session), ``tts_warm`` (the TTS connection is open),
``avatar_ready`` (the avatar joined), ``first_agent_audio``. The line is logged once the
agent's first audio is out.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from typing import Any

from livekit.agents import AgentSession
from livekit.agents import tts as lk_tts
from livekit.agents.voice.events import AgentStateChangedEvent

from .timeline import StartupTimeline, TurnTimeline
from .tracker import LatencyTracker

__all__ = ["StartupTracker", "warm_tts"]

logger = logging.getLogger("halfcascade.latency")


class StartupTracker:
    """Records a job's start-up stages; create it as soon as the job is received."""

    def __init__(self, *, job_received_at: float | None = None) -> None:
        self.timeline = StartupTimeline(job_received_at=job_received_at or time.time())
        self._tasks: set[asyncio.Task[None]] = set()
        self._logged = False

    def mark(self, stage: str, at: float | None = None) -> None:
        """Record ``stage`` now (or at ``at``); the first report of a stage wins."""
        self.timeline.mark(stage, at or time.time())
        if stage == "first_agent_audio" and not self._logged:
            self._logged = True
            logger.info("STARTUP_LATENCY %s", self.timeline.log_line())

    def watch(self, session: AgentSession[Any], tracker: LatencyTracker | None = None) -> None:
        """Mark the realtime, TTS and first-audio stages of ``session`` as they happen."""
        model = session.llm
        if model is not None and hasattr(model, "on_ready"):
            model.on_ready(lambda at: self.mark("realtime_ready", at))
        tts = session.tts

        def on_state(ev: AgentStateChangedEvent) -> None:
            if ev.old_state == "initializing":
                if "realtime_ready" not in self.timeline.marks and not hasattr(model, "on_ready"):
                    self.mark("realtime_ready", ev.created_at)  # other models: activity up
                if tts is not None and not self._tasks:
                    self._spawn(self._warm(tts))

        session.on("agent_state_changed", on_state)
        if tracker is not None:
            tracker.on("turn", self._on_turn)

    def _on_turn(self, turn: TurnTimeline) -> None:
        if turn.first_audio_out_at is not None:
            self.mark("first_agent_audio", turn.first_audio_out_at)

    async def _warm(self, tts: lk_tts.TTS[Any]) -> None:
        if await warm_tts(tts):
            self.mark("tts_warm")

    def _spawn(self, coro: Any) -> None:
        task = asyncio.create_task(coro, name="halfcascade.startup")
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def aclose(self) -> None:
        """Cancel the warm-up watcher."""
        for task in list(self._tasks):
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task


async def warm_tts(tts: lk_tts.TTS[Any], *, within: float = 10.0) -> bool:
    """Open ``tts``'s connection now and wait until it is open; ``False`` on failure.

    Websocket TTS (ElevenLabs) is opened and awaited; request/response TTS (OpenAI) gets
    its ``prewarm()`` (a first request that opens the HTTP connection).
    """
    inner = _innermost(tts)
    connect = getattr(inner, "_current_connection", None)
    try:
        async with asyncio.timeout(within):
            if connect is not None:
                await connect()
            else:
                inner.prewarm()
                task = getattr(inner, "_prewarm_task", None)
                if isinstance(task, asyncio.Task):
                    await asyncio.shield(task)
        return True
    except Exception:  # a cold TTS still works; the first turn pays for the connection
        logger.warning("TTS warm-up failed; the first reply will open the connection")
        return False


def _innermost(tts: lk_tts.TTS[Any]) -> lk_tts.TTS[Any]:
    # StreamAdapter wraps one TTS, FallbackAdapter several (the first serves first)
    inner = getattr(tts, "_wrapped_tts", None)
    if inner is not None:
        return _innermost(inner)
    instances = getattr(tts, "_tts_instances", None)
    if instances:
        return _innermost(instances[0])
    return tts
