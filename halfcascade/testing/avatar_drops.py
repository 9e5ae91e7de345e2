"""Remote-avatar drops mid-reply, on a real livekit-server (the fault suite's avatar part).

Each trial attaches a fresh remote avatar (the Tavus or Runway stand-in, whose avatar joins
the room with livekit's ``DataStreamAudioReceiver`` + ``AvatarRunner``) to an
``AgentSession`` whose audio goes through livekit's ``TranscriptSynchronizer`` (as RoomIO
inserts it) into the real ``DataStreamAudioOutput``. A reply is spoken (streamed at twice
real time, as a TTS would), and 0.1-1.5 s in the avatar drops: it leaves the room, or it is
cut off by the server without a word (no playback report ever comes back). Then:

- the cut reply's ``wait_for_playout()`` must return, and so must the next one's (else the
  turn is *stuck*);
- the next reply must be heard by a user participant, through the audio-only fallback
  (else the turn is *silent*);
- no livekit lifecycle warning may be logged.

::

    report = await run_avatar_drops(lk, trials=20, seed=1, provider="runway")
    print(report.as_json())
"""

from __future__ import annotations

import asyncio
import contextlib
import random
import statistics
import time
from collections import Counter
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Any, Literal

import numpy as np
from livekit import api, rtc
from livekit.agents import Agent, AgentSession
from livekit.agents.testing import fake_job_context
from livekit.agents.utils import http_context
from livekit.agents.voice import io
from livekit.agents.voice.transcription import TranscriptSynchronizer

from .._livekit.job import set_job_token
from ..avatar import LiveKitCredentials, RunwayAvatar, TavusAvatar, attach_avatar
from ..avatar.remote import RemoteAvatarLink
from .faults_report import WarningLog
from .livekit_server import API_KEY, API_SECRET, LiveKitServer
from .runway import RunwayServer
from .tavus import TavusServer
from .voices import synthetic_voice

__all__ = ["AvatarDropReport", "DropKind", "run_avatar_drops"]

DropKind = Literal["leave", "kick"]
Provider = Literal["tavus", "runway"]
AGENT, USER, ROOM = "agent", "user", "avatar-drops"
RATE = 24000
STUCK_AFTER = 8.0  # a cut reply's playout must be done within this (seconds)
HEAR_WITHIN = 4.0  # the next reply must be heard within this of being said (seconds)
_LOUD = 300.0  # RMS of int16 audio above which a frame is speech, not silence


@dataclass
class AvatarDropReport:
    """What the trials saw."""

    provider: str
    trials: int = 0
    stuck: int = 0
    silent: int = 0
    heard: int = 0
    not_joined: int = 0
    """Trials skipped because the stand-in avatar never joined (not an avatar drop)."""
    drops: Counter[str] = field(default_factory=Counter)
    """``leave`` / ``kick`` counts, and ``before_start`` for drops before the start report."""
    lifecycle: Counter[str] = field(default_factory=Counter)
    """livekit lifecycle warnings by message (must stay empty)."""
    logged: Counter[str] = field(default_factory=Counter)
    """Every warning or error logged, by message (first 100 characters)."""
    switch_times: list[float] = field(default_factory=list)
    """Drop -> audio-only fallback installed (seconds)."""
    audible_times: list[float] = field(default_factory=list)
    """Drop -> the next reply audible to the user (seconds; includes the rest of the cut
    reply, which plays through the fallback when it was still streaming)."""
    said_to_audible: list[float] = field(default_factory=list)
    """The next reply said -> audible to the user (seconds)."""

    def as_json(self) -> dict[str, Any]:
        """Counts and timing summaries (milliseconds)."""
        return {
            "provider": self.provider,
            "trials": self.trials,
            "stuck": self.stuck,
            "silent": self.silent,
            "heard": self.heard,
            "not_joined": self.not_joined,
            "drops": dict(self.drops),
            "lifecycle_warnings": dict(self.lifecycle),
            "logged": dict(self.logged),
            "switch_ms": _summary(self.switch_times),
            "drop_to_audible_ms": _summary(self.audible_times),
            "next_said_to_audible_ms": _summary(self.said_to_audible),
        }


def _summary(xs: list[float]) -> dict[str, float]:
    if not xs:
        return {}
    s = sorted(xs)
    p95 = s[min(len(s) - 1, round(0.95 * (len(s) - 1)))]
    return {
        "p50": round(statistics.median(s) * 1000),
        "p95": round(p95 * 1000),
        "max": round(s[-1] * 1000),
    }


class _Captions(io.TextOutput):
    def __init__(self) -> None:
        super().__init__(label="captions", next_in_chain=None)

    async def capture_text(self, text: str) -> None:
        return None

    def flush(self) -> None:
        return None


class _Listener:
    """The user: when it last heard speech from the agent's own audio track."""

    def __init__(self, room: rtc.Room) -> None:
        self.loud: list[float] = []
        self._tasks: dict[str, asyncio.Task[None]] = {}
        room.on("track_subscribed", self._on_track)
        room.on("track_unsubscribed", self._on_gone)

    def _on_track(self, track: rtc.Track, _: Any, who: rtc.RemoteParticipant) -> None:
        if who.identity == AGENT and track.kind == rtc.TrackKind.KIND_AUDIO:
            self._tasks[track.sid] = asyncio.create_task(self._listen(track))

    def _on_gone(self, track: rtc.Track, *_: Any) -> None:
        # each trial's fallback publishes a new track: stop decoding the old one
        if (task := self._tasks.pop(track.sid, None)) is not None:
            task.cancel()

    async def _listen(self, track: rtc.Track) -> None:
        # closed when its track goes: a stream only cancelled keeps its own task and FFI
        # subscription, one per trial, and 20-odd of them stalled a 40-trial run (avatars
        # stopped joining)
        stream = rtc.AudioStream(track, sample_rate=RATE, num_channels=1)
        try:
            with contextlib.suppress(Exception):  # the track goes away with its trial
                async for ev in stream:
                    pcm = np.frombuffer(ev.frame.data, np.int16).astype(np.float32)
                    if float(np.sqrt(np.mean(pcm**2))) > _LOUD:
                        self.loud.append(time.perf_counter())
        finally:
            await stream.aclose()

    async def heard_after(self, t: float, within: float) -> float | None:
        """When speech was first heard after ``t`` (waiting up to ``within``), or ``None``."""
        deadline = t + within
        self.loud = [at for at in self.loud if at > t]
        while time.perf_counter() < deadline:
            if first := next((at for at in self.loud if at > t), None):
                return first
            await asyncio.sleep(0.02)
        return None

    async def aclose(self) -> None:
        for task in list(self._tasks.values()):
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task


async def _speech(seconds: float, *, pace: float = 2.0) -> AsyncIterator[rtc.AudioFrame]:
    """A reply's audio, streamed at ``pace`` x real time (a TTS streams it like this)."""
    pcm = synthetic_voice("hello there friend, " * int(seconds + 1), RATE)[: int(RATE * seconds)]
    n = RATE // 50
    for i in range(0, len(pcm) - n + 1, n):
        yield rtc.AudioFrame(pcm[i : i + n].tobytes(), RATE, 1, n)
        await asyncio.sleep(0.02 / pace)


async def run_avatar_drops(
    lk: LiveKitServer,
    *,
    trials: int,
    seed: int,
    provider: Provider = "tavus",
    before_start: bool = False,
) -> AvatarDropReport:
    """Run ``trials`` avatar drops mid-reply on ``lk``; return the report.

    ``before_start=True`` drops every avatar the moment it took the reply's first audio,
    before it reports playback started (the hardest case), instead of at a random point,
    alternating a clean leave and a server kick.
    """
    if trials < 1:
        raise ValueError(f"run_avatar_drops needs trials >= 1, got {trials}")
    rng = random.Random(seed)
    report = AvatarDropReport(provider=provider)
    server: TavusServer | RunwayServer = TavusServer() if provider == "tavus" else RunwayServer()
    agent, user = rtc.Room(), rtc.Room()
    async with (
        http_context.open(),
        server,
        api.LiveKitAPI(lk.http_url, API_KEY, API_SECRET) as lkapi,
    ):
        await agent.connect(lk.url, lk.token(AGENT, room=ROOM, kind="agent"))
        await user.connect(lk.url, lk.token(USER, room=ROOM))
        listener = _Listener(user)
        try:
            with WarningLog() as log:
                for i in range(trials):
                    kinds: tuple[DropKind, DropKind] = ("leave", "kick")
                    kind = kinds[i % 2] if before_start else rng.choice(kinds)
                    at = None if before_start else rng.uniform(0.1, 1.5)
                    await _trial(lk, lkapi, server, agent, listener, report, i, kind, at)
            report.lifecycle = log.lifecycle()
            report.logged = log.counts()
        finally:
            await listener.aclose()
            await asyncio.gather(agent.disconnect(), user.disconnect(), return_exceptions=True)
    return report


async def _trial(
    lk: LiveKitServer,
    lkapi: api.LiveKitAPI,
    server: TavusServer | RunwayServer,
    agent: rtc.Room,
    listener: _Listener,
    report: AvatarDropReport,
    i: int,
    kind: DropKind,
    drop_at: float | None,
) -> None:
    session: AgentSession[Any] = AgentSession()
    identity = f"{server.provider}-avatar-{i}"
    creds = LiveKitCredentials(url=lk.url, api_key=API_KEY, api_secret=API_SECRET)
    avatar: TavusAvatar | RunwayAvatar = (
        TavusAvatar(api_url=server.api_url, api_key="k", identity=identity, livekit=creds)
        if isinstance(server, TavusServer)
        else RunwayAvatar(
            preset_id="p",
            api_url=server.api_url,
            api_key="k",
            identity=identity,
            livekit=creds,
            renew_before=None,
        )
    )
    with fake_job_context(room=agent, agent_identity=AGENT) as ctx:
        set_job_token(ctx, lk.token(AGENT, room=ROOM, kind="agent"))
        face = await attach_avatar(session, agent, avatar, join_timeout=15)
    link = face.link
    if not face.active or not isinstance(link, RemoteAvatarLink):
        report.not_joined += 1
        await face.aclose()
        return
    stand_in = server.avatars[-1]
    sync = TranscriptSynchronizer(
        next_in_chain_audio=link.audio_output, next_in_chain_text=_Captions()
    )
    session.output.audio, session.output.transcription = sync.audio_output, sync.text_output
    try:
        await session.start(Agent(instructions="You are a dog."))
        cut = session.say("Hello there friend, " * 5, audio=_speech(2.5))
        if drop_at is None:
            await stand_in.wait_first_audio()
        else:
            await asyncio.sleep(drop_at)
        if link.output.reports_start is None and link.fallback is None:
            report.drops["before_start"] += 1
        report.drops[kind] += 1
        dropped = time.perf_counter()
        if kind == "kick":
            room_id = api.RoomParticipantIdentity(room=ROOM, identity=identity)
            stand_in.silence()
            await lkapi.room.remove_participant(room_id)
        await stand_in.drop(abrupt=kind == "kick")
        await _until(lambda: link.fallback is not None, STUCK_AFTER)
        if link.fallback is not None:
            report.switch_times.append(time.perf_counter() - dropped)
        try:
            await asyncio.wait_for(cut.wait_for_playout(), STUCK_AFTER)
        except TimeoutError:
            report.stuck += 1
        said = time.perf_counter()
        nxt = session.say("Still here.", audio=_speech(0.8))
        heard = await listener.heard_after(said, HEAR_WITHIN)
        try:
            await asyncio.wait_for(nxt.wait_for_playout(), STUCK_AFTER)
        except TimeoutError:
            report.stuck += 1
        if heard is None:
            report.silent += 1
        else:
            report.heard += 1
            report.audible_times.append(heard - dropped)
            report.said_to_audible.append(heard - said)
        report.trials += 1
    finally:
        await session.aclose()
        await sync.aclose()
        await face.aclose()


async def _until(check: Any, within: float) -> None:
    deadline = time.perf_counter() + within
    while not check() and time.perf_counter() < deadline:  # noqa: ASYNC110 (a plain attribute)
        await asyncio.sleep(0.005)
