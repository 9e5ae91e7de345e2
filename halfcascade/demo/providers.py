"""Where the demo's brain and voice come from: the local stand-ins, or the real providers.

Offline, one OpenAI Realtime stand-in and one ElevenLabs stand-in serve both visits, with
each turn's provider delays drawn from a benchmark profile (``fixed`` by default), so every
turn has a floor: the delays no pipeline can avoid. The user's words are delivered as
speech (espeak-ng) and, as what the stand-in "heard", as text: no speech recognition runs.
Live, the same script goes to OpenAI Realtime and ElevenLabs with your keys.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from typing import Any

from ..bench.profiles import Draw, LatencyProfile, load_profile
from ..brain import OpenAIBrain
from ..errors import ConfigError, MissingCredentialsError
from ..persona import Persona
from ..speech import ElevenLabsVoice, GoogleVoice, OpenAIVoice
from ..testing.elevenlabs import ElevenLabsServer
from ..testing.openai_realtime import RealtimeServer
from ..testing.transcribe import ScriptedTranscriber
from ..testing.vad import VadConfig
from .script import rule_book

__all__ = ["LIVE_KEYS", "Providers", "live_providers", "offline_providers"]

LIVE_KEYS = ("OPENAI_API_KEY", "ELEVEN_API_KEY")
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
    brain: Callable[[], OpenAIBrain]
    voice: Callable[[Persona], Voice]
    set_turn: Callable[[int, str], float | None]
    """Prepare turn ``i`` whose user says ``line``; returns the turn's floor, if known."""


@contextlib.asynccontextmanager
async def offline_providers(
    profile_name: str = "fixed", *, seed: int = 7, turns: int = 16
) -> AsyncIterator[Providers]:
    """The local stand-ins, with per-turn delays drawn from ``profile_name``."""
    profile: LatencyProfile = load_profile(profile_name)
    draws: list[Draw] = profile.draws(turns, seed=seed)
    heard = ScriptedTranscriber()
    window = round(profile.vad_decision * 1000)
    vad = VadConfig(silence_duration_ms=window, semantic_silence_duration_ms=window)
    async with (
        RealtimeServer(
            reply=rule_book,
            ttft=draws[0].first_text,
            token_interval=profile.token_interval,
            transcriber=heard,
            vad=vad,
        ) as realtime,
        ElevenLabsServer(ttfb=draws[0].tts_ttfb) as tts,
    ):

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
            label=f"offline: local OpenAI Realtime + ElevenLabs stand-ins, profile {profile.name}",
            brain=lambda: OpenAIBrain(base_url=realtime.base_url, api_key=_LOCAL_KEY),
            voice=voice,
            set_turn=set_turn,
        )


def missing_live_keys() -> list[str]:
    """The environment variables ``--live`` needs and that are not set."""
    return [k for k in LIVE_KEYS if not os.environ.get(k)]


@contextlib.asynccontextmanager
async def live_providers() -> AsyncIterator[Providers]:
    """OpenAI Realtime and the persona's ElevenLabs voice, with the keys in the environment.

    Raises:
        MissingCredentialsError: naming every key that is not set.
    """
    if missing := missing_live_keys():
        raise MissingCredentialsError(
            missing, hint="halfcascade demo --live; without --live it runs offline"
        )
    yield Providers(
        label="live: OpenAI Realtime + ElevenLabs",
        brain=OpenAIBrain,
        voice=persona_voice,
        set_turn=lambda i, line: None,
    )
