"""Randomized barge-ins and injected faults through a real half-cascade session.

One :func:`run_faults` call drives one room-less ``halfcascade.Session`` (the OpenAI
Realtime and ElevenLabs plugins against the local stand-ins, each behind a
:class:`~halfcascade.testing.faults.FaultProxy`; an OpenAI TTS stand-in as the fallback
voice) through ``steps`` user turns. Each turn is a barge-in (the user speaks again 0-1.5 s
later) or a fault: the voice hangs, refuses, answers 5xx, is slow, drops or stalls
mid-reply; the realtime socket drops mid-reply or a response fails. The agent's audio goes
through livekit's ``TranscriptSynchronizer`` (as RoomIO inserts it) into a
:class:`SpeakerOutput` or the local avatar. The counts land in a :class:`FaultReport`.
"""

from __future__ import annotations

import asyncio
import functools
import random
import time
from collections.abc import AsyncIterator, Sequence
from contextlib import AsyncExitStack, asynccontextmanager
from dataclasses import dataclass, field
from typing import Any, Literal

from livekit.agents import SpeechCreatedEvent
from livekit.agents.voice import io
from livekit.agents.voice.speech_handle import SpeechHandle
from livekit.agents.voice.transcription import TranscriptSynchronizer

from .audio_io import MicrophoneInput, SpeakerOutput
from .elevenlabs import ElevenLabsServer
from .faults import FaultProxy
from .faults_report import LIFECYCLE_WARNINGS, FaultReport, WarningLog
from .openai_realtime import RealtimeServer, ReplyContext
from .openai_tts import OpenAITTSServer
from .transcribe import ScriptedTranscriber
from .vad import VadConfig
from .voices import synthetic_voice

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
    "realtime_5xx",
)
_RATE = 24000
_WORDS = "woof hello friend sure buddy okay then let us go play fetch in the park now".split()
_REPLY_POOL = 48
"""Distinct replies every run draws from (3-40 words each). The stand-in voices cache what
espeak-ng speaks (an LRU of 256 phrases): fresh random words every turn kept filling it for
the whole soak (about 25 MB, the bulk of the RSS growth measured), where a bounded pool
fills it during the warm-up; barge-ins and faults still cut the replies at random points."""
_TURN_LIMIT = 15.0  # a reply not over by then is stuck


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
        self._open = False

    async def capture_frame(self, frame: Any) -> None:
        await super().capture_frame(frame)
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
        assert self.next_in_chain is not None
        self.next_in_chain.clear_buffer()


@dataclass
class _Rig:
    rt: RealtimeServer
    el: ElevenLabsServer
    rt_proxy: FaultProxy
    el_proxy: FaultProxy
    mic: MicrophoneInput
    speaker: SpeakerOutput
    transcriber: ScriptedTranscriber
    tap: _Tap
    handles: list[SpeechHandle] = field(default_factory=list)
    tts: Any = None
    created: int = 0

    def prune(self) -> None:
        """Forget finished replies and the stand-in's event log (a long run stays bounded)."""
        self.handles = [h for h in self.handles if not h.done()]
        self.rt.received.clear()
        self.rt.sent.clear()
        del self.speaker.segments[:-4]

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
) -> FaultReport:
    """Drive one session through ``steps`` turns, each a random choice from ``faults``
    (stopping early at ``until``, a ``time.perf_counter()`` reading); counts go to
    ``report`` (a new one by default) as they happen."""
    rng = random.Random(seed)
    report = report if report is not None else FaultReport()
    async with _rig(rng, avatar=avatar) as rig:
        utterance = synthetic_voice("hey there", _RATE)
        for i in range(steps):
            if until is not None and time.perf_counter() >= until:
                break
            kind = rng.choice(list(faults))
            report.faults[kind] += 1
            stuck, silent = report.stuck, report.silent
            await _turn(rig, rng, kind, utterance, i, report)
            report.by_kind[f"stuck:{kind}"] += report.stuck - stuck
            report.by_kind[f"silent:{kind}"] += report.silent - silent
            report.turns += 1
            rig.prune()
        await _quiet(rig)
    return report


@functools.cache
def _replies() -> tuple[str, ...]:
    pool = random.Random(0)
    return tuple(
        " ".join(pool.choice(_WORDS) for _ in range(pool.randint(3, 40))).capitalize() + "."
        for _ in range(_REPLY_POOL)
    )


@asynccontextmanager
async def _rig(rng: random.Random, *, avatar: bool) -> AsyncIterator[_Rig]:
    from livekit.agents.utils import http_context

    from ..agent import Agent
    from ..avatar import LocalAvatar, attach_avatar
    from ..brain import OpenAIBrain
    from ..session import Session
    from ..speech import ElevenLabsVoice, OpenAIVoice

    def reply(ctx: ReplyContext) -> str:
        return rng.choice(_replies())

    transcriber = ScriptedTranscriber()
    vad = VadConfig(min_speech_ms=40, prefix_padding_ms=0)
    async with AsyncExitStack() as stack:
        await stack.enter_async_context(http_context.open())
        rt = await stack.enter_async_context(
            RealtimeServer(
                reply=reply, ttft=0.05, token_interval=0.01, transcriber=transcriber, vad=vad
            )
        )
        el = await stack.enter_async_context(ElevenLabsServer(ttfb=0.05))
        backup = await stack.enter_async_context(OpenAITTSServer(ttfb=0.05))
        rt_proxy = await stack.enter_async_context(FaultProxy(rt.port))
        el_proxy = await stack.enter_async_context(FaultProxy(el.port))
        session = Session(
            brain=OpenAIBrain(
                turn_detection="server_vad",
                silence_ms=150,
                api_key="test",
                base_url=rt_proxy.base_url(rt.base_url),
            ),
            voice=ElevenLabsVoice(base_url=el_proxy.base_url(el.base_url), api_key="test"),
            fallback_voices=[OpenAIVoice(base_url=backup.base_url, api_key="test")],
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
        rig = _Rig(rt, el, rt_proxy, el_proxy, mic, speaker, transcriber, tap, tts=session.tts)

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
    if kind == "barge_in":
        rig.transcriber.push(f"turn {i}")
        await rig.mic.say(pcm)
        await asyncio.sleep(rng.uniform(0.0, 1.5))
        return
    await _quiet(rig)  # a fault turn starts from silence, so its reply is its own
    primary_up = rig.primary_up()
    _before_reply(rig, kind)
    handles, segments = rig.created, len(rig.tap.starts)
    rig.transcriber.push(f"turn {i}")
    spoke_at = await rig.mic.say(pcm)
    handle = await _next_handle(rig, handles)
    dropped_at: float | None = None
    if handle is not None and kind in ("tts_drop", "tts_stall", "realtime_drop"):
        await asyncio.sleep(rng.uniform(0.1, 0.8))
        dropped_at = time.perf_counter()
        _mid_reply(rig, kind)
    if dropped_at is not None and kind == "realtime_drop":
        _restore(rig)
        await _after_drop(rig, pcm, i, dropped_at, report)
        return
    done = handle is not None and await _finished(handle)
    _restore(rig)
    if handle is None or not done:
        report.stuck += handle is not None
        # a failed realtime response has no text: nothing to speak, not a silent voice
        report.silent += handle is None and kind not in ("realtime_drop", "realtime_5xx")
    played = rig.tap.starts[segments:]
    if handle is not None and done and not handle.interrupted and not played:
        report.silent += kind != "realtime_5xx"
    first_text = rig.rt.turns[-1].first_delta_at if played and rig.rt.turns else None
    if first_text is not None and kind in ("tts_hang", "tts_refuse", "tts_5xx"):
        delays = report.failover_delays if primary_up else report.down_delays
        delays.append(played[0] - first_text)
        key = f"failover_max_ms:{kind}"
        report.by_kind[key] = max(report.by_kind[key], round((played[0] - first_text) * 1000))
    if first_text is not None and kind == "plain" and primary_up:
        report.text_to_audio.append(played[0] - first_text)
        report.ttfa.append(played[0] - spoke_at)
        report.ttfa_at.append(spoke_at)


def _before_reply(rig: _Rig, kind: Fault) -> None:
    if kind == "tts_hang":
        rig.el_proxy.mode = "hang"
        rig.el_proxy.hang_all()
    elif kind == "tts_refuse":
        rig.el_proxy.mode = "refuse"
        rig.el_proxy.drop_all()
    elif kind == "tts_5xx":
        rig.el.fail_next(1, kind="error")
    elif kind == "tts_slow":
        rig.el_proxy.delay = 0.3
    elif kind == "realtime_5xx":
        rig.rt.fail_next_response()


def _mid_reply(rig: _Rig, kind: Fault) -> None:
    if kind == "tts_drop":
        rig.el_proxy.drop_all()
    elif kind == "tts_stall":
        rig.el_proxy.hang_all()
    elif kind == "realtime_drop":
        rig.rt_proxy.drop_all()


def _restore(rig: _Rig) -> None:
    rig.el_proxy.mode = "pass"
    rig.el_proxy.delay = 0.0
    rig.el_proxy.drop_hung()  # a stalled server ends its sockets eventually


async def _after_drop(rig: _Rig, pcm: Any, i: int, dropped_at: float, report: FaultReport) -> None:
    """The user speaks again at once (over what is left of the reply); is it answered?"""
    handles, segments = rig.created, len(rig.tap.starts)
    report.turns_after_drop += 1
    rig.transcriber.push(f"turn {i} again")
    await rig.mic.say(pcm)
    handle = await _next_handle(rig, handles)
    if handle is None or not await _finished(handle):
        report.stuck += handle is not None
        return
    played = [t for t in rig.tap.starts[segments:] if t > dropped_at + 0.3]
    if played:
        report.answered_after_drop += 1
        report.recovery_times.append(played[-1] - dropped_at)


async def _next_handle(rig: _Rig, before: int) -> SpeechHandle | None:
    deadline = time.perf_counter() + 5.0
    while rig.created <= before:
        if time.perf_counter() > deadline:
            return None
        await asyncio.sleep(0.02)
    return rig.handles[-1]


async def _finished(handle: SpeechHandle) -> bool:
    try:
        async with asyncio.timeout(_TURN_LIMIT):
            await handle.wait_for_playout()
    except TimeoutError:
        return False
    return True


async def _quiet(rig: _Rig) -> None:
    for handle in list(rig.handles):
        if not handle.done():
            await _finished(handle)
