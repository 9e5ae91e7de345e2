"""The one place the voice failover touches livekit names that start with ``_``.

They are the plugin-author API of ``tts.SynthesizeStream`` (every livekit TTS plugin
subclasses it through them) plus the two attributes halfcascade's phrase cache and start-up
tracker read to resolve a ``FallbackAdapter`` to its serving voice. ``check()`` fails loudly
when a livekit upgrade renames or removes any of them (``tests/reliability`` runs it).
"""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator
from typing import Any

from livekit.agents import tts as lk_tts
from livekit.agents.types import USERDATA_TIMED_TRANSCRIPT

__all__ = ["TIMED_TRANSCRIPT", "aclose_stream", "check", "input_items", "is_flush"]

#: Where a frame carries its word timings (``rtc.AudioFrame.userdata``).
TIMED_TRANSCRIPT = USERDATA_TIMED_TRANSCRIPT


def input_items(stream: lk_tts.SynthesizeStream) -> AsyncIterator[Any]:
    """What the caller pushed into ``stream``: text and flush markers, until ``end_input``."""
    return stream._input_ch.__aiter__()


def is_flush(item: Any) -> bool:
    """Whether ``item`` from :func:`input_items` is a flush marker."""
    return isinstance(item, lk_tts.SynthesizeStream._FlushSentinel)


async def aclose_stream(stream: lk_tts.SynthesizeStream) -> None:
    """Close ``stream`` and read the error its request ended with, if any (public API only).

    ``aclose()`` cancels the request's task but does not read its result. When the
    cancellation meets a connection failing at the same moment, the plugin ends the task
    with that failure instead (Python 3.11's ``asyncio.wait_for`` raises the inner error
    over the cancellation; the ElevenLabs plugin wraps its connect in one), and asyncio
    later logs ``Task exception was never retrieved`` at ERROR, with a traceback. Iterating
    the closed stream to its end reads it (``__anext__`` re-raises the task's error); the
    caller has already given up on this request.
    """
    await stream.aclose()
    with contextlib.suppress(Exception):
        async for _ in stream:
            pass


def check() -> None:
    """Raise ``RuntimeError`` naming what changed if livekit no longer has what this uses."""
    missing = [
        name
        for owner, name in (
            (lk_tts.SynthesizeStream, "_FlushSentinel"),
            (lk_tts.SynthesizeStream, "_run"),
            (lk_tts.SynthesizeStream, "_metrics_monitor_task"),
            (lk_tts.FallbackAdapter, "_next_instance"),
        )
        if not hasattr(owner, name)
    ]
    if "_input_ch" not in lk_tts.SynthesizeStream.__init__.__code__.co_names:
        missing.append("SynthesizeStream._input_ch")
    if missing:
        raise RuntimeError(
            "livekit-agents changed the TTS internals halfcascade.speech.failover relies on: "
            f"{', '.join(missing)}; update halfcascade/speech/failover_lk.py"
        )
