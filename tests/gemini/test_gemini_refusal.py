"""Models that cannot write text are refused: by name before connecting, and by the
service's own refusal (close 1007, "Cannot extract voices from a non-audio request.")
for a model halfcascade does not know, in a brain it built or an instance the user built."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from google.genai import types
from livekit.agents import utils
from livekit.agents.voice.events import CloseEvent
from livekit.plugins import google

from halfcascade import Agent, ElevenLabsVoice, GoogleBrain, Session
from halfcascade.errors import UnsupportedModelError
from halfcascade.testing.gemini_live import GeminiLiveServer
from halfcascade.testing.gemini_live.stack import gemini_brain
from halfcascade.testing.stack import API_KEY

pytestmark = [pytest.mark.contract, pytest.mark.timeout(60)]

NATIVE = "gemini-2.5-flash-native-audio-preview-12-2025"
UNKNOWN_AUDIO_ONLY = "gemini-live-next-preview"  # a name no guard knows
VOICE = ElevenLabsVoice(base_url="http://127.0.0.1:9", api_key=API_KEY)


def test_google_brain_refuses_a_native_audio_model() -> None:
    with pytest.raises(UnsupportedModelError, match="1007"):
        GoogleBrain(model=NATIVE)


@pytest.mark.parametrize(
    "kwargs",
    [
        {"model": NATIVE, "modalities": [types.Modality.TEXT]},
        {"modalities": [types.Modality.TEXT]},  # the plugin's default model is native audio
        {"model": "gemini-live-2.5-flash-preview"},  # AUDIO output: it would speak itself
    ],
)
async def test_a_plugin_instance_the_user_built_is_refused(kwargs: dict[str, Any]) -> None:
    model = google.realtime.RealtimeModel(api_key=API_KEY, **kwargs)
    with pytest.raises(UnsupportedModelError):
        Session(brain=model, voice=VOICE)


async def _closed_by_refusal(brain: Any) -> tuple[CloseEvent, GeminiLiveServer]:
    closed: asyncio.Future[CloseEvent] = asyncio.get_running_loop().create_future()
    async with (
        utils.http_context.open(),
        GeminiLiveServer(reply="unused", audio_only_models=[UNKNOWN_AUDIO_ONLY]) as server,
    ):
        session = Session(brain=brain(server), voice=VOICE)
        session.on("close", lambda ev: closed.done() or closed.set_result(ev))
        await session.start(Agent(instructions="You are Biscuit."))
        async with asyncio.timeout(10):
            event = await closed
        await session.aclose()
        if session.llm is not None:
            await session.llm.aclose()
    return event, server


async def test_the_services_refusal_ends_the_session_with_a_clear_error() -> None:
    event, server = await _closed_by_refusal(lambda s: gemini_brain(s, model=UNKNOWN_AUDIO_ONLY))
    assert server.closes == [(1007, "Cannot extract voices from a non-audio request.")]
    assert server.connections == 1  # a refusal is not retried
    assert event.reason == "error" and event.error is not None
    message = str(event.error.error)
    assert "Cannot extract voices" in message and UNKNOWN_AUDIO_ONLY in message


async def test_the_services_refusal_reaches_a_user_built_instance() -> None:
    def built(server: GeminiLiveServer) -> Any:
        return google.realtime.RealtimeModel(
            model=UNKNOWN_AUDIO_ONLY,
            modalities=[types.Modality.TEXT],
            api_key=API_KEY,
            http_options=server.http_options(),
        )

    event, server = await _closed_by_refusal(built)
    assert server.closes == [(1007, "Cannot extract voices from a non-audio request.")]
    assert event.error is not None and "Cannot extract voices" in str(event.error.error)
