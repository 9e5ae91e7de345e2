"""Provider latency profiles: what the local servers inject, drawn per turn.

Every pipeline in a run gets the *same* draw for turn *i*, so pipelines are compared on
identical provider delays. Users can write their own profile as TOML (see
:func:`load_profile`).
"""

from __future__ import annotations

import random
import tomllib
from dataclasses import dataclass, fields
from pathlib import Path

from ..errors import ConfigError

__all__ = ["PROFILES", "Draw", "LatencyProfile", "Span", "load_profile"]


@dataclass(frozen=True, slots=True)
class Span:
    """A delay drawn uniformly between ``lo`` and ``hi`` seconds."""

    lo: float
    hi: float

    def __post_init__(self) -> None:
        if not 0 <= self.lo <= self.hi:
            raise ConfigError(f"a latency span needs 0 <= lo <= hi, got {self.lo}..{self.hi}")

    def draw(self, rng: random.Random) -> float:
        """One value from the span."""
        return self.lo if self.lo == self.hi else rng.uniform(self.lo, self.hi)


@dataclass(frozen=True, slots=True)
class Draw:
    """The delays of one turn, shared by every pipeline."""

    first_text: float
    """Realtime model: user's end of speech to its first text token (VAD decision included)."""
    stt_final: float
    """Cascade: user's end of speech to the final transcript (endpointing included)."""
    llm_ttft: float
    """Cascade: request to first token."""
    tts_ttfb: float
    """TTS: first text flushed to first audio byte."""

    @property
    def realtime_floor(self) -> float:
        """The injected delays a half-cascade cannot avoid."""
        return self.first_text + self.tts_ttfb

    @property
    def cascade_floor(self) -> float:
        """The injected delays a cascade cannot avoid."""
        return self.stt_final + self.llm_ttft + self.tts_ttfb


@dataclass(frozen=True, slots=True, kw_only=True)
class LatencyProfile:
    """Injected provider latencies for a benchmark run."""

    name: str
    description: str
    first_text: Span
    token_interval: float
    tts_ttfb: Span
    stt_final: Span
    llm_ttft: Span
    vad_decision: float = 0.3
    """How long the stand-in server VAD waits in silence before ending a turn; it must not
    exceed ``first_text.lo`` (the decision is part of the model's first-text delay)."""
    remote_avatar_delay: float | None = None
    """A remote avatar provider's delay from receiving audio to showing the first speaking
    video frame (Tavus: ~0.6 s); ``None`` leaves the remote-avatar column out. Modelled
    (added to the time to first audio), not measured."""

    def __post_init__(self) -> None:
        if self.remote_avatar_delay is not None and self.remote_avatar_delay < 0:
            raise ConfigError(
                f"profile {self.name!r}: remote_avatar_delay must be >= 0 seconds (or left out)"
            )
        if self.vad_decision > self.first_text.lo:
            raise ConfigError(
                f"profile {self.name!r}: vad_decision ({self.vad_decision}s) must not exceed "
                f"first_text.lo ({self.first_text.lo}s)"
            )

    def draws(self, n: int, *, seed: int = 7) -> list[Draw]:
        """``n`` reproducible per-turn draws."""
        rng = random.Random(seed)
        return [
            Draw(
                first_text=self.first_text.draw(rng),
                stt_final=self.stt_final.draw(rng),
                llm_ttft=self.llm_ttft.draw(rng),
                tts_ttfb=self.tts_ttfb.draw(rng),
            )
            for _ in range(n)
        ]


PROFILES: dict[str, LatencyProfile] = {
    "fixed": LatencyProfile(
        name="fixed",
        description="fixed delays: first text 400 ms after speech end, 30 ms per token, "
        "TTS first byte 250 ms",
        first_text=Span(0.4, 0.4),
        token_interval=0.03,
        tts_ttfb=Span(0.25, 0.25),
        stt_final=Span(1.1, 1.1),
        llm_ttft=Span(0.55, 0.55),
    ),
    "talking-pet": LatencyProfile(
        name="talking-pet",
        description="the problem statement's logs: STT final 1.1-1.7 s, LLM first token "
        "0.55-0.8 s, TTS first audio 0.76-1.04 s; remote avatar (Tavus) first frame ~0.6 s",
        first_text=Span(0.45, 0.7),
        token_interval=0.03,
        tts_ttfb=Span(0.76, 1.04),
        stt_final=Span(1.1, 1.7),
        llm_ttft=Span(0.55, 0.8),
        remote_avatar_delay=0.6,
    ),
    "realtime-flash": LatencyProfile(
        name="realtime-flash",
        description="published figures: OpenAI Realtime text (server VAD 500 ms window "
        "included), ElevenLabs Flash over a warm websocket (~300 ms)",
        first_text=Span(0.55, 0.8),
        token_interval=0.025,
        tts_ttfb=Span(0.25, 0.35),
        stt_final=Span(0.6, 0.9),
        llm_ttft=Span(0.35, 0.6),
        vad_decision=0.5,
    ),
}


def load_profile(name_or_path: str) -> LatencyProfile:
    """A shipped profile by name, or one read from a TOML file.

    The file has ``name``, ``description``, ``token_interval``, optional ``vad_decision`` and
    ``remote_avatar_delay``, and
    ``[first_text]``, ``[tts_ttfb]``, ``[stt_final]``, ``[llm_ttft]`` tables with ``lo`` and
    ``hi`` in seconds.
    """
    if name_or_path in PROFILES:
        return PROFILES[name_or_path]
    path = Path(name_or_path)
    if not path.is_file():
        raise ConfigError(
            f"unknown profile {name_or_path!r}: use one of {sorted(PROFILES)} or a TOML file path"
        )
    data = tomllib.loads(path.read_text())
    known = {f.name for f in fields(LatencyProfile)}
    if unknown := sorted(set(data) - known):
        raise ConfigError(f"{path}: unknown field(s) {unknown}; expected {sorted(known)}")
    try:
        for key in ("first_text", "tts_ttfb", "stt_final", "llm_ttft"):
            data[key] = Span(float(data[key]["lo"]), float(data[key]["hi"]))
        return LatencyProfile(**data)
    except (KeyError, TypeError) as exc:
        raise ConfigError(f"{path}: {exc!s} (every span needs lo and hi in seconds)") from exc
