"""The livekit internals halfcascade relies on: where they are read, and a check that they
still exist.

livekit-agents (1.8.x) offers no public way to do a few things halfcascade needs (the
dispatch timeline of a job, a forkserver preload list on a server the user built, the
avatar track's encoding, the websocket a TTS keeps open...). Every private name (one that
starts with ``_``) halfcascade touches is listed in :data:`INTERNALS`, with the module that
uses it; the simple reads and writes live in this package (:mod:`.worker`, :mod:`.session`,
:mod:`.avatar_runner`). :func:`check` resolves every entry against the installed
livekit, and ``tests/unit/test_livekit_internals.py`` fails, naming each missing one, as
soon as a livekit upgrade renames or removes any of them.
"""

from __future__ import annotations

import importlib
import inspect
from dataclasses import dataclass

__all__ = ["INTERNALS", "Internal", "check"]


@dataclass(frozen=True, slots=True)
class Internal:
    """One private livekit name: ``owner`` is ``"module:Class"`` (or ``"module"`` for a
    module-level function); ``used_by`` is the halfcascade module that needs it."""

    owner: str
    name: str
    used_by: str

    def present(self) -> bool:
        """Whether the installed livekit still has it (a class or instance attribute)."""
        module_name, _, qualname = self.owner.partition(":")
        try:
            obj: object = importlib.import_module(module_name)
            for part in filter(None, qualname.split(".")):
                obj = getattr(obj, part)
        except (ImportError, AttributeError):
            return False
        if hasattr(obj, self.name) or self.name in getattr(obj, "__dataclass_fields__", {}):
            return True
        if not inspect.isclass(obj):
            return False
        # an instance attribute: assigned in the source of the class or a livekit base
        for cls in obj.__mro__:
            if cls.__module__.startswith("livekit") and f"self.{self.name}" in _source(cls):
                return True
        return False


def _source(cls: type) -> str:
    try:
        return inspect.getsource(cls)
    except (OSError, TypeError):
        return ""


_AGENTS = "livekit.agents"
_OAI_RT = "livekit.plugins.openai.realtime.realtime_model"
_GOOGLE_RT = "livekit.plugins.google.realtime.realtime_api"

INTERNALS: tuple[Internal, ...] = (
    # worker start-up (halfcascade._livekit.worker)
    Internal(f"{_AGENTS}:JobContext", "_info", "halfcascade._livekit.worker"),
    Internal(f"{_AGENTS}:JobContext", "_info", "halfcascade._livekit.job"),
    Internal(f"{_AGENTS}:AgentServer", "_preload_modules", "halfcascade._livekit.worker"),
    Internal(f"{_AGENTS}.utils.http_context", "_create_ssl_context", "halfcascade._livekit.worker"),
    # session and avatar output (halfcascade._livekit.session)
    Internal(f"{_AGENTS}:AgentSession", "_started", "halfcascade._livekit.session"),
    Internal(
        f"{_AGENTS}.voice.avatar:DataStreamAudioOutput",
        "_wait_playback_start",
        "halfcascade._livekit.session",
    ),
    Internal(f"{_AGENTS}:AgentSession", "_recorded_events", "halfcascade.session"),
    Internal(
        f"{_AGENTS}.voice.avatar:DataStreamAudioOutput",
        "_started",
        "halfcascade._livekit.datastream",
    ),
    Internal(
        f"{_AGENTS}.voice.avatar:DataStreamAudioOutput",
        "_start_atask",
        "halfcascade._livekit.datastream",
    ),
    # the avatar track at the avatar's own frame rate (halfcascade._livekit.avatar_runner)
    *(
        Internal(f"{_AGENTS}.voice.avatar:AvatarRunner", name, "halfcascade._livekit.avatar_runner")
        for name in (
            "_publish_track",
            "_lock",
            "_room_connected_fut",
            "_room",
            "_options",
            "_audio_source",
            "_video_source",
            "_audio_publication",
            "_video_publication",
        )
    ),
    # realtime input chunking and model options
    Internal(f"{_OAI_RT}:RealtimeSession", "_bstream", "halfcascade.brain._chunked"),
    Internal(f"{_OAI_RT}:RealtimeSession", "_current_generation", "halfcascade.brain._chunked"),
    Internal(f"{_OAI_RT}:RealtimeSession", "_create_ws_conn", "halfcascade.brain._liveness"),
    Internal(
        f"{_AGENTS}.llm._realtime.openai:_ResponseGeneration",
        "_done_fut",
        "halfcascade.brain._chunked",
    ),
    Internal(f"{_OAI_RT}:RealtimeModel", "_opts", "halfcascade.session"),
    Internal(f"{_GOOGLE_RT}:RealtimeSession", "_bstream", "halfcascade.brain.google_session"),
    Internal(f"{_GOOGLE_RT}:RealtimeSession", "_client", "halfcascade.brain.google_session"),
    Internal(f"{_GOOGLE_RT}:RealtimeModel", "_sessions", "halfcascade.brain.google_session"),
    Internal(
        f"{_AGENTS}:APIConnectOptions", "_interval_for_retry", "halfcascade.brain.google_session"
    ),
    # voices: warm-up, phrase-cache keys, failover, a Google client on another endpoint
    Internal(
        "livekit.plugins.elevenlabs:TTS", "_current_connection", "halfcascade.latency.startup"
    ),
    Internal("livekit.plugins.elevenlabs:TTS", "_opts", "halfcascade.speech.cache.key"),
    Internal("livekit.plugins.openai:TTS", "_prewarm_task", "halfcascade.latency.startup"),
    Internal("livekit.plugins.openai:TTS", "_opts", "halfcascade.speech.cache.key"),
    Internal(f"{_AGENTS}.tts:StreamAdapter", "_wrapped_tts", "halfcascade.speech.cache.key"),
    Internal(f"{_AGENTS}.tts:FallbackAdapter", "_tts_instances", "halfcascade.speech.cache.key"),
    Internal(f"{_AGENTS}.tts:FallbackAdapter", "_status", "halfcascade.speech.cache.key"),
    Internal(f"{_AGENTS}.tts:FallbackAdapter", "_next_instance", "halfcascade.speech.cache.key"),
    Internal(f"{_AGENTS}.tts:SynthesizeStream", "_input_ch", "halfcascade.speech.failover_lk"),
    Internal(
        f"{_AGENTS}.tts:SynthesizeStream",
        "_metrics_monitor_task",
        "halfcascade.speech.failover_stream",
    ),
    Internal("livekit.plugins.google:TTS", "_ensure_client", "halfcascade.speech.google_voice"),
    Internal("livekit.plugins.google:TTS", "_client", "halfcascade.speech.google_voice"),
)
"""Every private livekit name halfcascade touches."""


def check() -> list[str]:
    """The entries of :data:`INTERNALS` the installed livekit no longer has (empty: all
    present)."""
    return [f"{i.owner}.{i.name} (used by {i.used_by})" for i in INTERNALS if not i.present()]
