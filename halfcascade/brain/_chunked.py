"""livekit's OpenAI RealtimeModel, sending user audio in smaller chunks.

Imported only when an OpenAI brain is built, so the ``openai`` extra stays optional.
"""

from __future__ import annotations

from typing import Any

from livekit.agents import utils
from livekit.plugins.openai import realtime

__all__ = ["ChunkedRealtimeModel"]

_RATE = 24000


class ChunkedRealtimeModel(realtime.RealtimeModel):
    """A ``RealtimeModel`` whose sessions send ``input_chunk_ms`` of audio per message."""

    def __init__(self, *, input_chunk_ms: int, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self._input_samples = _RATE * input_chunk_ms // 1000

    def session(self, *, turn_detection_disabled: bool = False) -> Any:
        """A realtime session with the smaller input chunk size."""
        sess = super().session(turn_detection_disabled=turn_detection_disabled)
        # livekit buffers input audio into 100 ms chunks in this byte stream
        sess._bstream = utils.audio.AudioByteStream(
            _RATE, 1, samples_per_channel=self._input_samples
        )
        return sess
