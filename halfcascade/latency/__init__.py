"""Latency: a timeline for every turn and every job start, measured from the session."""

from .probe import CacheOutcome, Stage, mark, use_probe
from .startup import StartupTracker
from .timeline import LatencySummary, StartupTimeline, TurnTimeline
from .tracker import LatencyTracker

__all__ = [
    "CacheOutcome",
    "LatencySummary",
    "LatencyTracker",
    "Stage",
    "StartupTimeline",
    "StartupTracker",
    "TurnTimeline",
    "mark",
    "use_probe",
]
