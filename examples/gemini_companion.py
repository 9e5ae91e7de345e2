"""A companion on Gemini Live (text out) with ElevenLabs speaking.

Gemini hears the user and writes the reply; ElevenLabs speaks it. Use a Live model that
can write text (``halfcascade.brain.TEXT_MODELS``): native-audio models refuse text.

    export GOOGLE_API_KEY=... ELEVEN_API_KEY=... LIVEKIT_URL=... LIVEKIT_API_KEY=... ...
    python gemini_companion.py start
    python gemini_companion.py console --offline      # on local stand-ins

Endpoints from the environment: ``GOOGLE_GEMINI_BASE_URL`` (read by google-genai; with
``GEMINI_CA_FILE`` to trust a private CA) and ``ELEVEN_BASE_URL``.
"""

from __future__ import annotations

import os

from livekit.agents import JobContext

import halfcascade
from halfcascade.worker import JobStartup, room_options, run_app, worker_server

server = worker_server(providers=("google", "elevenlabs"))


@server.rtc_session(agent_name="biscuit-gemini")
async def entrypoint(ctx: JobContext) -> None:
    """One conversation: Gemini Live writes, ElevenLabs speaks."""
    job = JobStartup(ctx)
    brain = halfcascade.GoogleBrain(
        base_url=os.environ.get("GOOGLE_GEMINI_BASE_URL"),
        ca_file=os.environ.get("GEMINI_CA_FILE"),
    )
    session = halfcascade.Session(
        brain=brain,
        voice=halfcascade.ElevenLabsVoice(base_url=os.environ.get("ELEVEN_BASE_URL")),
        startup=job.tracker,
    )
    job.watch(session)
    agent = halfcascade.Agent(instructions="You are Biscuit, a playful puppy and a good friend.")
    await session.start(agent, room=ctx.room, room_options=room_options())


if __name__ == "__main__":
    run_app(server, required=["GOOGLE_API_KEY", "ELEVEN_API_KEY"], offline=("google", "elevenlabs"))
