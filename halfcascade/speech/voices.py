"""The TTS voices halfcascade builds for you, each tuned for the first phrase.

A voice is a small frozen config; :func:`build_tts` turns it (or any livekit ``tts.TTS``)
into the TTS the session uses, with the first-phrase tokenizer in place and, with fallback
voices, a bounded :class:`~halfcascade.speech.failover.FailoverTTS` over them. Credentials
come from the argument or the provider's usual environment variable;
:meth:`missing_credentials` lets the session report every missing variable at once.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Literal, Protocol, runtime_checkable

from livekit.agents import tts as lk_tts

from .._env import env_value
from ..errors import ConfigError
from .failover import FailoverPolicy, FailoverTTS
from .google_voice import GoogleVoice
from .phrases import Phrasing
from .tokenizer import FirstPhraseTokenizer

__all__ = [
    "ELEVENLABS_MODELS",
    "OPENAI_TTS_MODELS",
    "VOICE_PROVIDERS",
    "ElevenLabsVoice",
    "GoogleVoice",
    "OpenAIVoice",
    "Voice",
    "VoiceConfig",
    "build_tts",
    "missing_voice_credentials",
    "resolve_voice",
]


#: ElevenLabs models served over the multi-stream websocket (Flash is the fastest).
ELEVENLABS_MODELS = (
    "eleven_flash_v2_5",
    "eleven_flash_v2",
    "eleven_turbo_v2_5",
    "eleven_turbo_v2",
    "eleven_multilingual_v2",
)
#: OpenAI speech models.
OPENAI_TTS_MODELS = ("gpt-4o-mini-tts", "tts-1", "tts-1-hd")


@runtime_checkable
class VoiceConfig(Protocol):
    """What a voice config provides: its missing credentials and a TTS built from it."""

    def missing_credentials(self) -> list[str]: ...

    def build(self, phrasing: Phrasing) -> lk_tts.TTS[Any]: ...


@dataclass(frozen=True, slots=True, kw_only=True)
class ElevenLabsVoice:
    """ElevenLabs over its multi-stream websocket (pooled, prewarmed, auto mode).

    ``encoding`` is raw PCM by default so no MP3 decoding sits on the first-audio path.
    ``api_key`` and ``base_url`` default to ``ELEVEN_API_KEY`` and ``ELEVEN_BASE_URL``.
    """

    voice_id: str = "hpp4J3VqNfWAUOO0d1Us"
    model: str = "eleven_flash_v2_5"
    api_key: str | None = None
    base_url: str | None = None
    encoding: Literal["pcm_16000", "pcm_22050", "pcm_24000", "pcm_44100"] = "pcm_24000"
    language: str | None = None
    stability: float | None = None
    similarity_boost: float | None = None

    def __post_init__(self) -> None:
        if self.model not in ELEVENLABS_MODELS:
            raise ConfigError(
                f"unknown ElevenLabs model {self.model!r}; accepted: {', '.join(ELEVENLABS_MODELS)}"
            )

    def missing_credentials(self) -> list[str]:
        """Environment variables still needed (empty when the key is known)."""
        return [] if env_value(self.api_key, "ELEVEN_API_KEY") else ["ELEVEN_API_KEY"]

    def build(self, phrasing: Phrasing) -> lk_tts.TTS[Any]:
        """The livekit ElevenLabs TTS with the first-phrase tokenizer."""
        from livekit.agents import NOT_GIVEN
        from livekit.plugins import elevenlabs

        settings: Any = NOT_GIVEN
        if self.stability is not None or self.similarity_boost is not None:
            settings = elevenlabs.VoiceSettings(
                stability=self.stability if self.stability is not None else 0.5,
                similarity_boost=(
                    self.similarity_boost if self.similarity_boost is not None else 0.75
                ),
            )
        return elevenlabs.TTS(
            voice_id=self.voice_id,
            model=self.model,
            encoding=self.encoding,
            api_key=env_value(self.api_key, "ELEVEN_API_KEY") or NOT_GIVEN,
            base_url=env_value(self.base_url, "ELEVEN_BASE_URL") or NOT_GIVEN,
            language=self.language or NOT_GIVEN,
            voice_settings=settings,
            auto_mode=True,
            word_tokenizer=FirstPhraseTokenizer(phrasing),
        )


@dataclass(frozen=True, slots=True, kw_only=True)
class OpenAIVoice:
    """OpenAI TTS (request per phrase, streamed back as raw PCM).

    ``api_key`` and ``base_url`` default to ``OPENAI_API_KEY`` and ``OPENAI_TTS_BASE_URL``
    (not ``OPENAI_BASE_URL``, which the realtime brain reads).
    """

    voice: str = "ash"
    model: str = "gpt-4o-mini-tts"
    instructions: str | None = None
    speed: float = 1.0
    api_key: str | None = None
    base_url: str | None = None

    def __post_init__(self) -> None:
        if self.model not in OPENAI_TTS_MODELS:
            raise ConfigError(
                f"unknown OpenAI TTS model {self.model!r}; accepted: {', '.join(OPENAI_TTS_MODELS)}"
            )

    def missing_credentials(self) -> list[str]:
        """Environment variables still needed (empty when the key is known)."""
        return [] if env_value(self.api_key, "OPENAI_API_KEY") else ["OPENAI_API_KEY"]

    def build(self, phrasing: Phrasing) -> lk_tts.TTS[Any]:
        """The livekit OpenAI TTS behind a first-phrase ``StreamAdapter``."""
        from livekit.agents import NOT_GIVEN
        from livekit.plugins import openai

        inner = openai.TTS(
            model=self.model,
            voice=self.voice,
            speed=self.speed,
            instructions=self.instructions or NOT_GIVEN,
            api_key=env_value(self.api_key, "OPENAI_API_KEY") or NOT_GIVEN,
            base_url=env_value(self.base_url, "OPENAI_TTS_BASE_URL") or NOT_GIVEN,
            response_format="pcm",
        )
        return lk_tts.StreamAdapter(tts=inner, sentence_tokenizer=FirstPhraseTokenizer(phrasing))


Voice = VoiceConfig | lk_tts.TTS[Any] | str

#: Provider names accepted where a voice is expected.
VOICE_PROVIDERS: dict[str, type[ElevenLabsVoice | OpenAIVoice | GoogleVoice]] = {
    "elevenlabs": ElevenLabsVoice,
    "openai": OpenAIVoice,
    "google": GoogleVoice,
}


def resolve_voice(voice: Voice) -> VoiceConfig | lk_tts.TTS[Any]:
    """``voice`` itself, or the default voice of a provider named by a string."""
    if isinstance(voice, lk_tts.TTS | VoiceConfig):
        return voice
    if isinstance(voice, str) and voice in VOICE_PROVIDERS:
        return VOICE_PROVIDERS[voice]()
    raise ConfigError(
        f"unknown voice {voice!r}: use ElevenLabsVoice(), OpenAIVoice(), GoogleVoice(), a "
        f"livekit tts.TTS instance, or one of {sorted(VOICE_PROVIDERS)}"
    )


def missing_voice_credentials(voices: Sequence[VoiceConfig | lk_tts.TTS[Any]]) -> list[str]:
    """Every environment variable the given voices still need."""
    return [n for v in voices if isinstance(v, VoiceConfig) for n in v.missing_credentials()]


def build_tts(
    voice: VoiceConfig | lk_tts.TTS[Any],
    *,
    fallback: Sequence[VoiceConfig | lk_tts.TTS[Any]] = (),
    phrasing: Phrasing | None = None,
    failover: FailoverPolicy | None = None,
) -> lk_tts.TTS[Any]:
    """The session's TTS: ``voice`` (then each ``fallback`` in turn if it fails).

    With fallback voices (or a ``failover`` policy, which for a single voice resumes a
    dropped reply on a fresh request of the same voice) the voices sit behind a
    :class:`FailoverTTS`: a voice late for its first audio or failing mid-reply is
    abandoned for the next from the first word not yet heard.

    A livekit ``tts.TTS`` instance is used as given, except that a request/response TTS is
    put behind a first-phrase ``StreamAdapter``; a streaming instance keeps its own
    tokenizer (pass ``word_tokenizer=FirstPhraseTokenizer()`` or the plugin's equivalent).
    """
    phrasing = phrasing or Phrasing()
    given = (voice, *fallback)
    chain = [_build_one(v, phrasing) for v in given]
    if len(chain) == 1 and failover is None:
        return chain[0]
    # a livekit instance is the caller's (it may serve other sessions): left open at close;
    # a StreamAdapter made here is ours (closing it only unhooks it from the caller's TTS)
    owned = [
        isinstance(v, VoiceConfig) or built is not v for v, built in zip(given, chain, strict=True)
    ]
    return FailoverTTS(chain, policy=failover, phrasing=phrasing, owned=owned)


def _build_one(voice: VoiceConfig | lk_tts.TTS[Any], phrasing: Phrasing) -> lk_tts.TTS[Any]:
    if isinstance(voice, VoiceConfig):
        return voice.build(phrasing)
    if voice.capabilities.streaming:
        return voice
    return lk_tts.StreamAdapter(tts=voice, sentence_tokenizer=FirstPhraseTokenizer(phrasing))
