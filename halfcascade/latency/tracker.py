"""``LatencyTracker``: a timeline for every turn of a session, from its own events.

livekit's realtime metrics start ``ttft`` at ``response.created``, record no TTS first byte
on this path and no end-to-end figure without a local VAD. The tracker stitches a turn
together instead:

- the user's end of speech: ``user_state_changed`` speaking -> listening (the server VAD's
  ``speech_stopped``, or the local VAD when one is attached);
- first text, first text handed to the TTS, first TTS audio: reported through
  :mod:`halfcascade.latency.probe` by ``halfcascade.Agent``'s nodes and the first-phrase
  tokenizer, for the speech being synthesised;
- first audio frame at the output and the output's own playback start: a pass-through
  ``AudioOutput`` wrapped around whatever output the session has (room track, avatar);
- turn end and interruption: the speech handle.

Each finished turn is emitted as a :class:`TurnTimeline` (``tracker.on("turn", cb)``),
logged as one ``KEY=ms`` line and recorded as OpenTelemetry spans; :meth:`summary` gives
p50/p95/max, logged when the session closes.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass, field
from typing import Any, Literal

from livekit import rtc
from livekit.agents import AgentSession
from livekit.agents.voice import io
from livekit.agents.voice.events import (
    AgentStateChangedEvent,
    CloseEvent,
    SpeechCreatedEvent,
    UserStateChangedEvent,
)
from livekit.agents.voice.speech_handle import SpeechHandle

from .otel import record_turn
from .probe import CacheOutcome, Stage
from .timeline import LatencySummary, SpeechEndSource, TurnTimeline

__all__ = ["LatencyTracker"]

logger = logging.getLogger("halfcascade.latency")


@dataclass(slots=True)
class _Turn:
    index: int
    speech_end_at: float | None
    source: SpeechEndSource
    marks: dict[str, float] = field(default_factory=dict)
    cache: CacheOutcome | None = None
    saved: float | None = None

    def mark(self, stage: str, at: float) -> None:
        self.marks.setdefault(stage, at)

    def finish(
        self, *, ended_at: float, interrupted: bool, last_ttfb: float | None
    ) -> TurnTimeline:
        m = self.marks
        return TurnTimeline(
            turn=self.index,
            speech_end_at=self.speech_end_at,
            speech_end_source=self.source,
            first_text_at=m.get("first_text"),
            first_tts_text_at=m.get("first_tts_text"),
            first_tts_audio_at=m.get("first_tts_audio"),
            first_audio_out_at=m.get("first_audio_out"),
            playback_started_at=m.get("playback_started"),
            ended_at=ended_at,
            interrupted=interrupted,
            phrase_cache=self.cache,
            cache_saved=(self.saved if self.saved is not None else last_ttfb)
            if self.cache == "hit"
            else None,
        )


class LatencyTracker(rtc.EventEmitter[Literal["turn"]]):
    """Measures every turn of ``session``; create it before ``session.start()``."""

    def __init__(self, session: AgentSession[Any]) -> None:
        super().__init__()
        self._session = session
        self._timelines: list[TurnTimeline] = []
        self._turn: _Turn | None = None
        self._count = 0
        self._output: _TimedOutput | None = None
        self._heard_end: float | None = None
        self._last_ttfb: float | None = None  # the live TTS's last measured first byte
        if (on_speech_end := getattr(session.llm, "on_speech_end", None)) is not None:
            on_speech_end(self._on_heard_end)
        session.on("user_state_changed", self._on_user_state)
        session.on("agent_state_changed", self._on_agent_state)
        session.on("speech_created", self._on_speech)
        session.on("close", self._on_close)

    @property
    def timelines(self) -> list[TurnTimeline]:
        """Every finished turn so far, in order."""
        return list(self._timelines)

    def summary(self) -> LatencySummary:
        """p50/p95/max over the finished turns."""
        return LatencySummary.of(self._timelines)

    def mark(self, stage: Stage, at: float) -> None:
        """A probe report for the turn in progress (see :mod:`halfcascade.latency.probe`)."""
        self._note(stage, at)

    def cache(self, outcome: CacheOutcome, *, saved: float | None = None) -> None:
        """The phrase cache's report for the turn in progress (the first outcome counts)."""
        turn = self._turn
        if turn is None:
            return
        if turn.cache is None:
            turn.cache = outcome
        if saved is not None and turn.saved is None:
            turn.saved = saved

    def _note(self, stage: str, at: float) -> None:
        if self._turn is not None:
            self._turn.mark(stage, at)

    # -- session events ---------------------------------------------------------------

    def _on_heard_end(self, at: float) -> None:
        self._heard_end = at

    def _on_user_state(self, ev: UserStateChangedEvent) -> None:
        if ev.old_state == "speaking" and ev.new_state == "listening":
            source: SpeechEndSource = "server_vad" if self._session.vad is None else "local_vad"
            end = ev.created_at
            if source == "server_vad" and self._heard_end is not None:
                # the audio position the server says speech ended at, not its VAD decision
                end, source = min(self._heard_end, end), "server_vad_audio"
            self._heard_end = None
            self._close_unanswered(ev.created_at)
            self._turn = self._new_turn(end, source)

    def _on_agent_state(self, ev: AgentStateChangedEvent) -> None:
        if self._output is None and ev.old_state == "initializing":
            self._wrap_output()

    def _on_speech(self, ev: SpeechCreatedEvent) -> None:
        if self._turn is None:  # the agent speaks first (greeting, generate_reply)
            self._turn = self._new_turn(None, "none")
        turn = self._turn
        ev.speech_handle.add_done_callback(lambda h: self._on_speech_done(turn, h))

    def _on_speech_done(self, turn: _Turn, handle: SpeechHandle) -> None:
        if turn is not self._turn:
            return
        if "first_audio_out" in turn.marks or handle.interrupted:
            self._finish(turn, interrupted=handle.interrupted)
        # a speech without audio (a tool call step) leaves the turn open for the reply

    def _on_close(self, _: CloseEvent) -> None:
        self._close_unanswered(time.time())
        summary = self.summary()
        if summary.turns:
            logger.info("LATENCY_SUMMARY %s", summary.log_line())

    # -- helpers ----------------------------------------------------------------------

    def _new_turn(self, speech_end_at: float | None, source: SpeechEndSource) -> _Turn:
        self._count += 1
        return _Turn(self._count, speech_end_at, source)

    def _close_unanswered(self, now: float) -> None:
        if self._turn is not None and self._turn.marks:
            self._finish(self._turn, interrupted=True, ended_at=now)
        self._turn = None

    def _finish(self, turn: _Turn, *, interrupted: bool, ended_at: float | None = None) -> None:
        timeline = turn.finish(
            ended_at=ended_at or time.time(), interrupted=interrupted, last_ttfb=self._last_ttfb
        )
        live = timeline.tts_ttfb if timeline.phrase_cache != "hit" else turn.saved
        if live is not None:
            self._last_ttfb = live
        if self._turn is turn:
            self._turn = None
        self._timelines.append(timeline)
        logger.info("TURN_LATENCY %s", timeline.log_line())
        record_turn(timeline)
        self.emit("turn", timeline)

    def _wrap_output(self) -> None:
        current = self._session.output.audio
        if current is None or isinstance(current, _TimedOutput):
            return
        self._output = _TimedOutput(current, self)
        self._session.output.audio = self._output


class _TimedOutput(io.AudioOutput):
    """Pass-through output noting the first frame of each segment and playback start."""

    def __init__(self, inner: io.AudioOutput, tracker: LatencyTracker) -> None:
        super().__init__(
            label="halfcascade.latency",
            capabilities=io.AudioOutputCapabilities(pause=inner.can_pause),
            next_in_chain=inner,
            sample_rate=inner.sample_rate,
        )
        self._tracker = tracker
        self._in_segment = False

    async def capture_frame(self, frame: rtc.AudioFrame) -> None:
        if not self._in_segment:
            self._in_segment = True
            self._tracker._note("first_audio_out", time.time())
        assert self.next_in_chain is not None
        await self.next_in_chain.capture_frame(frame)
        # count the segment only once the sink took the frame, as livekit's own wrappers do:
        # a barge-in can cancel the hand-over, and a segment counted but never played would
        # keep every later interruption waiting for its finish
        await super().capture_frame(frame)

    def on_playback_finished(
        self,
        *,
        playback_position: float,
        interrupted: bool,
        synchronized_transcript: str | None = None,
    ) -> None:
        if not self._pending_playback_count:
            return  # a segment cancelled before this wrapper counted it
        super().on_playback_finished(
            playback_position=playback_position,
            interrupted=interrupted,
            synchronized_transcript=synchronized_transcript,
        )

    def flush(self) -> None:
        super().flush()
        self._in_segment = False
        assert self.next_in_chain is not None
        self.next_in_chain.flush()

    def clear_buffer(self) -> None:
        self._in_segment = False
        assert self.next_in_chain is not None
        self.next_in_chain.clear_buffer()

    def on_playback_started(self, *, created_at: float) -> None:
        self._tracker._note("playback_started", created_at)
        super().on_playback_started(created_at=created_at)
