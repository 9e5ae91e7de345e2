"""Personas: a TOML file describing the companion, rendered into a stable instruction prefix.

::

    from halfcascade.persona import load_persona, render_persona

    persona = load_persona("examples/personas/biscuit.toml")
    prefix = render_persona(persona)          # byte-identical every time
    voice = persona.voice.build_voice()       # -> ElevenLabsVoice(...)
    openers = persona.signature_openers       # ("Woof!", "Oh, hi!", ...)
"""

from __future__ import annotations

from .load import load_persona, parse_persona
from .model import (
    AvatarSpec,
    ElevenLabsVoiceSpec,
    GoogleVoiceSpec,
    OpenAIVoiceSpec,
    Persona,
    ReplyLength,
    VoiceSpec,
)
from .openers import default_openers
from .render import render_persona, spoken_style

__all__ = [
    "AvatarSpec",
    "ElevenLabsVoiceSpec",
    "GoogleVoiceSpec",
    "OpenAIVoiceSpec",
    "Persona",
    "ReplyLength",
    "VoiceSpec",
    "default_openers",
    "load_persona",
    "parse_persona",
    "render_persona",
    "spoken_style",
]
