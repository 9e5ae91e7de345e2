"""Fill the phrase cache for a persona ahead of time (``halfcascade cache warm``).

A session warms its openers at start anyway; warming ahead of time means even the first
session of a fresh worker serves them from disk, and no synthesis request is made while
users are talking.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

from livekit.agents import utils

from ..._env import require_all
from ...errors import ConfigError
from ..voices import build_tts
from .cache import PhraseCache, WarmReport

if TYPE_CHECKING:
    from ...persona import Persona

__all__ = ["warm_persona"]


async def warm_persona(
    persona: Persona | str | Path,
    *,
    cache: PhraseCache,
    api_key: str | None = None,
    base_url: str | None = None,
) -> WarmReport:
    """Synthesise (or load) every opener of ``persona`` with its own voice into ``cache``.

    Args:
        persona: a :class:`~halfcascade.Persona` or the path of a persona file.
        cache: where the phrases go.
        api_key, base_url: for the voice's provider (else its usual environment variable).

    Raises:
        ConfigError: the persona has no voice or no openers.
        MissingCredentialsError: the voice's credentials are not set.
    """
    from ...persona import load_persona

    source = str(persona) if isinstance(persona, str | Path) else persona.name
    if isinstance(persona, str | Path):
        persona = load_persona(persona)
    if persona.voice is None:
        raise ConfigError(
            f"{source}: the persona has no [voice] table; cached phrases belong to a voice, "
            "so add one (see docs/persona.md)"
        )
    openers = persona.signature_openers
    if not openers:
        raise ConfigError(f"{source}: the persona has no openers (openers = []): nothing to warm")
    extra: dict[str, Any] = {}
    if api_key is not None:
        extra["api_key"] = api_key
    if base_url is not None:
        extra["base_url"] = base_url
    voice = persona.voice.build_voice(**extra)
    require_all(voice.missing_credentials(), hint="or pass --api-key")
    async with utils.http_context.open():
        tts = build_tts(voice)
        try:
            return await cache.warm(tts, openers)
        finally:
            await tts.aclose()
