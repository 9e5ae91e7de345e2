"""Getting an agent into a room without a CreateRoom round trip.

A room is created the moment its first participant joins; an explicit ``CreateRoom`` call
before that only adds a round trip (users measured 8-22 s on a cold region). The fastest
path is a participant token that carries the agent dispatch itself: the user's app joins
with it, LiveKit creates the room and dispatches the named agent in the same step.
"""

from __future__ import annotations

import asyncio
import datetime
import json
from collections.abc import Mapping
from typing import Literal

from livekit import api

from .._env import env_value, require_all

__all__ = ["AgentNotJoinedError", "dispatch_token", "wait_for_agent"]

_AGENT_NAME = "lk.agent.name"
_AGENT_STATE = "lk.agent.state"


class AgentNotJoinedError(TimeoutError):
    """The dispatched agent did not join (or did not reach the state asked for) in time."""


def dispatch_token(
    *,
    room: str,
    identity: str,
    agent_name: str,
    metadata: Mapping[str, str] | None = None,
    ttl: datetime.timedelta = datetime.timedelta(hours=1),
    api_key: str | None = None,
    api_secret: str | None = None,
) -> str:
    """A join token for ``identity`` that also dispatches ``agent_name`` into ``room``.

    Args:
        room: the room to join (created on join if it does not exist).
        identity: the end user's participant identity.
        agent_name: the worker's ``agent_name`` (explicit dispatch).
        metadata: passed to the job as ``ctx.job.metadata`` (JSON), e.g. the user id for
            memory or the persona to load.
        api_key, api_secret: default to ``LIVEKIT_API_KEY`` / ``LIVEKIT_API_SECRET``.

    Raises:
        MissingCredentialsError: when the key or secret is unknown.
    """
    key = env_value(api_key, "LIVEKIT_API_KEY")
    secret = env_value(api_secret, "LIVEKIT_API_SECRET")
    require_all(
        [name for name, v in (("LIVEKIT_API_KEY", key), ("LIVEKIT_API_SECRET", secret)) if not v]
    )
    dispatch = api.RoomAgentDispatch(
        agent_name=agent_name, metadata=json.dumps(dict(metadata or {}))
    )
    token = (
        api.AccessToken(key, secret)
        .with_identity(identity)
        .with_ttl(ttl)
        .with_grants(api.VideoGrants(room_join=True, room=room))
        .with_room_config(api.RoomConfiguration(agents=[dispatch]))
    )
    return token.to_jwt()


async def wait_for_agent(
    room: str,
    *,
    agent_name: str | None = None,
    state: Literal["joined", "listening"] = "listening",
    within: float = 10.0,
    interval: float = 0.05,
    lkapi: api.LiveKitAPI | None = None,
) -> api.ParticipantInfo:
    """Wait, from your backend, until the dispatched agent is in ``room``.

    It polls LiveKit's RoomService (``ListParticipants``) for an agent participant
    (named ``agent_name`` when given). ``state="listening"`` also waits for the agent's
    ``lk.agent.state`` attribute to say it listens (its session started).

    Args:
        lkapi: the API client; default: one from ``LIVEKIT_URL`` / ``LIVEKIT_API_KEY`` /
            ``LIVEKIT_API_SECRET``, closed on return.

    Raises:
        AgentNotJoinedError: when no such agent shows up within ``within`` seconds (no
            worker registered under ``agent_name``, or every worker is full or draining).
    """
    client = lkapi or api.LiveKitAPI()
    try:
        async with asyncio.timeout(within):
            while True:
                found = await _find_agent(client, room, agent_name, state)
                if found is not None:
                    return found
                await asyncio.sleep(interval)
    except TimeoutError:
        who = f"agent {agent_name!r}" if agent_name else "an agent"
        raise AgentNotJoinedError(
            f"{who} was not {state} in room {room!r} after {within:.1f} s: check that a "
            "worker registered with that agent_name is running and has capacity"
        ) from None
    finally:
        if lkapi is None:
            await client.aclose()


async def _find_agent(
    client: api.LiveKitAPI, room: str, agent_name: str | None, state: str
) -> api.ParticipantInfo | None:
    try:
        res = await client.room.list_participants(api.ListParticipantsRequest(room=room))
    except api.TwirpError as exc:
        if exc.code == api.TwirpErrorCode.NOT_FOUND:  # the room is not created yet
            return None
        raise
    for p in res.participants:
        if p.kind != api.ParticipantInfo.Kind.AGENT:
            continue
        if agent_name and p.attributes.get(_AGENT_NAME, agent_name) != agent_name:
            continue
        if state == "listening" and p.attributes.get(_AGENT_STATE) != "listening":
            continue
        return p
    return None
