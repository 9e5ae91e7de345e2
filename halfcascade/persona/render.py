"""Render a persona into the stable instruction prefix.

The prefix is a pure function of the persona: byte-identical across turns, sessions and
processes, so provider prompt caches hit. Per-user data (memories) never goes in it; it goes
after it (:func:`halfcascade.memory.render_instructions`).
"""

from __future__ import annotations

from ..speech.style import SpokenStyle, render_spoken_instructions
from .model import Persona

__all__ = ["render_persona", "spoken_style"]

_LANGUAGES = {
    "ar": "Arabic",
    "de": "German",
    "en": "English",
    "es": "Spanish",
    "fr": "French",
    "hi": "Hindi",
    "it": "Italian",
    "ja": "Japanese",
    "ko": "Korean",
    "nl": "Dutch",
    "pl": "Polish",
    "pt": "Portuguese",
    "ru": "Russian",
    "sv": "Swedish",
    "tr": "Turkish",
    "zh": "Chinese",
}

_EMOTION_RULE = (
    "Show feeling only through word choice and punctuation (!, ?, ...): never write stage "
    "directions such as *wags tail* or (laughs), tags or emoji, because the voice reads every "
    "character aloud."
)
_VOICE_RULES = {
    "elevenlabs": "An exclamation mark lifts the voice, a question mark raises it at the end "
    "and an ellipsis adds a short pause: use them to carry emotion.",
    "openai": "The voice follows the mood of your words: let them carry the emotion.",
    "google": "The voice reads evenly: carry emotion in the words themselves, not in punctuation.",
}


def spoken_style(persona: Persona) -> SpokenStyle:
    """The spoken-output rules for ``persona``: its reply length, its openers and what its
    TTS can render."""
    extra = [_EMOTION_RULE]
    if persona.voice is not None:
        extra.append(_VOICE_RULES[persona.voice.provider])
    return SpokenStyle(
        min_words=persona.reply_length.min_words,
        max_words=persona.reply_length.max_words,
        openers=persona.signature_openers,
        extra=tuple(extra),
    )


def render_persona(persona: Persona) -> str:
    """The stable instruction prefix for ``persona``, spoken-style rules included.

    Pass it to the agent unchanged (``halfcascade.Agent(instructions=..., style=None)``) or
    through :func:`halfcascade.memory.prepare_instructions`.
    """
    sections = [_identity(persona), _personality(persona), _speech(persona)]
    body = "\n\n".join(s for s in sections if s)
    return render_spoken_instructions(body, spoken_style(persona))


def _clean(text: str) -> str:
    # TOML multi-line strings keep the author's line endings and indentation
    lines = [line.strip() for line in text.replace("\r\n", "\n").split("\n")]
    return "\n".join(lines).strip()


def _article(noun: str) -> str:
    if noun.lower().startswith(("a ", "an ", "the ")):
        return noun
    return ("an " if noun[:1].lower() in "aeiou" else "a ") + noun


def _identity(persona: Persona) -> str:
    lines = [
        "# Who you are",
        f"You are {_clean(persona.name)}, {_article(_clean(persona.character))}.",
    ]
    if persona.backstory.strip():
        lines.append(_clean(persona.backstory))
    return "\n".join(lines)


def _personality(persona: Persona) -> str:
    lines = []
    if persona.traits:
        lines.append(f"- You are {_join(persona.traits)}.")
    if persona.emotional_range:
        lines.append(
            f"- The emotions you show are {_join(persona.emotional_range)}; keep any other "
            "feeling mild."
        )
    return "\n".join(["# Personality", *lines]) if lines else ""


def _speech(persona: Persona) -> str:
    base = persona.language.split("-")[0]
    language = _LANGUAGES.get(base, persona.language)
    lines = ["# How you talk"]
    if persona.speaking_style.strip():
        lines.append(_clean(persona.speaking_style))
    lines.append(f"Always speak {language}.")
    return "\n".join(lines)


def _join(items: tuple[str, ...]) -> str:
    words = [_clean(i) for i in items if i.strip()]
    if len(words) <= 1:
        return "".join(words)
    return ", ".join(words[:-1]) + " and " + words[-1]
