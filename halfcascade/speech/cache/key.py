"""Which voice a piece of cached audio belongs to.

A cached opener may only play where the live TTS would have produced the same sound, so its
key is everything about the *serving* voice that changes the audio: the plugin class,
provider, model, sample rate, channels and every option of the plugin's ``_opts`` except
those that only change transport or text chunking (endpoints, credentials, tokenizers,
timeouts, streaming modes). Unknown options are kept (a wrong miss is cheap, wrong audio is
not).

The serving voice is resolved through livekit's adapters: a ``StreamAdapter`` serves with
the TTS it wraps, a ``FallbackAdapter`` with the instance its next request goes to (the
first one still marked available), so after a failover the fallback voice's own key is
looked up and the primary's audio is never played in its place.
"""

from __future__ import annotations

import dataclasses
import enum
import hashlib
import json
from dataclasses import dataclass
from typing import Any

from livekit.agents import tts as lk_tts

__all__ = ["VoiceKey", "serving_voice", "voice_key"]

# options that do not change the audio of one whole phrase
_TRANSPORT = frozenset(
    {
        "base_url",
        "streaming_latency",
        "chunk_length_schedule",
        "enable_logging",
        "inactivity_timeout",
        "sync_alignment",
        "preferred_alignment",
        "auto_mode",
        "http_session",
        "client",
        "conn_options",
    }
)
# credentials never change the audio: rotating them must not empty the cache
_CREDENTIAL_PARTS = ("api_key", "secret", "credential", "password", "access_token", "auth")


@dataclass(frozen=True, slots=True)
class VoiceKey:
    """What makes a voice sound the way it does; equal keys give the same audio."""

    plugin: str
    provider: str
    model: str
    sample_rate: int
    num_channels: int
    options: str
    """The audio-relevant options as canonical JSON (kept in memory; only the digest is
    written to disk, since an option such as a voice-cloning key may be sensitive)."""

    @property
    def digest(self) -> str:
        """A stable hex digest of the key (the same in every process)."""
        blob = json.dumps(dataclasses.asdict(self), sort_keys=True, separators=(",", ":"))
        return hashlib.sha256(blob.encode()).hexdigest()

    def describe(self) -> str:
        """Provider, model and rate, for logs and the CLI (no option values)."""
        return f"{self.provider}/{self.model}@{self.sample_rate}Hz"


def serving_voice(tts: lk_tts.TTS[Any]) -> lk_tts.TTS[Any]:
    """The TTS instance that will synthesise the next request of ``tts``."""
    inner = getattr(tts, "_wrapped_tts", None)
    if isinstance(inner, lk_tts.TTS):
        return serving_voice(inner)
    instances = getattr(tts, "_tts_instances", None)
    if instances:
        pick = getattr(tts, "_next_instance", None)
        chosen = pick() if callable(pick) else _first_available(tts, instances)
        return serving_voice(chosen)
    return tts


def _first_available(tts: Any, instances: list[lk_tts.TTS[Any]]) -> lk_tts.TTS[Any]:
    for instance, status in zip(instances, getattr(tts, "_status", []), strict=False):
        if getattr(status, "available", True):
            return instance
    return instances[0]


def voice_key(tts: lk_tts.TTS[Any]) -> VoiceKey:
    """The key of the voice that serves ``tts``'s next request (see the module notes)."""
    voice = serving_voice(tts)
    opts = getattr(voice, "_opts", None)
    options = _options(opts) if opts is not None else {}
    cls = type(voice)
    return VoiceKey(
        plugin=f"{cls.__module__}.{cls.__qualname__}",
        provider=str(voice.provider),
        model=str(voice.model),
        sample_rate=int(voice.sample_rate),
        num_channels=int(voice.num_channels),
        options=json.dumps(options, sort_keys=True, separators=(",", ":")),
    )


def _options(opts: Any) -> dict[str, Any]:
    if dataclasses.is_dataclass(opts) and not isinstance(opts, type):
        items = {f.name: getattr(opts, f.name) for f in dataclasses.fields(opts)}
    else:
        items = dict(vars(opts))
    return {
        name: _plain(value)
        for name, value in items.items()
        if not name.startswith("_") and _audible(name)
    }


def _audible(name: str) -> bool:
    lowered = name.lower()
    if lowered in _TRANSPORT or lowered.endswith(("_timeout", "tokenizer")):
        return False
    return lowered != "key" and not any(part in lowered for part in _CREDENTIAL_PARTS)


def _plain(value: Any) -> Any:
    """A JSON-ready, process-independent form of ``value``."""
    if value is None or isinstance(value, bool | int | float | str):
        return value
    if isinstance(value, enum.Enum):
        return _plain(value.value)
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {f.name: _plain(getattr(value, f.name)) for f in dataclasses.fields(value)}
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in sorted(value.items(), key=lambda kv: str(kv[0]))}
    if isinstance(value, list | tuple | set | frozenset):
        items = [_plain(v) for v in value]
        return sorted(items, key=repr) if isinstance(value, set | frozenset) else items
    to_dict = getattr(type(value), "to_dict", None)  # proto-plus messages (Google)
    if callable(to_dict):
        try:
            return _plain(to_dict(value))
        except Exception:  # not a proto message after all: fall through
            pass
    text = repr(value)
    if " at 0x" in text:  # an object identity, different in every process
        return type(value).__qualname__
    return text
