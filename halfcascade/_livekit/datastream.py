"""livekit-agents ``DataStreamAudioOutput`` internals used by halfcascade.avatar (1.8.9)."""

from __future__ import annotations

from typing import Any

__all__ = ["cancel_pending_start", "forget_departed_avatar"]


def forget_departed_avatar(sink: Any) -> None:
    """Stop a ``DataStreamAudioOutput`` from calling an avatar that left the room.

    Once it is detached, livekit clears it, which sends ``lk.clear_buffer`` to the avatar:
    the RPC fails (``Recipient disconnected``, logged as an error with a traceback) and a
    warning follows. Marking it not started (``_started``) makes ``clear_buffer()`` and
    ``flush()`` no-ops; its segments are settled by the sink proxy that detaches it.
    """
    if hasattr(sink, "_started"):
        sink._started = False


def cancel_pending_start(sink: Any) -> None:
    """Stop a ``DataStreamAudioOutput`` from waiting for an avatar that never joined.

    Its start task (``_start_atask``) waits for the avatar participant with no timeout and
    livekit gives the output no close (a TODO in 1.8.9), so an avatar that never joined left
    one task, holding the room, for the rest of the job: one per failed join or renewal.
    """
    task = getattr(sink, "_start_atask", None)
    if task is not None and not task.done():
        task.cancel()
