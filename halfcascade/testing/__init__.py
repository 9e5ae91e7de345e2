"""Protocol-faithful local stand-ins for the providers, and offline speech, for tests.

The real livekit plugins talk to these servers unchanged through ``base_url``::

    async with RealtimeServer(reply=lambda ctx: "Woof! Hi!") as brain, ElevenLabsServer() as tts:
        session = halfcascade.Session(
            brain=OpenAIBrain(base_url=brain.base_url, api_key="test"),
            voice=ElevenLabsVoice(base_url=tts.base_url, api_key="test"),
        )

:func:`open_stack` does all of that, plus a paced microphone and a recording speaker.
Installing halfcascade also registers a pytest plugin (:mod:`.pytest_plugin`) with
``realtime_server``, ``elevenlabs_server``, ``openai_tts_server`` and ``halfcascade_server``
fixtures; docs/testing.md is the guide.
"""

from .audio_io import MicrophoneInput, PlayedSegment, SpeakerOutput
from .elevenlabs import ElevenLabsServer
from .openai_realtime import RealtimeServer, ReplyContext, ToolCall, TurnRecord
from .openai_tts import OpenAITTSServer
from .stack import LocalStack, halfcascade_builder, open_stack, trim_silence
from .transcribe import ScriptedTranscriber, Transcriber, WhisperTranscriber
from .vad import VadConfig
from .voices import default_voice, espeak_available, speak, synthetic_voice

__all__ = [
    "ElevenLabsServer",
    "LocalStack",
    "MicrophoneInput",
    "OpenAITTSServer",
    "PlayedSegment",
    "RealtimeServer",
    "ReplyContext",
    "ScriptedTranscriber",
    "SpeakerOutput",
    "ToolCall",
    "Transcriber",
    "TurnRecord",
    "VadConfig",
    "WhisperTranscriber",
    "default_voice",
    "espeak_available",
    "halfcascade_builder",
    "open_stack",
    "speak",
    "synthetic_voice",
    "trim_silence",
]
