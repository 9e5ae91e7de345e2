"""Bounded voice failover: a reply is always spoken while any voice works.

livekit's ``tts.FallbackAdapter`` is the model, but on this path it falls short where a user
hears it, so :class:`FailoverTTS` replaces its streaming side (its ``synthesize()`` and the
``_tts_instances``/``_next_instance()`` shape are kept, so halfcascade's phrase cache and
start-up tracker resolve the serving voice unchanged):

- a hung voice is only abandoned after the plugin's own timeout (10 s) times its retries
  (about 32 s measured); here a voice that gives no first audio within its *deadline*
  (its measured p95 first-audio time plus a margin, :class:`FailoverPolicy`) is abandoned
  for the next voice, for that phrase;
- after partial audio, ``FallbackAdapter`` drops the rest of the reply; here the next voice
  speaks it, from the first word not yet heard (:mod:`.failover_stream`);
- only the first voice is prewarmed; here every voice is warmed, and kept warm;
- a failed voice is probed in the background and restored once a probe speaks (as
  ``FallbackAdapter`` does, but on a timer instead of with the next reply's text).

Each inner request uses livekit's ``APIConnectOptions`` with ``max_retry=0``: retries are
the failover's job.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import logging
import time
from collections.abc import Sequence
from typing import Any, Literal

from livekit import rtc
from livekit.agents import DEFAULT_API_CONNECT_OPTIONS, APIConnectOptions, utils
from livekit.agents import tts as lk_tts
from livekit.agents.tts.fallback_adapter import AvailabilityChangedEvent

from ..errors import ConfigError
from .failover_health import FailoverPolicy, VoiceHealth
from .failover_single import ResumingStream
from .failover_stream import FailoverStream
from .phrases import Phrasing

__all__ = ["FailoverPolicy", "FailoverTTS"]

logger = logging.getLogger("halfcascade.speech.failover")


class FailoverTTS(lk_tts.TTS[Literal["tts_availability_changed"]]):
    """Voices in order of preference, each abandoned for the next when it fails or is late.

    Args:
        voices: livekit TTS instances (the first is the primary); each must stream or sit
            behind a ``StreamAdapter`` (``build_tts`` does this).
        policy: deadlines, probing and warming (:class:`FailoverPolicy`).
        phrasing: how replies are cut into phrases (each is one request).
        owned: which voices :meth:`aclose` closes (default: all); a voice the caller
            shares between sessions is left open (``Session`` owns only the voices it
            built from a voice config).

    Emits ``tts_availability_changed`` (livekit's ``AvailabilityChangedEvent``) when a voice
    goes down or comes back.
    """

    def __init__(
        self,
        voices: Sequence[lk_tts.TTS[Any]],
        *,
        policy: FailoverPolicy | None = None,
        phrasing: Phrasing | None = None,
        owned: Sequence[bool] | None = None,
    ) -> None:
        if not voices:
            raise ConfigError("FailoverTTS needs at least one voice")
        if owned is not None and len(owned) != len(voices):
            raise ConfigError("FailoverTTS(owned=...) needs one flag per voice")
        if len({v.num_channels for v in voices}) != 1:
            raise ConfigError("FailoverTTS voices must all have the same number of channels")
        super().__init__(
            capabilities=lk_tts.TTSCapabilities(streaming=True, aligned_transcript=False),
            sample_rate=max(v.sample_rate for v in voices),
            num_channels=voices[0].num_channels,
        )
        self.voices: tuple[lk_tts.TTS[Any], ...] = tuple(voices)
        flags = tuple(owned) if owned is not None else (True,) * len(voices)
        # (voice, owned) not yet released by aclose()
        self._open: list[tuple[lk_tts.TTS[Any], bool]] = list(zip(voices, flags, strict=True))
        self._tts_instances = list(voices)  # the FallbackAdapter shape the cache resolves
        self.policy = policy or FailoverPolicy()
        self.phrasing = phrasing or Phrasing()
        self.health = [VoiceHealth(self.policy) for _ in voices]
        self._rates: list[float | None] = [None for _ in voices]
        self._probes: dict[int, asyncio.Task[None]] = {}
        self._warm_task: asyncio.Task[None] | None = None
        self._closed = False
        self.failovers = 0
        """Phrases handed to another voice so far."""
        for voice in voices:
            voice.on("metrics_collected", self._forward_metrics)

    @property
    def model(self) -> str:
        """The model of the voice that serves next."""
        return self._next_instance().model

    @property
    def provider(self) -> str:
        """The provider of the voice that serves next."""
        return self._next_instance().provider

    def _next_instance(self) -> lk_tts.TTS[Any]:
        """The voice the next reply goes to (read by the phrase cache's ``serving_voice``)."""
        return self.voices[self.pick() or 0]

    def pick(
        self, *, prefer: int | None = None, exclude: frozenset[int] = frozenset()
    ) -> int | None:
        """The voice for the next phrase: ``prefer`` if it is up, else the first one up, else
        (every voice down) the first one not in ``exclude``; ``None`` when all are excluded."""
        if prefer is not None and prefer not in exclude and self.health[prefer].available:
            return prefer
        candidates = [i for i in range(len(self.voices)) if i not in exclude]
        for i in candidates:
            if self.health[i].available:
                return i
        return candidates[0] if candidates else None

    def stream(
        self, *, conn_options: APIConnectOptions = DEFAULT_API_CONNECT_OPTIONS
    ) -> lk_tts.SynthesizeStream:
        """A streamed reply that fails over phrase by phrase; with a single voice, one
        request resumed on a fresh one if it fails (:mod:`.failover_single`). Never retried
        as a whole: a retry would replay the words already spoken."""
        self._ensure_warm_loop()
        options = dataclasses.replace(conn_options, max_retry=0)
        if len(self.voices) == 1:
            return ResumingStream(tts=self, conn_options=options)
        return FailoverStream(tts=self, conn_options=options)

    def synthesize(
        self, text: str, *, conn_options: APIConnectOptions = DEFAULT_API_CONNECT_OPTIONS
    ) -> lk_tts.ChunkedStream:
        """One whole text, by the voice that serves next."""
        return self._next_instance().synthesize(text, conn_options=conn_options)

    def update_options(self, **options: Any) -> None:
        """The primary voice's ``update_options`` (``voice_id=``, ``model=``...): with a single
        voice, the session's TTS takes the options the voice itself takes."""
        update = getattr(self.voices[0], "update_options", None)
        if update is None:
            raise ConfigError(f"{type(self.voices[0]).__name__} has no options to update")
        update(**options)

    def prewarm(self) -> None:
        """Open every voice's connection now, and keep them warm."""
        for voice in self.voices:
            voice.prewarm()
        self._ensure_warm_loop()

    def seconds_per_char(self, index: int) -> float:
        """The measured speaking rate of voice ``index`` (a default until measured)."""
        return self._rates[index] or 0.06

    def phrase_done(self, index: int, text: str, seconds: float) -> None:
        """Note a phrase spoken in full (its speaking rate)."""
        if len(text) >= 8 and seconds > 0:
            rate = seconds / len(text)
            old = self._rates[index]
            self._rates[index] = rate if old is None else 0.8 * old + 0.2 * rate

    def voice_failed(self, index: int, why: str) -> None:
        """Mark voice ``index`` down for failing a phrase; probe it until it speaks again."""
        self.failovers += 1
        if self.health[index].mark_down():
            logger.warning(
                "voice failed, switching to the next voice",
                extra={"voice": self.voices[index].label, "reason": why},
            )
            self.emit(
                "tts_availability_changed",
                AvailabilityChangedEvent(tts=self.voices[index], available=False),
            )
        if not self._closed and index not in self._probes:
            self._probes[index] = asyncio.create_task(self._probe(index))

    async def _probe(self, index: int) -> None:
        from .failover_stream import _Attempt

        try:
            while not self._closed:
                await asyncio.sleep(self.policy.probe_interval)
                attempt = _Attempt(index=index, text=self.policy.probe_text)
                voice = self.voices[index]
                deadline = self.health[index].deadline
                attempt.task = asyncio.create_task(attempt.produce(voice, deadline + 1.0))
                try:
                    async with asyncio.timeout(deadline):
                        item = await attempt.frames.get()
                    spoke = isinstance(item, rtc.AudioFrame)
                except TimeoutError:
                    spoke = False
                finally:
                    await attempt.cancel()
                if spoke:
                    self.health[index].record_ttfb(time.perf_counter() - attempt.started_at)
                    if self.health[index].mark_up():
                        logger.info("voice recovered", extra={"voice": voice.label})
                        self.emit(
                            "tts_availability_changed",
                            AvailabilityChangedEvent(tts=voice, available=True),
                        )
                    return
        finally:
            self._probes.pop(index, None)

    def _ensure_warm_loop(self) -> None:
        interval = self.policy.keep_warm_interval
        if interval is None or self._closed or self._warm_task is not None:
            return
        with contextlib.suppress(RuntimeError):  # no running loop: warmed on the first reply
            self._warm_task = asyncio.get_running_loop().create_task(self._keep_warm(interval))

    async def _keep_warm(self, interval: float) -> None:
        while True:
            await asyncio.sleep(interval)
            for index, voice in enumerate(self.voices):
                if self.health[index].available:
                    voice.prewarm()

    def _forward_metrics(self, *args: Any, **kwargs: Any) -> None:
        self.emit("metrics_collected", *args, **kwargs)

    async def aclose(self) -> None:
        """Stop probing and warming; close the voices it owns (see ``owned``)."""
        self._closed = True  # no new probe or warm loop from here on
        tasks = [t for t in (self._warm_task, *self._probes.values()) if t is not None]
        await utils.aio.cancel_and_wait(*tasks)
        while self._open:  # one at a time: a close cut short is finished by the next
            voice, owned = self._open[0]
            voice.off("metrics_collected", self._forward_metrics)
            if owned:
                await voice.aclose()
            self._open.pop(0)
