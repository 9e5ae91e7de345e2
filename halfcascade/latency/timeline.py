"""Typed latency records: one per turn, one per job start, and a session summary.

Times are ``time.time()`` seconds (as livekit's own events); every derived figure is a
float in seconds named for what it measures, ``None`` when a stage did not happen.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Literal

import numpy as np

from .probe import CacheOutcome

__all__ = ["LatencySummary", "StartupTimeline", "TurnTimeline"]

SpeechEndSource = Literal["server_vad_audio", "server_vad", "local_vad", "none"]
"""``server_vad_audio``: the audio position of the server's ``speech_stopped`` mapped to when
that audio was sent (the user's real end of speech); ``server_vad``: the event's arrival
(the end of the server's silence window); ``local_vad``: a local VAD's end of speech."""


def _ms(value: float | None) -> str:
    return "NA" if value is None else str(round(value * 1000))


def _between(a: float | None, b: float | None) -> float | None:
    return None if a is None or b is None else b - a


@dataclass(frozen=True, slots=True, kw_only=True)
class TurnTimeline:
    """When each stage of one agent turn happened."""

    turn: int
    speech_end_at: float | None
    """The user's end of speech (server VAD event, or a local VAD when attached)."""
    speech_end_source: SpeechEndSource
    first_text_at: float | None
    """First text from the realtime model."""
    first_tts_text_at: float | None
    """First text handed to the TTS (the first phrase)."""
    first_tts_audio_at: float | None
    """First audio from the TTS."""
    first_audio_out_at: float | None
    """First audio frame delivered to the output (room track or avatar)."""
    playback_started_at: float | None
    """When the output reported playback start (an avatar's own report, where it has one)."""
    ended_at: float
    interrupted: bool
    phrase_cache: CacheOutcome | None = None
    """``"hit"``: the reply's opener played from the phrase cache; ``"miss"``: it did not
    (no opener, or none cached for this voice yet); ``None``: no phrase cache."""
    cache_saved: float | None = None
    """On a hit, the TTS first-byte time the opener did not wait for: the live TTS's
    first-byte time on the rest of the same reply, or the last one measured when the reply
    was only the opener."""
    type: Literal["turn_timeline"] = "turn_timeline"

    @property
    def speech_end_to_first_text(self) -> float | None:
        """User's end of speech to the model's first text."""
        return _between(self.speech_end_at, self.first_text_at)

    @property
    def tts_ttfb(self) -> float | None:
        """First text handed to the TTS to its first audio."""
        return _between(self.first_tts_text_at, self.first_tts_audio_at)

    @property
    def ttfa(self) -> float | None:
        """Time to first audio: user's end of speech to the first frame at the output."""
        return _between(self.speech_end_at, self.first_audio_out_at)

    @property
    def playback_delay(self) -> float | None:
        """First frame delivered to reported playback start (avatar buffering)."""
        return _between(self.first_audio_out_at, self.playback_started_at)

    @property
    def total(self) -> float | None:
        """User's end of speech to the end of the agent's turn."""
        return _between(self.speech_end_at, self.ended_at)

    def log_line(self) -> str:
        """``KEY=ms`` pairs, named as users already log them."""
        return (
            f"TURN={self.turn} SPEECH_END_SOURCE={self.speech_end_source} "
            f"SPEECH_END_TO_FIRST_TEXT_MS={_ms(self.speech_end_to_first_text)} "
            f"TEXT_TO_TTS_MS={_ms(_between(self.first_text_at, self.first_tts_text_at))} "
            f"TTS_LATENCY_MS={_ms(self.tts_ttfb)} "
            f"TOTAL_TIME_TO_FIRST_AUDIO_MS={_ms(self.ttfa)} "
            f"AVATAR_PLAYBACK_DELAY_MS={_ms(self.playback_delay)} "
            f"TOTAL_TURN_TIME_MS={_ms(self.total)} INTERRUPTED={int(self.interrupted)} "
            f"PHRASE_CACHE={self.phrase_cache or 'off'} CACHE_SAVED_MS={_ms(self.cache_saved)}"
        )


_STAGES = ("room_connected", "realtime_ready", "tts_warm", "avatar_ready", "first_agent_audio")


@dataclass(slots=True, kw_only=True)
class StartupTimeline:
    """A job's start: each stage as an offset from the job being received (seconds)."""

    job_received_at: float
    marks: dict[str, float] = field(default_factory=dict)
    type: Literal["startup_timeline"] = "startup_timeline"

    def mark(self, stage: str, at: float) -> None:
        """Record ``stage`` at ``at`` (the first time only)."""
        self.marks.setdefault(stage, at)

    def offset(self, stage: str) -> float | None:
        """Seconds from the job being received to ``stage``."""
        at = self.marks.get(stage)
        return None if at is None else at - self.job_received_at

    def log_line(self) -> str:
        """``KEY=ms`` pairs from the job being received."""
        return " ".join(f"{s.upper()}_MS={_ms(self.offset(s))}" for s in _STAGES)


@dataclass(frozen=True, slots=True)
class LatencySummary:
    """Percentiles (seconds) over a session's turns."""

    turns: int
    interrupted: int
    figures: dict[str, dict[str, float]]
    cache_hits: int = 0
    cache_misses: int = 0
    type: Literal["latency_summary"] = "latency_summary"

    @property
    def cache_hit_rate(self) -> float | None:
        """Hits over the turns the phrase cache looked at (``None`` without a cache)."""
        seen = self.cache_hits + self.cache_misses
        return self.cache_hits / seen if seen else None

    @classmethod
    def of(cls, timelines: Sequence[TurnTimeline]) -> LatencySummary:
        """Summarise ``timelines`` (every turn counts; missing stages are skipped)."""
        figures: dict[str, dict[str, float]] = {}
        names = ("speech_end_to_first_text", "tts_ttfb", "ttfa", "playback_delay", "total")
        for name in (*names, "cache_saved"):
            values = [v for t in timelines if (v := getattr(t, name)) is not None]
            if values:
                figures[name] = {
                    "p50": float(np.percentile(values, 50)),
                    "p95": float(np.percentile(values, 95)),
                    "max": float(max(values)),
                    "n": float(len(values)),
                }
        return cls(
            len(timelines),
            sum(t.interrupted for t in timelines),
            figures,
            cache_hits=sum(t.phrase_cache == "hit" for t in timelines),
            cache_misses=sum(t.phrase_cache == "miss" for t in timelines),
        )

    def log_line(self) -> str:
        """One line: turn counts and p50/p95/max in ms per figure."""
        parts = [f"TURNS={self.turns}", f"INTERRUPTED={self.interrupted}"]
        if (rate := self.cache_hit_rate) is not None:
            parts += [f"CACHE_HITS={self.cache_hits}", f"CACHE_MISSES={self.cache_misses}"]
            parts.append(f"CACHE_HIT_RATE={rate:.2f}")
        for name, fig in self.figures.items():
            key = name.upper()
            parts += [f"{key}_P50_MS={_ms(fig['p50'])}", f"{key}_P95_MS={_ms(fig['p95'])}"]
            parts.append(f"{key}_MAX_MS={_ms(fig['max'])}")
        return " ".join(parts)
