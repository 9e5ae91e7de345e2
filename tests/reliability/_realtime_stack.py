"""A ``Session`` on the realtime and ElevenLabs stand-ins, with a test microphone and speaker."""

from __future__ import annotations

from typing import Any

from halfcascade import ElevenLabsVoice, OpenAIBrain, Session
from halfcascade.testing import MicrophoneInput, RealtimeServer, SpeakerOutput


def standin_session(
    rt: RealtimeServer, voice_url: str, **brain: Any
) -> tuple[Session, MicrophoneInput, SpeakerOutput]:
    """A session whose brain is ``rt`` (``OpenAIBrain(**brain)``) and voice ``voice_url``."""
    session = Session(
        brain=OpenAIBrain(base_url=rt.base_url, api_key="test", **brain),
        voice=ElevenLabsVoice(base_url=voice_url, api_key="test"),
    )
    mic, speaker = MicrophoneInput(), SpeakerOutput()
    session.input.audio, session.output.audio = mic, speaker
    return session, mic, speaker
