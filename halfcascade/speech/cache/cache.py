"""``PhraseCache``: a companion's openers, synthesised once per voice, served from memory.

One cache serves a whole worker process: sessions share its memory (a dozen openers are
a few hundred kilobytes per voice) and its directory, which persists across restarts and
is shared by every process on the machine. A phrase is synthesised through the very voice
instance that would speak it live (the one a ``FallbackAdapter`` serves next), so cached
and live audio come from the same voice, model and settings.

Nothing here runs on the reply path except a dictionary lookup: disk reads and synthesis
happen in :meth:`PhraseCache.warm`, which sessions run in the background at start and
``halfcascade cache warm`` runs ahead of time.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from types import MappingProxyType
from typing import Any, Literal

import numpy as np
from livekit.agents import tts as lk_tts

from ...errors import ConfigError
from ..openers import normalize_phrase
from .key import VoiceKey, serving_voice, voice_key
from .store import CachedPhrase, PhraseStore, default_cache_dir, trim_phrase

__all__ = ["PhraseCache", "WarmReport"]

logger = logging.getLogger("halfcascade.speech.cache")

_EMPTY: Mapping[str, CachedPhrase] = MappingProxyType({})
_Outcome = Literal["cached", "loaded", "synthesized", "failed"]


@dataclass(frozen=True, slots=True)
class WarmReport:
    """What a warm-up did, per phrase: already in memory, read from disk, synthesised, or
    failed (the phrase stays uncached and is spoken live)."""

    voice: str
    cached: int = 0
    loaded: int = 0
    synthesized: int = 0
    failed: int = 0

    @property
    def ready(self) -> int:
        """Phrases now served from memory."""
        return self.cached + self.loaded + self.synthesized


class PhraseCache:
    """Opener audio per voice, in memory and (unless ``persist=False``) on disk.

    Args:
        directory: where phrases are stored; default :func:`default_cache_dir`
            (``$HALFCASCADE_CACHE_DIR`` or ``~/.cache/halfcascade/phrases``).
        persist: ``False`` keeps phrases in memory only (nothing read or written on disk).
        concurrency: how many phrases a warm-up synthesises at once.
    """

    def __init__(
        self, directory: str | Path | None = None, *, persist: bool = True, concurrency: int = 4
    ) -> None:
        if directory is not None and not persist:
            raise ConfigError("PhraseCache(directory=...) needs persist=True (or no directory)")
        if concurrency < 1:
            raise ConfigError(f"PhraseCache concurrency must be >= 1, got {concurrency}")
        self._store = PhraseStore(directory or default_cache_dir()) if persist else None
        self._concurrency = concurrency
        self._memory: dict[VoiceKey, dict[str, CachedPhrase]] = {}
        self._locks: dict[tuple[VoiceKey, str], asyncio.Lock] = {}
        self._loop: asyncio.AbstractEventLoop | None = None

    @property
    def directory(self) -> Path | None:
        """Where phrases are stored (``None`` in memory only)."""
        return self._store.directory if self._store is not None else None

    def phrases(self, key: VoiceKey) -> Mapping[str, CachedPhrase]:
        """The phrases in memory for voice ``key``, by normalized text (read-only)."""
        table = self._memory.get(key)
        return MappingProxyType(table) if table else _EMPTY

    def forget(self, key: VoiceKey | None = None) -> None:
        """Drop phrases from memory (one voice, or all); the disk copy stays."""
        if key is None:
            self._memory.clear()
        else:
            self._memory.pop(key, None)

    async def warm(self, tts: lk_tts.TTS[Any], phrases: Sequence[str]) -> WarmReport:
        """Make every phrase of ``phrases`` ready for the voice ``tts`` serves with now.

        Each phrase is taken from memory, else from disk, else synthesised through that
        voice and stored. Concurrent warm-ups of the same phrase (sessions starting
        together) synthesise it once.
        """
        voice = serving_voice(tts)
        key = voice_key(voice)
        unique = {normalize_phrase(p): p for p in reversed(phrases) if normalize_phrase(p)}
        gate = asyncio.Semaphore(self._concurrency)

        async def one(normalized: str, text: str) -> _Outcome:
            async with gate:
                return await self._ensure(voice, key, normalized, text)

        outcomes = await asyncio.gather(*(one(n, t) for n, t in unique.items()))
        counts = {o: outcomes.count(o) for o in ("cached", "loaded", "synthesized", "failed")}
        report = WarmReport(voice=key.describe(), **counts)
        logger.info(
            "phrase cache warm",
            extra={"voice": report.voice, "ready": report.ready, "failed": report.failed},
        )
        return report

    async def _ensure(
        self, voice: lk_tts.TTS[Any], key: VoiceKey, normalized: str, text: str
    ) -> _Outcome:
        if normalized in self._memory.get(key, {}):
            return "cached"
        async with self._lock(key, normalized):
            if normalized in self._memory.get(key, {}):
                return "cached"
            outcome: _Outcome = "loaded"
            phrase = await self._load(key, normalized)
            if phrase is None:
                try:
                    phrase = await _synthesize(voice, text)
                except Exception as exc:  # a provider error: this phrase is spoken live
                    logger.warning(
                        "could not synthesise a cached phrase; it will be spoken live",
                        extra={"voice": key.describe(), "error": repr(exc)},
                    )
                    logger.debug("uncached phrase", extra={"text": text})
                    return "failed"
                outcome = "synthesized"
                if self._store is not None:
                    await asyncio.to_thread(self._store.save, key, normalized, phrase)
            self._memory.setdefault(key, {})[normalized] = phrase
            return outcome

    async def _load(self, key: VoiceKey, normalized: str) -> CachedPhrase | None:
        if self._store is None:
            return None
        return await asyncio.to_thread(self._store.load, key, normalized)

    def _lock(self, key: VoiceKey, normalized: str) -> asyncio.Lock:
        loop = asyncio.get_running_loop()
        if loop is not self._loop:  # locks belong to one event loop
            self._loop, self._locks = loop, {}
        return self._locks.setdefault((key, normalized), asyncio.Lock())


async def _synthesize(voice: lk_tts.TTS[Any], text: str) -> CachedPhrase:
    """``text`` spoken by ``voice`` (one request), trimmed, as mono 16-bit PCM."""
    parts: list[np.ndarray[Any, np.dtype[np.int16]]] = []
    rate = voice.sample_rate
    async with voice.synthesize(text) as stream:
        async for ev in stream:
            frame = ev.frame
            rate = frame.sample_rate
            samples = np.frombuffer(frame.data, dtype=np.int16)
            if frame.num_channels > 1:
                samples = samples.reshape(-1, frame.num_channels).mean(axis=1).astype(np.int16)
            parts.append(samples)
    pcm = np.concatenate(parts) if parts else np.zeros(0, dtype=np.int16)
    if pcm.size == 0:
        raise RuntimeError("the voice returned no audio")
    return CachedPhrase(text=text, pcm=trim_phrase(pcm, rate).tobytes(), sample_rate=rate)
