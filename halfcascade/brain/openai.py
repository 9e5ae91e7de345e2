"""OpenAI Realtime as a text-only brain: it hears the user and writes the reply."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from livekit.agents import llm

from .._env import env_value
from ..errors import ConfigError

__all__ = ["OpenAIBrain"]

TurnDetection = Literal["semantic_vad", "server_vad"]

#: Realtime models known to take audio in and write text out.
MODELS = (
    "gpt-realtime",
    "gpt-realtime-mini",
    "gpt-realtime-2",
    "gpt-4o-realtime-preview",
    "gpt-4o-mini-realtime-preview",
)


@dataclass(frozen=True, slots=True, kw_only=True)
class OpenAIBrain:
    """OpenAI Realtime with ``modalities=["text"]``.

    Turn detection stays on the server (``semantic_vad`` by default), so the reply starts
    without a local VAD or STT in the loop. ``None`` hands turn taking to the client.

    Attributes:
        model: realtime model name.
        turn_detection: ``"semantic_vad"``, ``"server_vad"`` or ``None`` (client-side turns).
        eagerness: semantic VAD eagerness; ``"high"`` answers sooner, ``"low"`` waits longer.
        silence_ms: server VAD silence window before the turn ends.
        transcription_model: user transcript model (history, memory); ``None`` turns it off.
        noise_reduction: ``"near_field"`` (headsets, phones), ``"far_field"`` or ``None``.
        input_chunk_ms: how much user audio is sent per websocket message. livekit sends
            100 ms chunks, so the server hears the end of speech 50 ms late on average;
            20 ms (one WebRTC packet) keeps that to 10 ms for 50 small messages a second.
        stall_timeout: seconds of silence from the service, where it always answers (a
            response under way, or the user's voice sent with server turn detection on),
            before the socket is taken as stalled and reconnected; livekit only notices a
            socket that closes. ``None`` turns the watchdog off.
        context_items: how many of the latest conversation items (user turns, replies,
            tool calls) the service keeps: beyond that plus a quarter, the oldest are
            deleted between turns, on the service and in livekit's copies
            (:class:`~halfcascade.brain.context_window.ContextWindow`); every reply reads
            the whole conversation, so a long session otherwise costs more per reply and
            keeps growing. ``None`` keeps everything.
        api_key: defaults to ``OPENAI_API_KEY``.
        base_url: defaults to ``OPENAI_BASE_URL``, else OpenAI's; http(s) URLs are fine.
    """

    model: str = "gpt-realtime"
    turn_detection: TurnDetection | None = "semantic_vad"
    eagerness: Literal["low", "medium", "high", "auto"] = "medium"
    silence_ms: int = 500
    transcription_model: str | None = "gpt-4o-mini-transcribe"
    noise_reduction: Literal["near_field", "far_field"] | None = None
    input_chunk_ms: int = 20
    stall_timeout: float | None = 5.0
    context_items: int | None = 60
    api_key: str | None = None
    base_url: str | None = None

    def __post_init__(self) -> None:
        if not any(self.model.startswith(m) for m in MODELS):
            raise ConfigError(
                f"unknown OpenAI Realtime model {self.model!r}; accepted: {', '.join(MODELS)} "
                "(dated snapshots of these are fine)"
            )
        if self.turn_detection not in ("semantic_vad", "server_vad", None):
            raise ConfigError(
                f"OpenAIBrain.turn_detection={self.turn_detection!r} is not supported; "
                "use 'semantic_vad', 'server_vad' or None"
            )
        if not 10 <= self.input_chunk_ms <= 100 or self.input_chunk_ms % 10:
            raise ConfigError("OpenAIBrain.input_chunk_ms must be 10, 20, ... or 100")
        if not 100 <= self.silence_ms <= 5000:
            raise ConfigError("OpenAIBrain.silence_ms must be between 100 and 5000")
        if self.stall_timeout is not None and not 1.0 <= self.stall_timeout <= 60.0:
            raise ConfigError(
                "OpenAIBrain.stall_timeout must be between 1 and 60 seconds (None: off)"
            )

        if self.context_items is not None and self.context_items < 4:
            raise ConfigError(
                "OpenAIBrain.context_items must be at least 4 (None keeps the whole conversation)"
            )

    def missing_credentials(self) -> list[str]:
        """Environment variables still needed (empty when the key is known)."""
        return [] if env_value(self.api_key, "OPENAI_API_KEY") else ["OPENAI_API_KEY"]

    def build(self) -> llm.RealtimeModel:
        """The livekit OpenAI ``RealtimeModel``, text output only."""
        from livekit.agents import NOT_GIVEN
        from openai.types.realtime import AudioTranscription
        from openai.types.realtime.realtime_audio_config_input import NoiseReduction
        from openai.types.realtime.realtime_audio_input_turn_detection import (
            SemanticVad,
            ServerVad,
        )

        from ._chunked import ChunkedRealtimeModel

        turn: SemanticVad | ServerVad | None = None
        if self.turn_detection == "semantic_vad":
            turn = SemanticVad(
                type="semantic_vad",
                eagerness=self.eagerness,
                create_response=True,
                interrupt_response=True,
            )
        elif self.turn_detection == "server_vad":
            turn = ServerVad(
                type="server_vad",
                silence_duration_ms=self.silence_ms,
                create_response=True,
                interrupt_response=True,
            )
        transcription = (
            AudioTranscription(model=self.transcription_model) if self.transcription_model else None
        )
        noise = NoiseReduction(type=self.noise_reduction) if self.noise_reduction else None
        return ChunkedRealtimeModel(
            input_chunk_ms=self.input_chunk_ms,
            stall_timeout=self.stall_timeout,
            server_turns=turn is not None,
            model=self.model,
            modalities=["text"],
            turn_detection=turn,
            input_audio_transcription=transcription,
            input_audio_noise_reduction=noise,
            api_key=env_value(self.api_key, "OPENAI_API_KEY"),
            base_url=env_value(self.base_url, "OPENAI_BASE_URL") or NOT_GIVEN,
        )
