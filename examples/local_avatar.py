"""A companion with a face drawn locally: no avatar service, no GPU.

The local avatar animates a character from the agent's own audio (numpy) and publishes
audio and video into the room from the agent's process, at 25 fps. Open the room in any
LiveKit client (e.g. https://meet.livekit.io with a token from
``halfcascade.worker.dispatch_token``) to see and hear it.

    python local_avatar.py dev                # live: keys in the environment
    python local_avatar.py dev --offline      # offline: stand-ins + a local livekit-server
"""

from __future__ import annotations

import os

from livekit.agents import JobContext

import halfcascade
from halfcascade.worker import JobStartup, room_options, run_app, worker_server

server = worker_server(providers=("openai", "elevenlabs", "local_avatar"))


@server.rtc_session(agent_name="biscuit-face")
async def entrypoint(ctx: JobContext) -> None:
    """One conversation with a face: attach the avatar, then start the session."""
    job = JobStartup(ctx)
    session = halfcascade.Session(
        voice=halfcascade.ElevenLabsVoice(base_url=os.environ.get("ELEVEN_BASE_URL")),
        startup=job.tracker,
    )
    job.watch(session)
    face = await halfcascade.attach_avatar(
        session, ctx.room, halfcascade.LocalAvatar(width=512, height=512)
    )
    job.mark("avatar_ready")
    ctx.add_shutdown_callback(face.aclose)
    agent = halfcascade.Agent(instructions="You are Biscuit, a cheerful puppy with a face.")
    await session.start(agent, room=ctx.room, room_options=room_options())


if __name__ == "__main__":
    run_app(server, required=["OPENAI_API_KEY", "ELEVEN_API_KEY"])
