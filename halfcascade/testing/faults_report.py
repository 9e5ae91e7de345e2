"""What a fault run counts: lifecycle warnings by message, stuck and silent turns, delays."""

from __future__ import annotations

import logging
import traceback
from collections import Counter
from dataclasses import dataclass, field

__all__ = ["LIFECYCLE_WARNINGS", "FaultReport", "WarningLog"]

#: The three warnings users reported, and their siblings.
LIFECYCLE_WARNINGS = (
    "playback_finished called before text/audio input is done",
    "push_audio called after close",
    "skipping user input, speech scheduling is paused",
    "skipping new realtime generation",
    "skipping reply to user input",
    "speech not done in time after interruption",
    "marked as ended in capture",
)


@dataclass(frozen=True, slots=True)
class _Entry:
    levelno: int
    message: str
    exc_info: bool

    def getMessage(self) -> str:
        return self.message


_WATCHED = ("livekit", "halfcascade", "asyncio")


class WarningLog(logging.Handler):
    """Collects livekit and halfcascade warnings (and errors) while installed, and asyncio's
    (``Task/Future exception was never retrieved`` is an ERROR users see too)."""

    _MAX_DETAILS = 20

    def __init__(self) -> None:
        super().__init__(logging.WARNING)
        self.records: list[_Entry] = []
        self.error_details: list[str] = []
        """The first distinct ERRORs in full: the message and the exception with where it
        was raised (text only: a kept traceback would keep its frames alive)."""

    def emit(self, record: logging.LogRecord) -> None:
        # only what is counted: a kept record (and its traceback) would keep objects alive
        self.records.append(_Entry(record.levelno, record.getMessage(), bool(record.exc_info)))
        if record.levelno >= logging.ERROR and len(self.error_details) < self._MAX_DETAILS:
            detail = record.getMessage()
            exc = record.exc_info[1] if record.exc_info else None
            if exc is not None:
                where = traceback.extract_tb(exc.__traceback__)[-1:] if exc.__traceback__ else []
                at = f" at {where[0].filename}:{where[0].lineno}" if where else ""
                detail += f" | {type(exc).__name__}: {exc}{at}"
            if detail not in self.error_details:
                self.error_details.append(detail)

    def counts(self) -> Counter[str]:
        """Every message (first 100 characters) and how often it was logged."""
        return Counter(r.message[:100] for r in self.records)

    def lifecycle(self) -> Counter[str]:
        """The lifecycle warnings only."""
        return Counter(n for r in self.records for n in LIFECYCLE_WARNINGS if n in r.message)

    def tracebacks(self) -> int:
        """Records at ERROR or above that carry a traceback."""
        return sum(1 for r in self.records if r.levelno >= logging.ERROR and r.exc_info)

    def __enter__(self) -> WarningLog:
        for name in _WATCHED:
            logging.getLogger(name).addHandler(self)
        return self

    def __exit__(self, *exc: object) -> None:
        for name in _WATCHED:
            logging.getLogger(name).removeHandler(self)


@dataclass
class FaultReport:
    """What one or more runs saw."""

    turns: int = 0
    sessions: int = 0
    faults: Counter[str] = field(default_factory=Counter)
    stuck: int = 0
    silent: int = 0
    by_kind: Counter[str] = field(default_factory=Counter)
    """``stuck:<kind>`` and ``silent:<kind>`` counts, and ``failover_max_ms:<kind>``."""
    failover_delays: list[float] = field(default_factory=list)
    """Voice faults, primary still marked up: the reply's first text -> first audio (s)."""
    down_delays: list[float] = field(default_factory=list)
    """Voice faults, primary already marked down: first text -> first audio (s)."""
    text_to_audio: list[float] = field(default_factory=list)
    """Plain turns: the reply's first text -> its first audio (seconds)."""
    recovery_times: list[float] = field(default_factory=list)
    """Realtime drops: the drop -> the next reply's first audio (seconds)."""
    stall_recovery_times: list[float] = field(default_factory=list)
    """Realtime stalls: the stall -> the first audio of the reply to the repeated words."""
    ttfa: list[float] = field(default_factory=list)
    """Plain turns: the user's last word -> the reply's first audio (seconds)."""
    ttfa_at: list[float] = field(default_factory=list)
    """When each :attr:`ttfa` was measured (``time.perf_counter()``)."""
    answered_after_drop: int = 0
    turns_after_drop: int = 0
    windows_full_at: list[float] = field(default_factory=list)
    """When each session's realtime context window was first trimmed
    (``time.perf_counter()``): its conversation, livekit's two mirrors of it and the event
    record are at their bounds from then (the soak's warm-up ends when all are)."""

    def merge(self, other: FaultReport) -> None:
        """Add ``other``'s counts to this report."""
        self.turns += other.turns
        self.sessions += other.sessions
        self.faults.update(other.faults)
        self.stuck += other.stuck
        self.silent += other.silent
        for key, value in other.by_kind.items():
            if key.startswith("failover_max_ms:"):
                self.by_kind[key] = max(self.by_kind[key], value)
            else:
                self.by_kind[key] += value
        self.failover_delays += other.failover_delays
        self.down_delays += other.down_delays
        self.text_to_audio += other.text_to_audio
        self.recovery_times += other.recovery_times
        self.stall_recovery_times += other.stall_recovery_times
        self.ttfa += other.ttfa
        self.ttfa_at += other.ttfa_at
        self.answered_after_drop += other.answered_after_drop
        self.turns_after_drop += other.turns_after_drop
        self.windows_full_at += other.windows_full_at
