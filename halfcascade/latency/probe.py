"""Where the speech path reports its stages, without knowing who listens.

The Agent's nodes and the first-phrase tokenizer call :func:`mark`; the session's tracker
sets the probe for the speech being synthesised (a context variable, so it follows the
TTS tasks livekit creates for that speech and no other).
"""

from __future__ import annotations

import time
from contextvars import ContextVar
from typing import Literal, Protocol

__all__ = ["CacheOutcome", "Stage", "TurnProbe", "cache", "current_probe", "mark", "use_probe"]

Stage = Literal["first_text", "first_tts_text", "first_tts_audio"]
CacheOutcome = Literal["hit", "miss"]
"""Whether the reply's opening was played from the phrase cache."""


class TurnProbe(Protocol):
    """Receives stage marks for the current turn."""

    def mark(self, stage: Stage, at: float) -> None: ...

    def cache(self, outcome: CacheOutcome, *, saved: float | None = None) -> None:
        """The phrase cache's outcome for this turn; ``saved`` once it is known."""


_PROBE: ContextVar[TurnProbe | None] = ContextVar("halfcascade_turn_probe", default=None)


def use_probe(probe: TurnProbe | None) -> None:
    """Make ``probe`` receive marks from this context (and tasks created from it)."""
    _PROBE.set(probe)


def current_probe() -> TurnProbe | None:
    """The probe of this context, if any."""
    return _PROBE.get()


def mark(stage: Stage) -> None:
    """Report ``stage`` now to the current probe (a no-op without one)."""
    if (probe := _PROBE.get()) is not None:
        probe.mark(stage, time.time())


def cache(outcome: CacheOutcome, *, saved: float | None = None) -> None:
    """Report the phrase cache's outcome (and, later, the seconds a hit saved)."""
    if (probe := _PROBE.get()) is not None:
        probe.cache(outcome, saved=saved)
