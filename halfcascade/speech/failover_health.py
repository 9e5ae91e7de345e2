"""How healthy each voice of a :class:`~halfcascade.speech.failover.FailoverTTS` is.

Every voice keeps its recent first-audio times; its *deadline* for the next phrase is their
p95 plus a margin (before any measurement, a fixed initial deadline). A voice that misses
its deadline or fails is marked down; it is probed in the background (a short phrase,
same deadline rule) and marked up again once a probe speaks.
"""

from __future__ import annotations

import time
from collections import deque
from dataclasses import dataclass, field

import numpy as np

from ..errors import ConfigError

__all__ = ["FailoverPolicy", "VoiceHealth"]


@dataclass(frozen=True, slots=True, kw_only=True)
class FailoverPolicy:
    """When a voice is abandoned, probed and kept warm.

    Args:
        margin: seconds over a voice's p95 first-audio time before it is abandoned for the
            phrase (at most 1 s by default rule of the project: keep it small).
        initial_deadline: the deadline before a voice has ``min_samples`` measurements.
        min_deadline: the deadline never goes below this (scheduling noise).
        max_deadline: nor above this (``None``: no cap), so a voice whose measured first
            audio grew slow (an overloaded provider) still hands over in time.
        min_samples: measurements needed before the p95 rule replaces the initial deadline.
        window: how many recent first-audio times are kept per voice.
        probe_interval: seconds between background probes of a voice marked down.
        probe_text: what a probe synthesises (short: it is billed).
        keep_warm_interval: seconds between re-warming every voice's connection (``None``
            warms once at start only).
        stall_timeout: seconds without audio, after the first, before a phrase is abandoned.
        last_resort_timeout: how long the last voice not yet tried for a phrase may take to
            its first audio (no other voice is left: waiting beats silence).
        hedge: start the next voice on a phrase whose first audio is late (past the serving
            voice's p95, and early enough for the next voice's usual first-audio time to
            end at the deadline), so that if the deadline passes its audio is ready at once
            instead of one more first-audio time later. It is used only if the serving voice
            misses its deadline, and cancelled when the serving voice speaks (a hedged
            phrase is a second request: about one phrase in twenty at most, on a voice
            that is slower than usual).
    """

    margin: float = 0.5
    initial_deadline: float = 0.75
    min_deadline: float = 0.25
    max_deadline: float | None = 1.0
    min_samples: int = 5
    window: int = 50
    probe_interval: float = 3.0
    probe_text: str = "Okay."
    keep_warm_interval: float | None = 30.0
    stall_timeout: float = 2.0
    last_resort_timeout: float = 5.0
    hedge: bool = True

    def __post_init__(self) -> None:
        for name in ("margin", "initial_deadline", "min_deadline", "probe_interval"):
            if getattr(self, name) <= 0:
                raise ConfigError(f"FailoverPolicy({name}=...) must be > 0 seconds")
        if self.margin > 1.0:
            raise ConfigError(
                "FailoverPolicy(margin=...) must be <= 1.0 s over the voice's p95: a longer "
                "wait leaves the user in silence"
            )
        if self.max_deadline is not None and self.max_deadline < self.min_deadline:
            raise ConfigError("FailoverPolicy(max_deadline=...) must be >= min_deadline")
        if self.min_samples < 1 or self.window < self.min_samples:
            raise ConfigError("FailoverPolicy needs 1 <= min_samples <= window")
        if not self.probe_text.strip():
            raise ConfigError("FailoverPolicy(probe_text=...) must not be blank")


@dataclass(slots=True)
class VoiceHealth:
    """One voice's measured first-audio times and up/down state."""

    policy: FailoverPolicy
    available: bool = True
    down_since: float | None = None
    failures: int = 0
    _ttfb: deque[float] = field(default_factory=deque)

    def record_ttfb(self, seconds: float) -> None:
        """Note a first-audio time (phrase sent -> first audio)."""
        self._ttfb.append(seconds)
        while len(self._ttfb) > self.policy.window:
            self._ttfb.popleft()

    @property
    def p95(self) -> float | None:
        """The p95 first-audio time, once enough are measured."""
        if len(self._ttfb) < self.policy.min_samples:
            return None
        return float(np.percentile(np.fromiter(self._ttfb, dtype=float), 95))

    @property
    def p50(self) -> float | None:
        """The median first-audio time, once enough are measured."""
        if len(self._ttfb) < self.policy.min_samples:
            return None
        return float(np.median(np.fromiter(self._ttfb, dtype=float)))

    @property
    def deadline(self) -> float:
        """Seconds the next phrase may wait for its first audio from this voice."""
        p95 = self.p95
        if p95 is None:
            return self.policy.initial_deadline
        deadline = max(self.policy.min_deadline, p95 + self.policy.margin)
        cap = self.policy.max_deadline
        return deadline if cap is None else min(cap, deadline)

    def mark_down(self) -> bool:
        """Mark the voice down; True if it was up."""
        self.failures += 1
        if not self.available:
            return False
        self.available = False
        self.down_since = time.monotonic()
        return True

    def mark_up(self) -> bool:
        """Mark the voice up; True if it was down."""
        if self.available:
            return False
        self.available = True
        self.down_since = None
        return True
