"""A streaming livekit STT for cascade benchmarks: real endpointing, scripted words.

It listens to the audio (the same energy VAD as the realtime stand-in), and a fixed
``final_delay`` after the user's real end of speech it emits the final transcript, taken
from a :class:`~halfcascade.testing.transcribe.Transcriber`. That delay is what cascade
users log as ``SPEECH_END_TO_STT_FINAL_MS`` (endpointing plus the provider's final), so
a profile can set it directly.
"""

from __future__ import annotations

import asyncio
import time
from typing import Any

import numpy as np
from livekit import rtc
from livekit.agents import APIConnectOptions, stt, utils
from livekit.agents.language import LanguageCode
from livekit.agents.types import DEFAULT_API_CONNECT_OPTIONS, NOT_GIVEN, NotGivenOr

from .transcribe import ScriptedTranscriber, Transcriber
from .vad import EnergyVad, SpeechStarted, SpeechStopped, VadConfig

__all__ = ["ScriptedSTT"]

_RATE = 24000


class ScriptedSTT(stt.STT[Any]):
    """Streaming STT whose final transcript lands ``final_delay`` after the end of speech."""

    def __init__(
        self,
        *,
        transcriber: Transcriber | None = None,
        final_delay: float = 1.2,
        vad: VadConfig | None = None,
    ) -> None:
        super().__init__(capabilities=stt.STTCapabilities(streaming=True, interim_results=False))
        self.transcriber = transcriber or ScriptedTranscriber()
        self.final_delay = final_delay
        self._vad = vad or VadConfig(silence_duration_ms=200)

    async def _recognize_impl(
        self,
        buffer: utils.AudioBuffer,
        *,
        language: NotGivenOr[str] = NOT_GIVEN,
        conn_options: APIConnectOptions,
    ) -> stt.SpeechEvent:
        frame = rtc.combine_audio_frames(buffer)
        pcm = np.frombuffer(frame.data, np.int16)
        text = await asyncio.to_thread(self.transcriber.transcribe, pcm, frame.sample_rate)
        return _final(text)

    def stream(
        self,
        *,
        language: NotGivenOr[str] = NOT_GIVEN,
        conn_options: APIConnectOptions = DEFAULT_API_CONNECT_OPTIONS,
    ) -> stt.RecognizeStream:
        """A recognition stream over the session's audio."""
        return _Stream(stt=self, conn_options=conn_options)


class _Stream(stt.RecognizeStream):
    def __init__(self, *, stt: ScriptedSTT, conn_options: APIConnectOptions) -> None:
        super().__init__(stt=stt, conn_options=conn_options, sample_rate=_RATE)
        self._stt: ScriptedSTT = stt

    async def _run(self) -> None:
        vad = EnergyVad(self._stt._vad, sample_rate=_RATE)
        heard: list[np.ndarray] = []
        last_voiced_at = 0.0
        pending: set[asyncio.Task[None]] = set()
        async for item in self._input_ch:
            if isinstance(item, self._FlushSentinel):
                continue
            pcm = np.frombuffer(item.data, np.int16)
            if vad.speaking:
                heard.append(pcm)
            if np.abs(pcm.astype(np.int32)).max(initial=0) > 300:
                last_voiced_at = time.perf_counter()
            for ev in vad.push(pcm):
                if isinstance(ev, SpeechStarted):
                    heard = [pcm]
                    self._event_ch.send_nowait(stt.SpeechEvent(stt.SpeechEventType.START_OF_SPEECH))
                elif isinstance(ev, SpeechStopped):
                    audio = np.concatenate(heard) if heard else np.zeros(0, np.int16)
                    task = asyncio.create_task(self._finalise(audio, last_voiced_at))
                    pending.add(task)
                    task.add_done_callback(pending.discard)
        for task in pending:
            task.cancel()

    async def _finalise(self, audio: np.ndarray, speech_end: float) -> None:
        text = await asyncio.to_thread(self._stt.transcriber.transcribe, audio, _RATE)
        await asyncio.sleep(max(0.0, speech_end + self._stt.final_delay - time.perf_counter()))
        self._event_ch.send_nowait(_final(text))
        self._event_ch.send_nowait(stt.SpeechEvent(stt.SpeechEventType.END_OF_SPEECH))


def _final(text: str) -> stt.SpeechEvent:
    return stt.SpeechEvent(
        type=stt.SpeechEventType.FINAL_TRANSCRIPT,
        alternatives=[stt.SpeechData(language=LanguageCode("en"), text=text, confidence=1.0)],
    )
