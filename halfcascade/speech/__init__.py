"""Speech: the TTS side of the half-cascade, tuned to speak the first phrase early."""

from .phrases import PhraseChunker, Phrasing
from .spoken import spoken_text
from .tokenizer import FirstPhraseTokenizer
from .voices import ElevenLabsVoice, GoogleVoice, OpenAIVoice, Voice, VoiceConfig, build_tts

__all__ = [
    "ElevenLabsVoice",
    "FirstPhraseTokenizer",
    "GoogleVoice",
    "OpenAIVoice",
    "PhraseChunker",
    "Phrasing",
    "Voice",
    "VoiceConfig",
    "build_tts",
    "spoken_text",
]
