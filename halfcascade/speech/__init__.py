"""Speech: the TTS side of the half-cascade, tuned to speak the first phrase early.

The phrase cache (:mod:`halfcascade.speech.cache`) goes further: a companion's signature
openers, synthesised once, play the moment the model writes them.
"""

from .cache import PhraseCache
from .failover import FailoverPolicy, FailoverTTS
from .openers import OpenerMatcher, normalize_phrase
from .phrases import PhraseChunker, Phrasing
from .spoken import spoken_text
from .style import SpokenStyle, render_spoken_instructions
from .tokenizer import FirstPhraseTokenizer
from .voices import ElevenLabsVoice, GoogleVoice, OpenAIVoice, Voice, VoiceConfig, build_tts

__all__ = [
    "ElevenLabsVoice",
    "FailoverPolicy",
    "FailoverTTS",
    "FirstPhraseTokenizer",
    "GoogleVoice",
    "OpenAIVoice",
    "OpenerMatcher",
    "PhraseCache",
    "PhraseChunker",
    "Phrasing",
    "SpokenStyle",
    "Voice",
    "VoiceConfig",
    "build_tts",
    "normalize_phrase",
    "render_spoken_instructions",
    "spoken_text",
]
