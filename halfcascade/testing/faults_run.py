"""Randomized barge-ins and injected faults through a real half-cascade session.

One :func:`run_faults` call drives one room-less ``halfcascade.Session`` (the OpenAI
Realtime and ElevenLabs plugins against the local stand-ins, each behind a
:class:`~halfcascade.testing.faults.FaultProxy`; an OpenAI TTS stand-in as the fallback
voice) through ``steps`` user turns. The stand-ins run in a process of their own
(:class:`~halfcascade.testing.faults_host.StandInHost`, shared by every run given the same
``host``), as a provider does: the sessions' CPU, event loop and memory are theirs alone.
Each turn is a barge-in (the user speaks again 0-1.5 s later) or a fault: the voice hangs,
refuses, answers 5xx, is slow, drops or stalls mid-reply; the realtime socket drops
mid-reply or a response fails. The agent's audio goes
through livekit's ``TranscriptSynchronizer`` (as RoomIO inserts it) into a
:class:`SpeakerOutput` or the local avatar. The counts land in a :class:`FaultReport`.
"""

from __future__ import annotations

import asyncio
import dataclasses
import random
import time
from collections.abc import AsyncIterator, Sequence
from contextlib import AsyncExitStack, asynccontextmanager
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Literal

from livekit.agents import SpeechCreatedEvent
from livekit.agents.voice import io
from livekit.agents.voice.speech_handle import SpeechHandle
from livekit.agents.voice.transcription import TranscriptSynchronizer

from .audio_io import MicrophoneInput, SpeakerOutput
from .faults_host import HostedRig, StandInHost
from .faults_report import LIFECYCLE_WARNINGS, FaultReport, WarningLog
from .voices import synthetic_voice

if TYPE_CHECKING:
    from ..brain.context_window import ContextWindow

__all__ = ["FAULTS", "LIFECYCLE_WARNINGS", "Fault", "FaultReport", "WarningLog", "run_faults"]

Fault = Literal[
    "plain",
    "barge_in",
    "tts_hang",
    "tts_refuse",
    "tts_5xx",
    "tts_slow",
    "tts_drop",
    "tts_stall",
    "realtime_drop",
    "realtime_stall",
    "realtime_5xx",
]
#: Every fault kind (``barge_in`` is a randomized barge-in, ``plain`` a turn left to end).
FAULTS: tuple[Fault, ...] = (
    "tts_hang",
    "tts_refuse",
    "tts_5xx",
    "tts_slow",
    "tts_drop",
    "tts_stall",
    "realtime_drop",
    "realtime_stall",
    "realtime_5xx",
)
_RATE = 24000
_REALTIME_CUTS = ("realtime_drop", "realtime_stall")  # the realtime socket cut mid-reply
_QUIET_LIMIT = 8.0  # a reply not over this long after its audio would have played out is stuck
_TURN_LIMIT = 90.0  # nor may one take longer than this, audio or not


class _Tap(io.AudioOutput):
    """Passes audio on to the output under test, noting when each segment starts."""

    def __init__(self, next_in_chain: io.AudioOutput) -> None:
        super().__init__(
            label="halfcascade.testing.faults_run.Tap",
            next_in_chain=next_in_chain,
            capabilities=io.AudioOutputCapabilities(pause=False),
            sample_rate=next_in_chain.sample_rate,
        )
        self.starts: list[float] = []
        self.played_out_at = 0.0  # when the audio passed on so far has played, in real time
        self._open = False

    async def capture_frame(self, frame: Any) -> None:
        await super().capture_frame(frame)
        self.played_out_at = max(self.played_out_at, time.perf_counter()) + frame.duration
        if not self._open:
            self._open = True
            self.starts.append(time.perf_counter())
        assert self.next_in_chain is not None
        await self.next_in_chain.capture_frame(frame)

    def flush(self) -> None:
        super().flush()
        self._open = False
        assert self.next_in_chain is not None
        self.next_in_chain.flush()

    def clear_buffer(self) -> None:
        self.played_out_at = min(self.played_out_at, time.perf_counter())  # dropped, unplayed
        assert self.next_in_chain is not None
        self.next_in_chain.clear_buffer()


@dataclass
class _Rig:
    standins: HostedRig
    mic: MicrophoneInput
    speaker: SpeakerOutput
    tap: _Tap
    handles: list[SpeechHandle] = field(default_factory=list)
    tts: Any = None
    window: ContextWindow | None = None
    window_full: bool = False
    created: int = 0

    async def prune(self) -> None:
        """Forget finished replies and the stand-in's event log (a long run stays bounded)."""
        self.handles = [h for h in self.handles if not h.done()]
        del self.speaker.segments[:-4]
        await self.standins.call("prune")

    def primary_up(self) -> bool:
        health = getattr(self.tts, "health", None)
        return bool(health[0].available) if health else True


async def run_faults(
    *,
    steps: int,
    seed: int,
    faults: Sequence[Fault] = ("barge_in", *FAULTS),
    avatar: bool = False,
    until: float | None = None,
    report: FaultReport | None = None,
    host: StandInHost | None = None,
    session_turns: int | None = None,
    deck: Sequence[Fault] | None = None,
    context_items: int | None = None,
) -> FaultReport:
    """Drive one session through ``steps`` turns, each a random choice from ``faults``
    (stopping early at ``until``, a ``time.perf_counter()`` reading); counts go to
    ``report`` (a new one by default) as they happen. ``host`` holds the stand-ins (by
    default a new one for this run). With ``session_turns``, each session ends after that
    many turns and a new one takes its place (users come and go), until ``steps``. A
    ``deck`` gives the exact turns instead, shuffled (``steps`` is then its length): a
    count is met exactly, not on average. ``context_items`` sets the sessions'
    ``OpenAIBrain(context_items=...)`` (its default when ``None``): the window whose first
    trim :attr:`FaultReport.windows_full_at` records."""
    if session_turns is not None and session_turns < 1:
        raise ValueError(f"session_turns must be >= 1, got {session_turns}")
    rng = random.Random(seed)
    order: list[Fault] | None = None
    if deck is not None:
        order = list(deck)
        rng.shuffle(order)
        steps = len(order)
    report = report if report is not None else FaultReport()
    async with AsyncExitStack() as stack:
        if host is None:
            host = await stack.enter_async_context(StandInHost())
        standins = await stack.enter_async_context(host.rig(seed=seed))
        done = 0
        while done < steps and (until is None or time.perf_counter() < until):
            n = min(steps - done, session_turns or steps)
            async with _rig(standins, avatar=avatar, context_items=context_items) as rig:
                report.sessions += 1
                await _drive(rig, rng, n, faults, until, report, first=done, order=order)
            done += n
    return report


async def _drive(
    rig: _Rig,
    rng: random.Random,
    steps: int,
    faults: Sequence[Fault],
    until: float | None,
    report: FaultReport,
    *,
    first: int = 0,
    order: Sequence[Fault] | None = None,
) -> None:
    utterance = synthetic_voice("hey there", _RATE)
    for i in range(first, first + steps):
        if until is not None and time.perf_counter() >= until:
            break
        kind = order[i] if order is not None else rng.choice(list(faults))
        report.faults[kind] += 1
        stuck, silent = report.stuck, report.silent
        await _turn(rig, rng, kind, utterance, i, report)
        report.by_kind[f"stuck:{kind}"] += report.stuck - stuck
        report.by_kind[f"silent:{kind}"] += report.silent - silent
        report.turns += 1
        _note_window_full(rig, report)
        await rig.prune()
    await _quiet(rig)
    _note_window_full(rig, report)  # a trim runs after the reply: the last one too


def _note_window_full(rig: _Rig, report: FaultReport) -> None:
    if rig.window is not None and rig.window.trims and not rig.window_full:
        rig.window_full = True  # from here the session's bounded state is at its bound
        report.windows_full_at.append(time.perf_counter())


@asynccontextmanager
async def _rig(
    standins: HostedRig, *, avatar: bool, context_items: int | None = None
) -> AsyncIterator[_Rig]:
    from livekit.agents.utils import http_context

    from ..agent import Agent
    from ..avatar import LocalAvatar, attach_avatar
    from ..brain import OpenAIBrain
    from ..session import Session
    from ..speech import ElevenLabsVoice, OpenAIVoice

    brain = OpenAIBrain(
        turn_detection="server_vad",
        silence_ms=150,
        api_key="test",
        base_url=standins.realtime_url,
    )
    if context_items is not None:
        brain = dataclasses.replace(brain, context_items=context_items)
    async with AsyncExitStack() as stack:
        await stack.enter_async_context(http_context.open())
        session = Session(
            brain=brain,
            voice=ElevenLabsVoice(base_url=standins.elevenlabs_url, api_key="test"),
            fallback_voices=[OpenAIVoice(base_url=standins.backup_url, api_key="test")],
        )
        mic, speaker = MicrophoneInput(sample_rate=_RATE), SpeakerOutput(keep_audio=False)
        session.input.audio = mic
        out: io.AudioOutput = speaker
        if avatar:
            session.output.audio = speaker
            face = await attach_avatar(session, None, LocalAvatar(width=128, height=128))
            stack.push_async_callback(face.aclose)
            assert session.output.audio is not None
            out = session.output.audio
        tap = _Tap(out)
        sync = TranscriptSynchronizer(next_in_chain_audio=tap, next_in_chain_text=None)
        session.output.audio = sync.audio_output
        session.output.transcription = sync.text_output
        rig = _Rig(standins, mic, speaker, tap, tts=session.tts, window=session.context_window)

        def on_created(ev: SpeechCreatedEvent) -> None:
            rig.handles.append(ev.speech_handle)
            rig.created += 1

        session.on("speech_created", on_created)
        await session.start(Agent(instructions="You are a dog.", style=None))
        stack.push_async_callback(speaker.aclose)
        stack.push_async_callback(sync.aclose)
        stack.push_async_callback(session.aclose)
        yield rig


async def _turn(
    rig: _Rig, rng: random.Random, kind: Fault, pcm: Any, i: int, report: FaultReport
) -> None:
    standins = rig.standins
    if kind == "barge_in":
        await standins.call("push", text=f"turn {i}")
        await rig.mic.say(pcm)
        await asyncio.sleep(rng.uniform(0.0, 1.5))
        return
    await _quiet(rig)  # a fault turn starts from silence, so its reply is its own
    primary_up = rig.primary_up()
    await standins.call("before_reply", kind=kind)
    handles, segments = rig.created, len(rig.tap.starts)
    await standins.call("push", text=f"turn {i}")
    spoke_at = await rig.mic.say(pcm)
    handle = await _next_handle(rig, handles)
    dropped_at: float | None = None
    if handle is not None and kind in ("tts_drop", "tts_stall", *_REALTIME_CUTS):
        await asyncio.sleep(rng.uniform(0.1, 0.8))
        dropped_at = time.perf_counter()
        await standins.call("mid_reply", kind=kind)
    if dropped_at is not None and kind in _REALTIME_CUTS:
        await standins.call("restore")
        await _after_drop(rig, pcm, i, dropped_at, report, stalled=kind == "realtime_stall")
        return
    done = handle is not None and await _finished(rig, handle)
    await standins.call("restore")
    if handle is None or not done:
        report.stuck += handle is not None
        # a failed realtime response has no text: nothing to speak, not a silent voice
        report.silent += handle is None and kind not in (*_REALTIME_CUTS, "realtime_5xx")
    played = rig.tap.starts[segments:]
    if handle is not None and done and not handle.interrupted and not played:
        report.silent += kind != "realtime_5xx"
    first_text = await standins.call("first_delta_at") if played else None
    if first_text is not None and kind in ("tts_hang", "tts_refuse", "tts_5xx"):
        delays = report.failover_delays if primary_up else report.down_delays
        delays.append(played[0] - first_text)
        key = f"failover_max_ms:{kind}"
        report.by_kind[key] = max(report.by_kind[key], round((played[0] - first_text) * 1000))
    if first_text is not None and kind == "plain" and primary_up:
        report.text_to_audio.append(played[0] - first_text)
        report.ttfa.append(played[0] - spoke_at)
        report.ttfa_at.append(spoke_at)


async def _after_drop(
    rig: _Rig, pcm: Any, i: int, dropped_at: float, report: FaultReport, *, stalled: bool
) -> None:
    """The user speaks again at once (over what is left of the reply); is it answered?

    After a stall the first words go into the dead socket (the watchdog has not shut it
    yet), so the user, hearing nothing, says them once more, as people do."""
    report.turns_after_drop += 1
    for _ in range(2 if stalled else 1):
        handles, segments = rig.created, len(rig.tap.starts)
        await rig.standins.call("push", text=f"turn {i} again")
        await rig.mic.say(pcm)
        handle = await _next_handle(rig, handles)
        if handle is None:
            continue
        if not await _finished(rig, handle):
            report.stuck += 1
            return
        played = [t for t in rig.tap.starts[segments:] if t > dropped_at + 0.3]
        if played:
            report.answered_after_drop += 1
            if stalled:
                report.stall_recovery_times.append(played[-1] - dropped_at)
            else:
                report.recovery_times.append(played[-1] - dropped_at)
            return


async def _next_handle(rig: _Rig, before: int) -> SpeechHandle | None:
    deadline = time.perf_counter() + 5.0
    while rig.created <= before:
        if time.perf_counter() > deadline:
            return None
        await asyncio.sleep(0.02)
    return rig.handles[-1]


async def _finished(rig: _Rig, handle: SpeechHandle) -> bool:
    """Whether the reply ends; ``False`` (stuck) when it is still not over ``_QUIET_LIMIT``
    seconds after all the audio it produced would have played out in real time (audio a
    fast voice passed on in a burst included), or after ``_TURN_LIMIT``: a long reply still
    playing is not stuck, a short one that stopped is."""
    began = time.perf_counter()
    waiter = asyncio.ensure_future(handle.wait_for_playout())
    try:
        while not (await asyncio.wait({waiter}, timeout=0.5))[0]:
            now = time.perf_counter()
            quiet_since = max(began, rig.tap.played_out_at)
            if now - quiet_since > _QUIET_LIMIT or now - began > _TURN_LIMIT:
                return False
        return True
    finally:
        waiter.cancel()


async def _quiet(rig: _Rig) -> None:
    for handle in list(rig.handles):
        if not handle.done():
            await _finished(rig, handle)
