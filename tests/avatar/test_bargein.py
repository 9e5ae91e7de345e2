"""100+ randomized barge-ins per avatar output through the real half-cascade stack.

halfcascade.Session with the OpenAI Realtime plugin (local server: its VAD hears the user)
and the ElevenLabs plugin (local server), speaking into (a) the local avatar and (b) a
remote-style avatar behaving like livekit's DataStreamAudioOutput protocol, behind
halfcascade's RemotePlaybackGuard. The two run side by side to keep the suite short.
None of the three warnings may appear, every reply must end, every user turn must be
answered. test_room.py repeats (b) with the real DataStreamAudioOutput in a real room.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable

import pytest
from _bargein import Report, WarningLog, run_barge_ins
from _remote import RemoteStyleOutput
from livekit.agents.voice import io

from halfcascade import Session
from halfcascade.avatar import LocalAvatar, RemotePlaybackGuard, attach_avatar

pytestmark = pytest.mark.contract

STEPS = 100


async def local_avatar(session: Session) -> tuple[io.AudioOutput, Callable[[], Awaitable[None]]]:
    face = await attach_avatar(session, None, LocalAvatar(width=256, height=256))
    assert face.active and session.output.audio is not None
    assert session.options.interruption["resume_false_interruption"] is False
    return session.output.audio, face.aclose


async def remote_style(session: Session) -> tuple[io.AudioOutput, Callable[[], Awaitable[None]]]:
    remote = RemoteStyleOutput(seed=11)
    await remote.start()
    return RemotePlaybackGuard(remote), remote.aclose


def check(report: Report, name: str) -> None:
    assert report.steps == STEPS, name
    assert report.stuck == 0, f"{name}: {report.stuck} replies never ended"
    # every turn the server heard got exactly one reply, and is in the history
    assert len(report.handles) == report.user_turns == report.user_messages, name
    assert report.user_turns >= STEPS * 0.9, name  # a few very quick barge-ins merge turns
    assert report.interrupted >= STEPS // 2, name
    assert report.played_before_barge_in >= STEPS // 3, name


async def test_randomized_barge_ins_leave_no_warning_no_stuck_or_lost_turn() -> None:
    with WarningLog() as log:
        local, remote = await asyncio.gather(
            run_barge_ins(local_avatar, steps=STEPS, seed=5),
            run_barge_ins(remote_style, steps=STEPS, seed=6),
        )
    check(local, "local avatar")
    check(remote, "remote-style avatar")
    assert log.matching() == []
