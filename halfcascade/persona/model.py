"""The persona config: who the companion is, how it speaks, what voice and face it has.

Parsed from a TOML file (see :func:`halfcascade.persona.load_persona`) into frozen pydantic
models that refuse unknown fields, so a typo is an error rather than a silent default.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    StrictFloat,
    StrictInt,
    model_validator,
)

from ..errors import ConfigError
from ..speech.voices import (
    ELEVENLABS_MODELS,
    OPENAI_TTS_MODELS,
    ElevenLabsVoice,
    GoogleVoice,
    OpenAIVoice,
)
from .openers import check_openers, default_openers

__all__ = [
    "AvatarSpec",
    "ElevenLabsVoiceSpec",
    "GoogleVoiceSpec",
    "OpenAIVoiceSpec",
    "Persona",
    "ReplyLength",
    "VoiceSpec",
]

_STRICT = ConfigDict(frozen=True, extra="forbid")

# a BCP-47-ish tag: "en", "en-US", "pt-BR", "zh-Hans"
_LANGUAGE_TAG = r"^[a-z]{2,3}(-[A-Za-z0-9]{2,8})*$"


def _one_of(accepted: tuple[str, ...]) -> AfterValidator:
    def check(value: str) -> str:
        if value not in accepted:
            raise ValueError(f"expected one of {', '.join(accepted)}")
        return value

    return AfterValidator(check)


class _Spec(BaseModel):
    model_config = _STRICT


class ReplyLength(_Spec):
    """The usual reply length in words (companions: 3 to 8)."""

    min_words: Annotated[StrictInt, Field(ge=1, le=200)] = 3
    max_words: Annotated[StrictInt, Field(ge=1, le=200)] = 8

    @model_validator(mode="after")
    def _ordered(self) -> ReplyLength:
        if self.min_words > self.max_words:
            raise ValueError(
                f"expected min_words <= max_words, got {self.min_words} > {self.max_words}"
            )
        return self


class _VoiceOverrides(_Spec):
    """Fields every voice spec shares (credentials never live in a persona file)."""

    voice_id: str | None = None


class ElevenLabsSettings(_Spec):
    """ElevenLabs voice settings; ``None`` keeps the voice's own."""

    stability: Annotated[StrictFloat, Field(ge=0.0, le=1.0)] | None = None
    similarity_boost: Annotated[StrictFloat, Field(ge=0.0, le=1.0)] | None = None


class ElevenLabsVoiceSpec(_VoiceOverrides):
    """``provider = "elevenlabs"``: ElevenLabs over its multi-stream websocket."""

    provider: Literal["elevenlabs"]
    model: Annotated[str, _one_of(ELEVENLABS_MODELS)] = "eleven_flash_v2_5"
    settings: ElevenLabsSettings = ElevenLabsSettings()

    def build_voice(
        self, *, api_key: str | None = None, base_url: str | None = None
    ) -> ElevenLabsVoice:
        """The :class:`~halfcascade.ElevenLabsVoice` this spec describes."""
        extra: dict[str, Any] = {"voice_id": self.voice_id} if self.voice_id else {}
        return ElevenLabsVoice(
            model=self.model,
            api_key=api_key,
            base_url=base_url,
            stability=self.settings.stability,
            similarity_boost=self.settings.similarity_boost,
            **extra,
        )


class OpenAISettings(_Spec):
    """OpenAI TTS settings: speaking speed and free-text delivery instructions."""

    speed: Annotated[StrictFloat, Field(ge=0.25, le=4.0)] = 1.0
    instructions: str | None = None


class OpenAIVoiceSpec(_VoiceOverrides):
    """``provider = "openai"``: OpenAI TTS; ``voice_id`` is the voice name (``"ash"``)."""

    provider: Literal["openai"]
    model: Annotated[str, _one_of(OPENAI_TTS_MODELS)] = "gpt-4o-mini-tts"
    settings: OpenAISettings = OpenAISettings()

    def build_voice(
        self, *, api_key: str | None = None, base_url: str | None = None
    ) -> OpenAIVoice:
        """The :class:`~halfcascade.OpenAIVoice` this spec describes."""
        extra: dict[str, Any] = {"voice": self.voice_id} if self.voice_id else {}
        return OpenAIVoice(
            model=self.model,
            speed=self.settings.speed,
            instructions=self.settings.instructions,
            api_key=api_key,
            base_url=base_url,
            **extra,
        )


class GoogleSettings(_Spec):
    """Google Cloud TTS settings."""

    speaking_rate: Annotated[StrictFloat, Field(ge=0.25, le=4.0)] = 1.0
    language: str = "en-US"


class GoogleVoiceSpec(_VoiceOverrides):
    """``provider = "google"``: Google Cloud TTS; ``voice_id`` is the voice name."""

    provider: Literal["google"]
    settings: GoogleSettings = GoogleSettings()

    def build_voice(
        self, *, api_key: str | None = None, base_url: str | None = None
    ) -> GoogleVoice:
        """The :class:`~halfcascade.GoogleVoice` this spec describes.

        Google authenticates with a credentials file, so ``api_key``/``base_url`` are refused.
        """
        if api_key is not None or base_url is not None:
            raise ConfigError(
                "GoogleVoiceSpec.build_voice() takes no api_key/base_url: Google TTS reads "
                "GOOGLE_APPLICATION_CREDENTIALS"
            )
        return GoogleVoice(
            voice_name=self.voice_id,
            language=self.settings.language,
            speaking_rate=self.settings.speaking_rate,
        )


VoiceSpec = Annotated[
    ElevenLabsVoiceSpec | OpenAIVoiceSpec | GoogleVoiceSpec, Field(discriminator="provider")
]


class AvatarSpec(_Spec):
    """The companion's face: a hosted avatar by id, or an image for the local avatar.

    ``image`` (local only; ``None`` draws the built-in face) is resolved relative to the
    persona file when it is loaded from one.
    """

    provider: Literal["tavus", "runway", "local"]
    id: str | None = None
    image: Path | None = None

    @model_validator(mode="after")
    def _complete(self) -> AvatarSpec:
        if self.provider == "local" and self.id is not None:
            raise ValueError('expected image = "face.png" (not id) for provider "local"')
        if self.provider != "local" and not self.id:
            raise ValueError(f'expected id = "<{self.provider} id>" for provider "{self.provider}"')
        return self


class Persona(_Spec):
    """Who the companion is. Render it with :func:`halfcascade.persona.render_persona`.

    Attributes:
        name: what the companion is called.
        character: what it is (``"puppy"``, ``"retired sea captain"``).
        backstory: a few sentences of history.
        traits: personality traits, most important first.
        speaking_style: how it talks, in the author's words.
        reply_length: the usual reply length in words (default 3 to 8).
        emotional_range: emotions it shows; the rest it keeps mild.
        language: BCP-47 tag of the language it speaks (``"en"``, ``"fr-CA"``).
        greeting: its first line, spoken as is (``session.say(persona.greeting)``).
        openers: its signature openers ("Woof!", "Oh, hi!"): the model is asked to open
            with one where it fits, and a phrase cache plays them instantly. ``None`` (the
            field left out) picks defaults for the character; ``[]`` means none. See
            :attr:`signature_openers`.
        voice: the TTS voice.
        avatar: its face, or ``None`` for voice only.
    """

    name: Annotated[str, Field(min_length=1, max_length=80)]
    character: Annotated[str, Field(min_length=1, max_length=200)]
    backstory: str = ""
    traits: tuple[str, ...] = ()
    speaking_style: str = ""
    reply_length: ReplyLength = ReplyLength()
    emotional_range: tuple[str, ...] = ()
    language: Annotated[str, Field(pattern=_LANGUAGE_TAG)] = "en"
    greeting: str | None = None
    openers: Annotated[tuple[str, ...], AfterValidator(check_openers)] | None = None
    voice: VoiceSpec | None = None
    avatar: AvatarSpec | None = None

    @property
    def signature_openers(self) -> tuple[str, ...]:
        """The openers in use: the file's, else the defaults for the character."""
        if self.openers is not None:
            return self.openers
        return default_openers(self.character, self.language)

    @classmethod
    def from_toml(cls, path: str | Path) -> Persona:
        """Load a persona file; see :func:`halfcascade.persona.load_persona`."""
        from .load import load_persona

        return load_persona(path)
