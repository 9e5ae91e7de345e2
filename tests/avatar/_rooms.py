"""Room helpers for the avatar tests."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Iterator

from livekit import rtc
from livekit.agents.job import JobContext
from livekit.agents.testing import fake_job_context

from halfcascade.testing.livekit_server import LiveKitServer


async def join(
    server: LiveKitServer, identity: str, room: str, *, kind: str | None = None
) -> rtc.Room:
    """A connected room client."""
    r = rtc.Room()
    await r.connect(server.url, server.token(identity, room=room, kind=kind))
    return r


@contextlib.contextmanager
def job(room: rtc.Room, token: str, identity: str) -> Iterator[JobContext]:
    """livekit's fake job context, with the agent's token (its own is empty, and the avatar
    plugins read the agent identity from it)."""
    with fake_job_context(room=room, agent_identity=identity) as ctx:
        ctx._info.token = token
        yield ctx


async def leave(*rooms: rtc.Room) -> None:
    """Disconnect every room, in parallel."""
    await asyncio.gather(*(r.disconnect() for r in rooms), return_exceptions=True)
