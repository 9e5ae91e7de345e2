"""A puppy companion as a LiveKit worker: OpenAI Realtime listens, ElevenLabs speaks.

Live, with your keys and your LiveKit deployment::

    export OPENAI_API_KEY=... ELEVEN_API_KEY=...
    export LIVEKIT_URL=wss://... LIVEKIT_API_KEY=... LIVEKIT_API_SECRET=...
    python companion_worker.py start        # or dev, or console (talk in the terminal)

Offline, on local stand-ins of every provider (and a local livekit-server for dev/start)::

    python companion_worker.py console --offline      # or HALFCASCADE_OFFLINE=1

Every provider URL comes from the environment (``OPENAI_BASE_URL``, ``ELEVEN_BASE_URL``,
``OPENAI_TTS_BASE_URL``). The worker registers as ``biscuit`` for explicit dispatch: your
app joins a room with a token from ``halfcascade.worker.dispatch_token(room=...,
identity=..., agent_name="biscuit")`` and LiveKit creates the room and dispatches the
agent in one step (no CreateRoom call).
"""

from __future__ import annotations

import os

from livekit.agents import JobContext, RunContext, function_tool

import halfcascade
from halfcascade.worker import JobStartup, room_options, run_app, worker_server


class Biscuit(halfcascade.Agent):
    """A playful puppy that can fetch."""

    def __init__(self) -> None:
        super().__init__(
            instructions="You are Biscuit, a playful, affectionate puppy and the user's friend."
        )

    @function_tool
    async def fetch_ball(self, context: RunContext, color: str) -> str:
        """Fetch the ball the user throws.

        Args:
            color: the ball's color.
        """
        return f"fetched the {color} ball"


# job processes start with the plugins imported and the TLS context built
server = worker_server(providers=("openai", "elevenlabs"))


@server.rtc_session(agent_name="biscuit")
async def entrypoint(ctx: JobContext) -> None:
    """One conversation: a half-cascade session in the job's room."""
    job = JobStartup(ctx)  # the start-up timeline, from the worker receiving the job
    session = halfcascade.Session(
        brain=halfcascade.OpenAIBrain(),
        voice=halfcascade.ElevenLabsVoice(base_url=os.environ.get("ELEVEN_BASE_URL")),
        fallback_voices=[halfcascade.OpenAIVoice(base_url=os.environ.get("OPENAI_TTS_BASE_URL"))],
        startup=job.tracker,
    )
    job.watch(session)
    await session.start(Biscuit(), room=ctx.room, room_options=room_options())


if __name__ == "__main__":
    run_app(
        server,
        required=["OPENAI_API_KEY", "ELEVEN_API_KEY"],
        offline=("openai", "elevenlabs", "openai_tts"),
    )
