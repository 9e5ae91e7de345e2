"""A companion with its own persona file and long-term memory, as a LiveKit worker.

The persona (character, voice, reply length, greeting) comes from ``personas/biscuit.toml``
and is loaded once per worker process, before any job. Memories live in a SQLite file;
set ``HALFCASCADE_MEMORY_DSN`` to a PostgreSQL DSN when several workers serve the same
users. The job's metadata names the user (``{"user_id": "..."}``), which your backend
puts there through ``halfcascade.worker.dispatch_token(..., metadata={"user_id": ...})``.

    python companion_with_memory.py start             # live: keys in the environment
    python companion_with_memory.py console --offline # offline on local stand-ins
"""

from __future__ import annotations

import json
import os
from pathlib import Path

from livekit.agents import JobContext

import halfcascade
from halfcascade.worker import JobStartup, preloaded, room_options, run_app, worker_server

PERSONA = Path(__file__).parent / "personas" / "biscuit.toml"
# where each voice provider's endpoint comes from (stand-ins, proxies, regions)
VOICE_URL_VARS = {"elevenlabs": "ELEVEN_BASE_URL", "openai": "OPENAI_TTS_BASE_URL"}

server = worker_server(providers=("openai", "elevenlabs", "postgres"), persona=PERSONA)


def open_store() -> halfcascade.MemoryStore:
    """SQLite by default, PostgreSQL when a DSN is configured."""
    if dsn := os.environ.get("HALFCASCADE_MEMORY_DSN"):
        return halfcascade.PostgresMemoryStore(dsn)
    return halfcascade.SQLiteMemoryStore(Path("memories.db"))


@server.rtc_session(agent_name="biscuit-memory")
async def entrypoint(ctx: JobContext) -> None:
    """One conversation: persona + memories in the instructions before connecting."""
    job = JobStartup(ctx)
    persona = preloaded(ctx).persona  # parsed once per process, before the job
    user_id = json.loads(ctx.job.metadata or "{}").get("user_id", ctx.room.name)
    memory = halfcascade.MemoryBinding(open_store(), user_id=user_id)
    await memory.prepare()  # bounded by its connect budget: never delays the call much
    url = os.environ.get(VOICE_URL_VARS.get(persona.voice.provider, ""))
    voice = persona.voice.build_voice(base_url=url) if url else persona.voice.build_voice()
    session = halfcascade.Session(voice=voice, startup=job.tracker)
    job.watch(session)
    agent = halfcascade.Agent(persona=persona, memory=memory)
    await session.start(agent, room=ctx.room, room_options=room_options())
    if persona.greeting:  # straight to the voice: no model round trip before the first words
        session.say(persona.greeting)


if __name__ == "__main__":
    run_app(server, required=["OPENAI_API_KEY", "ELEVEN_API_KEY"])
