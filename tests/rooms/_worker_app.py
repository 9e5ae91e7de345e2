"""The worker the room tests run as a real ``AgentServer`` process (``_worker_app.py start``).

Provider stand-ins run in the test process; their URLs come in through the environment
(``OPENAI_BASE_URL``, ``ELEVEN_BASE_URL``, ``OPENAI_API_KEY``, ``ELEVEN_API_KEY``). Each job
appends one JSON line to ``$HC_TEST_REPORT``: its start-up summary, the event-loop blocks
livekit's monitor reported in the job, and the memory it recalled.

- dispatch metadata ``{"avatar": "local"}``: the local avatar in the room;
- ``HC_TEST_MEMORY_DSN``: a PostgreSQL memory store shared by every worker;
- ``HALFCASCADE_MAX_JOBS``: the worker is full at this many jobs (``worker_server`` reads
  it; default 4 here);
- ``HC_TEST_JOB_HOLD``: seconds a job stays in its room before the agent leaves.
"""

from __future__ import annotations

import asyncio
import json
import logging
import os
import time
from typing import Any

from livekit.agents import JobContext, cli

import halfcascade
from halfcascade.worker import JobStartup, preloaded, room_options, worker_server

AGENT_NAME = "tester"
os.environ.setdefault("HALFCASCADE_MAX_JOBS", "4")


class _BlockCounter(logging.Handler):
    """Counts livekit's 'event loop blocked' warnings in this job process."""

    def __init__(self) -> None:
        super().__init__(logging.WARNING)
        self.blocks: list[float] = []

    def emit(self, record: logging.LogRecord) -> None:
        if record.getMessage().startswith("event loop blocked"):
            self.blocks.append(float(getattr(record, "duration", 0.0)))


server = worker_server(
    providers=("openai", "elevenlabs", "local_avatar", "postgres"),
    port=0,
    num_idle_processes=int(os.environ.get("HC_TEST_IDLE", "2")),
)


def _report(line: dict[str, Any]) -> None:
    if path := os.environ.get("HC_TEST_REPORT"):
        with open(path, "a") as f:
            f.write(json.dumps(line) + "\n")


@server.rtc_session(agent_name=AGENT_NAME)
async def entrypoint(ctx: JobContext) -> None:
    """One test conversation."""
    job = JobStartup(ctx)
    blocks = _BlockCounter()
    logging.getLogger("livekit.agents").addHandler(blocks)
    meta = json.loads(ctx.job.metadata or "{}")
    seen: list[str] = []
    if dsn := os.environ.get("HC_TEST_MEMORY_DSN"):
        # what earlier sessions of this user (on any worker) left, then this one's own note
        async with halfcascade.PostgresMemoryStore(dsn) as store:
            user = meta.get("user_id", "anon")
            seen = [m.text for m in await store.recall(user, "", limit=50)]
            note = f"The user talked to worker {os.getpid()} in room {ctx.room.name}."
            await store.remember(user, halfcascade.Memory(text=note, kind="note"))
    session = halfcascade.Session(
        brain=halfcascade.OpenAIBrain(turn_detection="server_vad", silence_ms=300),
        voice=halfcascade.ElevenLabsVoice(base_url=os.environ["ELEVEN_BASE_URL"]),
        startup=job.tracker,
    )
    job.watch(session)
    face = None
    if meta.get("avatar") == "local":
        face = await halfcascade.attach_avatar(
            session, ctx.room, halfcascade.LocalAvatar(width=256, height=256)
        )
        job.mark("avatar_ready")
    agent = halfcascade.Agent(instructions="You are a test companion.")
    await session.start(agent, room=ctx.room, room_options=room_options())

    async def on_end() -> None:
        summary = job.summary()
        summary.update(
            room=ctx.room.name,
            worker_pid=os.getpid(),
            worker_id=ctx.worker_id,
            blocks_ms=[round(b * 1000) for b in blocks.blocks],
            preloaded_s=round(preloaded(ctx).seconds, 3),
            memories_seen=seen,
            turns=[
                {
                    "speech_end_at": t.speech_end_at,
                    "first_audio_out_at": t.first_audio_out_at,
                    "ttfa": t.ttfa,
                    "interrupted": t.interrupted,
                }
                for t in session.latency.timelines
            ],
            ended_at=time.time(),
        )
        if face is not None:
            await face.aclose()
        _report(summary)

    ctx.add_shutdown_callback(on_end)
    if hold := float(os.environ.get("HC_TEST_JOB_HOLD", "0")):
        await asyncio.sleep(hold)
        ctx.shutdown("test hold over")


if __name__ == "__main__":
    cli.run_app(server)
