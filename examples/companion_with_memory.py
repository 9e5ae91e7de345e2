"""A companion with its own persona file and long-term memory, as a LiveKit worker.

The persona (character, voice, reply length) comes from ``examples/personas/biscuit.toml``;
memories live in a SQLite file (set ``HALFCASCADE_MEMORY_DSN`` to a PostgreSQL DSN for many
workers). The job's metadata names the user (``{"user_id": "..."}``), which your backend
puts there through ``halfcascade.worker.dispatch_token(..., metadata={"user_id": ...})``.

    python examples/companion_with_memory.py start
"""

from __future__ import annotations

import json
import os
from pathlib import Path

from livekit.agents import AgentServer, JobContext, cli

import halfcascade
from halfcascade.latency import StartupTracker

PERSONA = Path(__file__).parent / "personas" / "biscuit.toml"

server = AgentServer()


def open_store() -> halfcascade.MemoryStore:
    """SQLite by default, PostgreSQL when a DSN is configured."""
    if dsn := os.environ.get("HALFCASCADE_MEMORY_DSN"):
        return halfcascade.PostgresMemoryStore(dsn)
    return halfcascade.SQLiteMemoryStore(Path("memories.db"))


@server.rtc_session(agent_name="biscuit")
async def entrypoint(ctx: JobContext) -> None:
    """One conversation: persona + memories in the instructions before connecting."""
    startup = StartupTracker()
    persona = halfcascade.load_persona(PERSONA)
    user_id = json.loads(ctx.job.metadata or "{}").get("user_id", ctx.room.name)
    memory = halfcascade.MemoryBinding(open_store(), user_id=user_id)
    await memory.prepare()  # bounded by its connect budget: never delays the call much
    await ctx.connect()
    startup.mark("room_connected")
    session = halfcascade.Session(voice=persona.voice.build_voice(), startup=startup)
    await session.start(halfcascade.Agent(persona=persona, memory=memory), room=ctx.room)
    if persona.greeting:  # straight to the voice: no model round trip before the first words
        session.say(persona.greeting)


if __name__ == "__main__":
    cli.run_app(server)
