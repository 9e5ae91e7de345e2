"""Where the demo's brain and voice come from: the local stand-ins, or the real providers.

Offline, one OpenAI Realtime (or Gemini Live) stand-in and one ElevenLabs stand-in serve
both visits, with each turn's provider delays drawn from a benchmark profile (``fixed`` by
default), so every turn has a floor: the delays no pipeline can avoid. The user's words are
delivered as speech (espeak-ng) and, as what the stand-in "heard", as text: no speech
recognition runs.
Live, the same script goes to OpenAI Realtime (or Gemini Live) and ElevenLabs with your keys.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from ..bench.profiles import Draw, LatencyProfile, load_profile
from ..brain import OpenAIBrain
from ..errors import ConfigError, MissingCredentialsError
from ..persona import Persona
from ..speech import ElevenLabsVoice, GoogleVoice, OpenAIVoice
from ..testing.elevenlabs import ElevenLabsServer
from ..testing.openai_realtime import RealtimeServer
from ..testing.transcribe import ScriptedTranscriber
from ..testing.vad import VadConfig
from .script import BRAINS, rule_book

if TYPE_CHECKING:
    from ..brain import GoogleBrain

__all__ = ["LIVE_KEYS", "Providers", "live_providers", "offline_providers"]

LIVE_KEYS = {
    "openai": ("OPENAI_API_KEY", "ELEVEN_API_KEY"),
    "google": ("GOOGLE_API_KEY", "ELEVEN_API_KEY"),
}
_LOCAL_KEY = "local-demo-key"

Voice = ElevenLabsVoice | OpenAIVoice | GoogleVoice


def persona_voice(persona: Persona, **kwargs: Any) -> Voice:
    """The voice the persona file names (``[voice]``)."""
    if persona.voice is None:
        raise ConfigError(f"persona {persona.name!r} has no [voice] table: the demo speaks")
    return persona.voice.build_voice(**kwargs)


@dataclass(slots=True, kw_only=True)
class Providers:
    """Builds each visit's brain and voice, and sets up each turn."""

    label: str
    brain: Callable[[], OpenAIBrain | GoogleBrain]
    voice: Callable[[Persona], Voice]
    set_turn: Callable[[int, str], float | None]
    """Prepare turn ``i`` whose user says ``line``; returns the turn's floor, if known."""


@contextlib.asynccontextmanager
async def offline_providers(
    profile_name: str = "fixed", *, seed: int = 7, turns: int = 16, brain: str = "openai"
) -> AsyncIterator[Providers]:
    """The local stand-ins, with per-turn delays drawn from ``profile_name``."""
    _check_brain(brain)
    profile: LatencyProfile = load_profile(profile_name)
    draws: list[Draw] = profile.draws(turns, seed=seed)
    heard = ScriptedTranscriber()
    window = round(profile.vad_decision * 1000)
    vad = VadConfig(silence_duration_ms=window, semantic_silence_duration_ms=window)
    options: dict[str, Any] = {
        "reply": rule_book,
        "ttft": draws[0].first_text,
        "token_interval": profile.token_interval,
        "transcriber": heard,
        "vad": vad,
    }
    async with contextlib.AsyncExitStack() as stack:
        tts = await stack.enter_async_context(ElevenLabsServer(ttfb=draws[0].tts_ttfb))
        build_brain: Callable[[], OpenAIBrain | GoogleBrain]
        if brain == "google":
            from ..testing.gemini_live import GeminiLiveServer
            from ..testing.gemini_live.stack import gemini_brain

            gemini = await stack.enter_async_context(GeminiLiveServer(**options))
            realtime: RealtimeServer | GeminiLiveServer = gemini
            build_brain = lambda: gemini_brain(gemini)  # noqa: E731
            label = "offline: local Gemini Live + ElevenLabs stand-ins"
        else:
            openai_rt = await stack.enter_async_context(RealtimeServer(**options))
            realtime = openai_rt
            build_brain = lambda: OpenAIBrain(  # noqa: E731
                base_url=openai_rt.base_url, api_key=_LOCAL_KEY
            )
            label = "offline: local OpenAI Realtime + ElevenLabs stand-ins"

        def voice(persona: Persona) -> Voice:
            if persona.voice is not None and persona.voice.voice_id:
                tts.add_voice(persona.voice.voice_id, persona.name)  # premade voices only
            return persona_voice(persona, api_key=_LOCAL_KEY, base_url=tts.base_url)

        def set_turn(i: int, line: str) -> float:
            draw = draws[i % len(draws)]
            realtime.set_latency(ttft=draw.first_text, token_interval=profile.token_interval)
            tts.set_ttfb(draw.tts_ttfb)
            heard.push(line)
            return draw.realtime_floor

        yield Providers(
            label=f"{label}, profile {profile.name}",
            brain=build_brain,
            voice=voice,
            set_turn=set_turn,
        )


def _check_brain(brain: str) -> None:
    if brain not in BRAINS:
        raise ConfigError(f"unknown brain {brain!r}: choose one of {', '.join(BRAINS)}")


def missing_live_keys(brain: str = "openai") -> list[str]:
    """The environment variables ``--live`` needs and that are not set."""
    _check_brain(brain)
    return [k for k in LIVE_KEYS[brain] if not os.environ.get(k)]


@contextlib.asynccontextmanager
async def live_providers(brain: str = "openai") -> AsyncIterator[Providers]:
    """OpenAI Realtime or Gemini Live, and the persona's ElevenLabs voice, with the keys in
    the environment.

    Raises:
        MissingCredentialsError: naming every key that is not set.
    """
    if missing := missing_live_keys(brain):
        raise MissingCredentialsError(
            missing, hint="halfcascade demo --live; without --live it runs offline"
        )
    if brain == "google":
        from ..brain import GoogleBrain

        yield Providers(
            label="live: Gemini Live + ElevenLabs",
            brain=GoogleBrain,
            voice=persona_voice,
            set_turn=lambda i, line: None,
        )
        return
    yield Providers(
        label="live: OpenAI Realtime + ElevenLabs",
        brain=OpenAIBrain,
        voice=persona_voice,
        set_turn=lambda i, line: None,
    )
