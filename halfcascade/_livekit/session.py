"""livekit-agents session and avatar-output internals (1.8.9)."""

from __future__ import annotations

from typing import Any

__all__ = ["session_started", "wait_for_playback_start"]


def session_started(session: Any) -> bool:
    """Whether ``AgentSession.start()`` already ran (``AgentSession._started``)."""
    return bool(getattr(session, "_started", False))


def wait_for_playback_start(sink: Any) -> None:
    """Make a ``DataStreamAudioOutput`` wait for the avatar's ``lk.playback_started`` RPC
    instead of reporting playback started at hand-over (``_wait_playback_start``; set it
    before the room-connected callback runs)."""
    if hasattr(sink, "_wait_playback_start"):
        sink._wait_playback_start = True
