"""A puppy companion as a LiveKit worker: OpenAI Realtime listens, ElevenLabs speaks.

Run it against your LiveKit deployment (``LIVEKIT_URL``, ``LIVEKIT_API_KEY``,
``LIVEKIT_API_SECRET``) with ``OPENAI_API_KEY`` and ``ELEVEN_API_KEY`` set::

    python examples/companion_worker.py start

The worker registers as ``biscuit`` for explicit dispatch: your app joins a room with a
token from ``halfcascade.worker.dispatch_token(room=..., identity=..., agent_name="biscuit")``
and LiveKit creates the room and dispatches the agent in one step (no CreateRoom call).
"""

from __future__ import annotations

from livekit.agents import AgentServer, JobContext, RunContext, cli, function_tool

import halfcascade


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


server = AgentServer()


@server.rtc_session(agent_name="biscuit")
async def entrypoint(ctx: JobContext) -> None:
    """One conversation: a half-cascade session in the job's room."""
    session = halfcascade.Session(
        brain=halfcascade.OpenAIBrain(),
        voice=halfcascade.ElevenLabsVoice(),
        fallback_voices=[halfcascade.OpenAIVoice()],
    )
    await session.start(Biscuit(), room=ctx.room)


if __name__ == "__main__":
    cli.run_app(server)
