"""livekit's Gemini ``RealtimeModel``, adapted to a half-cascade (the one place that touches
the Google plugin's internals).

What livekit-plugins-google 1.8.9 does that a half-cascade cannot live with, and the fix:

- **A failed first connection is fatal.** ``_main_task`` retries only once a session was
  open (``if not session ... recoverable=False``): a refused or reset handshake at start
  (a restarting proxy, a 503) closes the whole ``AgentSession``. The client's ``connect``
  is wrapped here to retry transient handshake failures (network errors, HTTP 429/5xx,
  close codes 1006/1011/1013) with livekit's own back-off before the plugin sees them.
  Refusals (1007 bad argument, 1008 policy) are not retried.
- **The native-audio refusal reads as "context exhausted".** The plugin treats every 1007
  as an exhausted context; a refusal of TEXT output ("Cannot extract voices from a
  non-audio request.") is raised as :class:`~halfcascade.errors.UnsupportedModelError`
  naming the model and the fix, whatever the model name (a user-built instance too).
- **The user "speaks" until the reply ends.** Gemini sends no end-of-speech event: the
  plugin emits ``input_speech_started`` when a server-initiated reply begins and
  ``input_speech_stopped`` when it is complete, so the user's turn would end after the
  agent's. Here the turn ends as the reply begins, stamped with when the last voiced input
  audio was sent (the user's real end of speech), for :class:`~halfcascade.LatencyTracker`.
- **The end of speech reaches the service late.** User audio leaves in 50 ms chunks, after
  a resampler that holds samples back (see :mod:`.google_resample`): the last words arrive
  40 ms or more after they were spoken. ``input_chunk_ms`` (20 by default, one WebRTC
  packet) and a low-delay resampler to 16 kHz bring that to a few milliseconds.
- ``on_ready`` reports each established connection (``setupComplete``), for start-up
  timing.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import sys
import time
from collections import deque
from collections.abc import AsyncIterator, Callable
from typing import Any

import numpy as np
from livekit import rtc
from livekit.agents import DEFAULT_API_CONNECT_OPTIONS, llm
from livekit.agents.utils import audio as audio_utils
from livekit.plugins.google import realtime
from livekit.plugins.google.realtime.realtime_api import RealtimeSession

from ..errors import UnsupportedModelError
from .google_resample import LowDelayResampler

__all__ = ["GeminiTextModel", "is_transient"]

logger = logging.getLogger("halfcascade.brain")

_INPUT_RATE = 16000  # what the Live API takes (the plugin resamples to it)
_RETRY_CLOSE_CODES = frozenset({1001, 1006, 1011, 1012, 1013, 1014})
_NO_VOICES = "Cannot extract voices from a non-audio request"


def is_transient(exc: BaseException) -> bool:
    """Whether a failed Live API handshake is worth retrying."""
    from google.genai import errors
    from websockets.exceptions import InvalidStatus

    if isinstance(exc, errors.APIError):
        return exc.code in _RETRY_CLOSE_CODES or exc.code == 429 or 500 <= exc.code < 600
    if isinstance(exc, InvalidStatus):
        status = exc.response.status_code
        return status == 429 or status >= 500
    return isinstance(exc, OSError | TimeoutError)


class GeminiTextModel(realtime.RealtimeModel):
    """The Google ``RealtimeModel`` with retried connects, a clear TEXT refusal and the
    user's end of speech (see the module docstring).

    Args:
        connect_retries: extra attempts for a transient handshake failure.
        input_chunk_ms: user audio sent per message (the plugin's own is 50 ms).
        **kwargs: ``livekit.plugins.google.realtime.RealtimeModel`` arguments.
    """

    def __init__(
        self, *, connect_retries: int = 3, input_chunk_ms: int = 20, **kwargs: Any
    ) -> None:
        super().__init__(**kwargs)
        self._connect_retries = connect_retries
        self._input_samples = _INPUT_RATE * input_chunk_ms // 1000
        self._ready_callbacks: list[Callable[[float], None]] = []
        self._speech_end_callbacks: list[Callable[[float], None]] = []

    def on_ready(self, callback: Callable[[float], None]) -> None:
        """Call ``callback(time.time())`` whenever a connection is established."""
        self._ready_callbacks.append(callback)

    def on_speech_end(self, callback: Callable[[float], None]) -> None:
        """Call ``callback(at)`` when a server-VAD reply begins, ``at`` being when the last
        voiced audio before it was sent (the user's end of speech)."""
        self._speech_end_callbacks.append(callback)

    def session(self, *, turn_detection_disabled: bool = False) -> RealtimeSession:
        """A plugin session with the half-cascade adaptations."""
        sess = _GeminiSession(self)
        self._sessions.add(sess)
        return sess

    def _connected(self) -> None:
        now = time.time()
        for callback in self._ready_callbacks:
            callback(now)

    def _speech_ended(self, at: float) -> None:
        for callback in self._speech_end_callbacks:
            callback(at)


class _GeminiSession(RealtimeSession):
    def __init__(self, model: GeminiTextModel) -> None:
        super().__init__(model)
        self._model = model
        self._user_speaking = False
        self._clock = _VoicedClock()
        self._resampler: LowDelayResampler | None = None
        # the plugin buffers input audio into 50 ms messages in this byte stream
        self._bstream = audio_utils.AudioByteStream(
            _INPUT_RATE, 1, samples_per_channel=model._input_samples
        )
        client: Any = self._client
        self._client = _ClientView(client, _RetryingLive(client.aio.live, model))  # type: ignore[assignment]

    def push_audio(self, frame: rtc.AudioFrame) -> None:
        self._clock.sent(frame)
        if frame.num_channels == 1 and frame.sample_rate != _INPUT_RATE:
            resampler = self._resampler
            if resampler is None or resampler.src != frame.sample_rate:
                resampler = self._resampler = _resampler_for(frame.sample_rate)
            if resampler is not None:
                pcm = resampler.push(np.frombuffer(frame.data, dtype=np.int16))
                frame = rtc.AudioFrame(pcm.tobytes(), _INPUT_RATE, 1, len(pcm))
        super().push_audio(frame)

    def emit(self, event: Any, *args: Any) -> None:
        if event == "input_speech_started":
            self._user_speaking = True
        elif event == "input_speech_stopped":
            if not self._user_speaking:
                return  # the plugin's, at the end of a reply: the turn ended when it began
            self._user_speaking = False
        elif event == "generation_created" and args and not args[0].user_initiated:
            at = self._clock.last_voiced()
            self._model._speech_ended(at if at is not None else time.time())
            if self._user_speaking:
                self._user_speaking = False
                stopped = llm.InputSpeechStoppedEvent(user_transcription_enabled=False)
                super().emit("input_speech_stopped", stopped)
        super().emit(event, *args)


def _resampler_for(rate: int) -> LowDelayResampler | None:
    """A low-delay resampler to 16 kHz, or ``None`` to leave it to the plugin's."""
    if not LowDelayResampler.supports(rate, _INPUT_RATE):
        return None
    return LowDelayResampler(rate, _INPUT_RATE)


class _ClientView:
    """The plugin's ``genai.Client`` with ``aio.live`` swapped for the retrying one."""

    def __init__(self, client: Any, live: _RetryingLive) -> None:
        self._client = client
        self.aio = _AioView(client.aio, live)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._client, name)


class _AioView:
    def __init__(self, aio: Any, live: _RetryingLive) -> None:
        self._aio = aio
        self.live = live

    def __getattr__(self, name: str) -> Any:
        return getattr(self._aio, name)


class _RetryingLive:
    """``client.aio.live`` whose ``connect`` retries transient handshake failures."""

    def __init__(self, live: Any, model: GeminiTextModel) -> None:
        self._live = live
        self._model = model

    @contextlib.asynccontextmanager
    async def connect(self, *, model: str, config: Any = None) -> AsyncIterator[Any]:
        options = DEFAULT_API_CONNECT_OPTIONS
        attempt = 0
        while True:
            manager = self._live.connect(model=model, config=config)
            try:
                session = await manager.__aenter__()
                break
            except Exception as exc:
                if _NO_VOICES in str(exc):
                    raise UnsupportedModelError(
                        f"Gemini refused TEXT output from {model!r} (1007 '{_NO_VOICES}'): it "
                        "is a native-audio model; use a text-output Live model such as "
                        "'gemini-live-2.5-flash-preview', or OpenAIBrain()"
                    ) from exc
                if not is_transient(exc) or attempt >= self._model._connect_retries:
                    raise
                delay = options._interval_for_retry(attempt)
                logger.warning(
                    "Gemini Live connection failed, retrying",
                    extra={"attempt": attempt + 1, "delay": delay, "error": type(exc).__name__},
                )
                attempt += 1
                await asyncio.sleep(delay)
        self._model._connected()
        try:
            yield session
        except BaseException:
            if not await manager.__aexit__(*sys.exc_info()):
                raise
        else:
            await manager.__aexit__(None, None, None)


class _VoicedClock:
    """When each input frame was sent and how loud it was: the last voiced one is the
    user's end of speech (the same rule as the OpenAI brain's input clock)."""

    _VOICED_BELOW_PEAK_DB = 25.0
    _QUIET_DB = -55.0  # a peak below this is no speech at all
    _LOOKBACK = 10.0

    def __init__(self) -> None:
        self._sent: deque[tuple[float, float]] = deque(maxlen=3000)

    def sent(self, frame: rtc.AudioFrame) -> None:
        pcm = np.frombuffer(frame.data, dtype=np.int16)
        rms = float(np.sqrt(np.mean(pcm.astype(np.float64) ** 2))) if len(pcm) else 0.0
        self._sent.append((time.time(), 20.0 * float(np.log10(max(rms, 1.0) / 32768.0))))

    def last_voiced(self) -> float | None:
        """When the last voiced frame of the last ``_LOOKBACK`` seconds was sent."""
        since = time.time() - self._LOOKBACK
        window = [(at, db) for at, db in self._sent if at >= since]
        if not window:
            return None
        peak = max(db for _, db in window)
        if peak < self._QUIET_DB:
            return None
        floor = peak - self._VOICED_BELOW_PEAK_DB
        return next(at for at, db in reversed(window) if db >= floor)
