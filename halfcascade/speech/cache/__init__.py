"""The phrase cache: a companion's openers synthesised once per voice and played instantly.

- :class:`PhraseCache`: per-worker store (memory, plus a directory that survives restarts).
- :class:`OpenerSpeech`: what ``halfcascade.Agent(phrase_cache=...)`` runs in its
  ``tts_node``: the cached opener first, the live TTS for the rest.
- :func:`voice_key`: what makes cached audio belong to a voice.
- :func:`warm_persona`: fill the cache for a persona file ahead of time
  (``halfcascade cache warm``).
"""

from .cache import PhraseCache, WarmReport
from .key import VoiceKey, serving_voice, voice_key
from .node import OpenerSpeech
from .store import CachedPhrase, PhraseStore, default_cache_dir, trim_phrase
from .warm import warm_persona

__all__ = [
    "CachedPhrase",
    "OpenerSpeech",
    "PhraseCache",
    "PhraseStore",
    "VoiceKey",
    "WarmReport",
    "default_cache_dir",
    "serving_voice",
    "trim_phrase",
    "voice_key",
    "warm_persona",
]
