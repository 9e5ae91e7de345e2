"""What a ``setup`` message asks for, checked the way the service checks it."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal

from google.genai import types

from ._wire import INTERNAL, INVALID_ARGUMENT, NO_VOICES, ClientClose, WireSetup

__all__ = ["SessionConfig", "read_setup"]


@dataclass(frozen=True, slots=True, kw_only=True)
class SessionConfig:
    """A connection's settings, from its ``setup``."""

    model: str
    modality: Literal["text", "audio"]
    instructions: str
    tools: tuple[str, ...]
    transcribe_input: bool
    transcribe_output: bool
    resumable: bool
    handle: str | None
    """The resumption handle to restore, if any."""
    manual_activity: bool
    """``automaticActivityDetection.disabled``: turns come as ``activityStart``/``End``."""
    turn_detection: dict[str, Any] | None
    """The VAD windows (``server_vad`` form), ``None`` with manual activity."""


def _text_of(content: object) -> str:
    if isinstance(content, types.Content):
        return "".join(p.text or "" for p in content.parts or [])
    return ""


def _turn_detection(config: types.RealtimeInputConfig | None) -> dict[str, Any] | None:
    aad = config.automatic_activity_detection if config else None
    if aad and aad.disabled:
        return None
    turn: dict[str, Any] = {"type": "server_vad"}
    if aad and aad.silence_duration_ms is not None:
        turn["silence_duration_ms"] = aad.silence_duration_ms
    if aad and aad.prefix_padding_ms is not None:
        turn["prefix_padding_ms"] = aad.prefix_padding_ms
    return turn


def read_setup(
    setup: WireSetup, *, version: str, models: tuple[str, ...], audio_only: tuple[str, ...]
) -> SessionConfig:
    """The session ``setup`` asks for.

    Raises:
        ClientClose: 1008 for an unknown model; 1007 for two modalities or TEXT from an
            audio-only model ("Cannot extract voices from a non-audio request."); 1011 for
            TEXT from a 3.1 Live model (reported to fail rather than refuse).
    """
    model = (setup.model or "").removeprefix("models/")
    if model not in models:
        raise ClientClose(
            1008,
            f"models/{model} is not found for API version {version}, or is not "
            "supported for bidiGenerateContent.",
        )
    gen = setup.generation_config
    modalities = (gen.response_modalities if gen else None) or [types.Modality.AUDIO]
    if len(modalities) != 1 or modalities[0] not in (types.Modality.TEXT, types.Modality.AUDIO):
        raise ClientClose(1007, INVALID_ARGUMENT)
    if modalities[0] == types.Modality.TEXT and model in audio_only:
        if "3.1-flash-live" in model:
            raise ClientClose(1011, INTERNAL)
        raise ClientClose(1007, NO_VOICES)
    turn_detection = _turn_detection(setup.realtime_input_config)
    return SessionConfig(
        model=model,
        modality="text" if modalities[0] == types.Modality.TEXT else "audio",
        instructions=_text_of(setup.system_instruction),
        tools=tuple(
            fn.name or ""
            for tool in setup.tools or []
            if isinstance(tool, types.Tool)
            for fn in tool.function_declarations or []
        ),
        transcribe_input=setup.input_audio_transcription is not None,
        transcribe_output=setup.output_audio_transcription is not None,
        resumable=setup.session_resumption is not None,
        handle=setup.session_resumption.handle if setup.session_resumption else None,
        manual_activity=turn_detection is None,
        turn_detection=turn_detection,
    )
