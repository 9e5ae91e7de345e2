from __future__ import annotations

import pytest
from livekit.plugins import openai

import halfcascade
from halfcascade import (
    ConfigError,
    ElevenLabsVoice,
    GoogleBrain,
    MissingCredentialsError,
    OpenAIBrain,
    OpenAIVoice,
    Session,
    UnsupportedModelError,
)
from halfcascade.brain import TEXT_MODELS, build_brain
from halfcascade.speech import FailoverTTS

pytestmark = pytest.mark.unit


def test_public_api_is_pinned() -> None:
    assert sorted(halfcascade.__all__) == [
        "Agent",
        "AttachedAvatar",
        "Avatar",
        "ConfigError",
        "ElevenLabsVoice",
        "FirstPhraseTokenizer",
        "GoogleBrain",
        "GoogleVoice",
        "HalfcascadeError",
        "LocalAvatar",
        "Memory",
        "MemoryBinding",
        "MemoryConfig",
        "MemoryStore",
        "MissingCredentialsError",
        "NoAvatar",
        "OpenAIBrain",
        "OpenAIVoice",
        "Persona",
        "Phrasing",
        "PostgresMemoryStore",
        "RunwayAvatar",
        "SQLiteMemoryStore",
        "Session",
        "SpokenStyle",
        "StoreError",
        "TavusAvatar",
        "UnsupportedModelError",
        "__version__",
        "attach_avatar",
        "load_persona",
        "render_persona",
        "render_spoken_instructions",
    ]
    for name in halfcascade.__all__:
        assert getattr(halfcascade, name) is not None


def test_missing_keys_are_listed_together() -> None:
    with pytest.raises(MissingCredentialsError) as info:
        Session(brain=OpenAIBrain(), voice=ElevenLabsVoice(), fallback_voices=[OpenAIVoice()])
    assert info.value.missing == ("OPENAI_API_KEY", "ELEVEN_API_KEY")
    assert "OPENAI_API_KEY, ELEVEN_API_KEY" in str(info.value)


def test_secrets_never_appear_in_errors(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OPENAI_API_KEY", "sk-very-secret")
    with pytest.raises(MissingCredentialsError) as info:
        Session(brain=OpenAIBrain(), voice=ElevenLabsVoice())
    assert "sk-very-secret" not in str(info.value)
    assert info.value.missing == ("ELEVEN_API_KEY",)


@pytest.mark.parametrize(
    "model",
    [
        "gemini-2.5-flash-native-audio-preview-12-2025",
        "gemini-live-2.5-flash-native-audio",
        "gemini-3.1-flash-live-preview",
    ],
)
def test_gemini_models_that_cannot_write_text_are_refused_with_a_working_one(model: str) -> None:
    with pytest.raises(UnsupportedModelError) as info:
        GoogleBrain(model=model, api_key="k")
    assert TEXT_MODELS[0] in str(info.value)


def test_an_audio_output_realtime_model_is_refused_before_connecting() -> None:
    model = openai.realtime.RealtimeModel(api_key="k", base_url="http://127.0.0.1:9/v1")
    with pytest.raises(UnsupportedModelError, match="modalities=\\['text'\\]"):
        build_brain(model)


def test_a_text_realtime_model_instance_is_accepted() -> None:
    model = openai.realtime.RealtimeModel(api_key="k", modalities=["text"])
    assert build_brain(model) is model


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [
        ({"preemptive_generation": True}, "preemptive_generation"),
        ({"min_endpointing_delay": 0.2}, "min_endpointing_delay"),
        ({"stt": "deepgram"}, "stt"),
        ({"turn_handling": {"endpointing": {"min_delay": 0.1}}}, "endpointing"),
        ({"turn_handling": {"preemptive_generation": {"enabled": True}}}, "preemptive"),
    ],
)
def test_cascade_only_options_are_refused_not_ignored(
    kwargs: dict[str, object], field: str
) -> None:
    with pytest.raises(ConfigError, match=field):
        Session(
            brain=OpenAIBrain(api_key="k"),
            voice=ElevenLabsVoice(api_key="k"),
            **kwargs,  # type: ignore[arg-type]
        )


def test_unknown_providers_and_models_name_the_accepted_ones() -> None:
    with pytest.raises(ConfigError, match=r"\['google', 'openai'\]"):
        Session(brain="anthropic", voice=ElevenLabsVoice(api_key="k"))
    with pytest.raises(ConfigError, match=r"\['elevenlabs', 'google', 'openai'\]"):
        Session(brain=OpenAIBrain(api_key="k"), voice="eleven")
    with pytest.raises(ConfigError, match="gpt-realtime"):
        OpenAIBrain(model="gpt-4o")
    with pytest.raises(ConfigError, match="eleven_flash_v2_5"):
        ElevenLabsVoice(model="eleven_turbo_v9")
    with pytest.raises(ConfigError, match="gpt-4o-mini-tts"):
        OpenAIVoice(model="whisper-1")


async def test_provider_names_resolve_to_default_configs(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OPENAI_API_KEY", "k")
    monkeypatch.setenv("ELEVEN_API_KEY", "k")
    session = Session(brain="openai", voice="elevenlabs", fallback_voices=["openai"])
    try:
        assert isinstance(session.llm, openai.realtime.RealtimeModel)
        assert isinstance(session.tts, FailoverTTS)
    finally:
        await session.aclose()


def test_bad_brain_options_are_named() -> None:
    with pytest.raises(ConfigError, match="turn_detection"):
        OpenAIBrain(turn_detection="vad")  # type: ignore[arg-type]
    with pytest.raises(ConfigError, match="silence_ms"):
        OpenAIBrain(silence_ms=10)


async def test_session_defaults_remove_latency_costs() -> None:
    session = Session(brain=OpenAIBrain(api_key="k"), voice=ElevenLabsVoice(api_key="k"))
    try:
        opts = session.options
        assert opts.aec_warmup_duration is None
        assert opts.tts_text_transforms is None
        assert session.turn_detection == "realtime_llm"
        assert session.vad is None
        # a single voice sits behind the failover too (a dropped reply is resumed)
        assert isinstance(session.tts, FailoverTTS)
        (voice,) = session.tts.voices
        tokenizer = voice._opts.word_tokenizer  # type: ignore[attr-defined]
        assert isinstance(tokenizer, halfcascade.FirstPhraseTokenizer)
    finally:
        await session.aclose()


async def test_a_long_session_keeps_a_bounded_event_record() -> None:
    from livekit.agents.voice.events import UserStateChangedEvent

    with pytest.raises(ConfigError, match="recorded_events"):
        Session(
            brain=OpenAIBrain(api_key="k"), voice=ElevenLabsVoice(api_key="k"), recorded_events=0
        )
    session = Session(
        brain=OpenAIBrain(api_key="k"), voice=ElevenLabsVoice(api_key="k"), recorded_events=20
    )
    try:
        events = [
            UserStateChangedEvent(old_state="listening", new_state="speaking") for _ in range(500)
        ]
        for ev in events:
            session.emit("user_state_changed", ev)
        kept = session._recorded_events
        assert 20 <= len(kept) <= 25 and kept[-1] is events[-1]  # the latest, not the first
    finally:
        await session.aclose()
    # by default about the last ten turns (each recorded reply keeps its SpeechHandle alive)
    session = Session(brain=OpenAIBrain(api_key="k"), voice=ElevenLabsVoice(api_key="k"))
    try:
        for ev in events:
            session.emit("user_state_changed", ev)
        assert 100 <= len(session._recorded_events) <= 125
    finally:
        await session.aclose()
