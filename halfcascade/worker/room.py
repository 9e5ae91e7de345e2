"""Room I/O options for a half-cascade job."""

from __future__ import annotations

from livekit.agents.voice import room_io

from ..errors import ConfigError

__all__ = ["room_options"]


def room_options(*, input_frame_ms: int = 20) -> room_io.RoomOptions:
    """livekit ``RoomOptions`` that hand the user's audio on in ``input_frame_ms`` frames.

    livekit reads the user's track in 50 ms frames; the end of speech then reaches the
    realtime model 25 ms late on average. 20 ms (one WebRTC packet) matches the brain's
    input chunk (``OpenAIBrain(input_chunk_ms=20)``). Pass it to
    ``session.start(agent, room=ctx.room, room_options=room_options())``.
    """
    if not 10 <= input_frame_ms <= 100 or input_frame_ms % 10:
        raise ConfigError("room_options(input_frame_ms=...) must be 10, 20, ... or 100")
    return room_io.RoomOptions(audio_input=room_io.AudioInputOptions(frame_size_ms=input_frame_ms))
