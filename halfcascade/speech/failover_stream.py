"""One reply through a :class:`~halfcascade.speech.failover.FailoverTTS`: phrase by phrase.

The reply's text is cut into phrases (the first-phrase tokenizer); each phrase is its own
request to the serving voice, started as soon as it is complete (one phrase ahead), and its
audio is passed on in order. A phrase whose voice fails, or misses its first-audio
deadline, or stalls, is handed to the next voice *from the first word not yet heard*: word
timings (ElevenLabs alignment) say exactly which words were heard, else the voice's
measured speaking rate estimates it, rounding down so no word is lost. The reply's audio
therefore only ends after its text has, which is what livekit's transcript synchronizer
expects of a segment.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from livekit import rtc
from livekit.agents import APIConnectionError, APIConnectOptions, utils
from livekit.agents import tts as lk_tts
from livekit.agents.types import TimedString

from . import failover_lk as _lk
from .tokenizer import FirstPhraseTokenizer

if TYPE_CHECKING:
    from .failover import FailoverTTS

__all__ = ["FailoverStream"]

_END = object()
_LOOKAHEAD = 2  # phrases in flight: the one playing and the next
_DEFAULT_SECONDS_PER_CHAR = 0.06


class _VoiceFailed(Exception):
    def __init__(self, why: str) -> None:
        super().__init__(why)
        self.why = why


@dataclass(slots=True)
class _Attempt:
    """One phrase (or its unheard rest) on one voice."""

    index: int
    text: str
    started_at: float = field(default_factory=time.perf_counter)
    frames: asyncio.Queue[Any] = field(default_factory=asyncio.Queue)
    task: asyncio.Task[None] | None = None

    async def produce(self, voice: lk_tts.TTS[Any], limit: float) -> None:
        stream = voice.stream(conn_options=APIConnectOptions(max_retry=0, timeout=limit))
        try:
            stream.push_text(self.text)
            stream.end_input()
            async for ev in stream:
                self.frames.put_nowait(ev.frame)
            self.frames.put_nowait(_END)
        except Exception as exc:  # any provider failure: the reader hands the phrase on
            self.frames.put_nowait(exc)
        finally:
            await _lk.aclose_stream(stream)

    async def cancel(self) -> None:
        if self.task is not None:
            await utils.aio.cancel_and_wait(self.task)


class FailoverStream(lk_tts.SynthesizeStream):
    """A streamed reply that survives voice failures (see the module notes)."""

    def __init__(self, *, tts: FailoverTTS, conn_options: APIConnectOptions) -> None:
        super().__init__(tts=tts, conn_options=conn_options)
        self._failover = tts
        self._reply_voice: int | None = None
        self._resamplers: dict[int, rtc.AudioResampler] = {}
        self._standby: _Attempt | None = None  # a hedge for the phrase being waited on

    async def _metrics_monitor_task(self, event_aiter: Any) -> None:
        async for _ in event_aiter:  # each voice reports its own metrics
            pass

    async def _run(self, output_emitter: lk_tts.AudioEmitter) -> None:
        output_emitter.initialize(
            request_id=utils.shortuuid(),
            sample_rate=self._failover.sample_rate,
            num_channels=self._failover.num_channels,
            mime_type="audio/pcm",
            stream=True,
        )
        output_emitter.start_segment(segment_id=utils.shortuuid())
        attempts: asyncio.Queue[_Attempt | None] = asyncio.Queue()
        slots = asyncio.Semaphore(_LOOKAHEAD)
        starter = asyncio.create_task(self._start_phrases(attempts, slots))
        try:
            while (attempt := await attempts.get()) is not None:
                try:
                    await self._play(attempt, output_emitter)
                finally:
                    slots.release()
            await starter  # surface its errors
        except _AllVoicesFailed as exc:
            await self._drain_input(starter)
            raise APIConnectionError(f"every voice failed: {exc}") from None
        finally:
            await utils.aio.cancel_and_wait(starter)
            while not attempts.empty():
                if (left := attempts.get_nowait()) is not None:
                    await left.cancel()
        output_emitter.end_segment()

    async def _start_phrases(self, attempts: asyncio.Queue[_Attempt | None], slots: Any) -> None:
        splitter = FirstPhraseTokenizer(self._failover.phrasing).stream()

        async def feed() -> None:
            async for item in _lk.input_items(self):
                if _lk.is_flush(item):
                    splitter.flush()
                elif isinstance(item, str):
                    splitter.push_text(item)
            splitter.end_input()

        feeder = asyncio.create_task(feed())
        try:
            async for token in splitter:
                await slots.acquire()
                attempts.put_nowait(self._start(token.token))
            await feeder
        finally:
            await utils.aio.cancel_and_wait(feeder)
            await splitter.aclose()
            attempts.put_nowait(None)

    def _start(self, text: str, *, exclude: frozenset[int] = frozenset()) -> _Attempt:
        index = self._failover.pick(prefer=self._reply_voice, exclude=exclude)
        if index is None:
            raise _AllVoicesFailed(text)
        if self._reply_voice is None:
            self._reply_voice = index
        return self._launch(index, text)

    def _launch(self, index: int, text: str) -> _Attempt:
        attempt = _Attempt(index=index, text=text)
        voice = self._failover.voices[index]
        policy = self._failover.policy
        timeout = max(self._failover.health[index].deadline, policy.last_resort_timeout)
        attempt.task = asyncio.create_task(attempt.produce(voice, timeout))
        return attempt

    def _hedge_at(self, attempt: _Attempt, deadline: float) -> tuple[float, int] | None:
        """When to start the phrase on the next voice too, and which voice (see
        ``FailoverPolicy.hedge``); ``None``: no hedge for this phrase."""
        failover = self._failover
        if not failover.policy.hedge:
            return None
        nxt = failover.pick(exclude=frozenset({attempt.index}))
        if nxt is None or nxt == attempt.index or not failover.health[nxt].available:
            return None
        lead = failover.health[nxt].p50 or failover.policy.initial_deadline / 2
        p95 = failover.health[attempt.index].p95 or 0.0
        return max(attempt.started_at + p95, deadline - lead), nxt

    async def _drop_standby(self) -> None:
        standby, self._standby = self._standby, None
        if standby is not None:
            await standby.cancel()

    async def _play(self, attempt: _Attempt, emitter: lk_tts.AudioEmitter) -> None:
        voices = len(self._failover.voices)
        budget = voices + 1  # every voice once, then the first that is up once more
        tried: set[int] = set()
        try:
            for n in range(1, budget + 1):
                tried.add(attempt.index)
                heard = _Heard()
                try:
                    await self._forward(attempt, emitter, heard, last_resort=n >= voices)
                    return
                except _VoiceFailed as exc:
                    await attempt.cancel()
                    self._failover.voice_failed(attempt.index, exc.why)
                    rate = self._failover.seconds_per_char(attempt.index)
                    if not (rest := heard.rest_of(attempt.text, rate)) or n == budget:
                        if rest:
                            raise _AllVoicesFailed(rest) from None
                        return
                    self._reply_voice = None
                    standby, self._standby = self._standby, None
                    if standby is not None and standby.text == rest:  # hedged: already asked
                        self._reply_voice, attempt = standby.index, standby
                        continue
                    if standby is not None:
                        await standby.cancel()
                    exclude = frozenset(tried) if len(tried) < voices else frozenset()
                    attempt = self._start(rest, exclude=exclude)
        finally:
            await attempt.cancel()  # a barge-in cancels the reply mid-phrase
            await self._drop_standby()

    async def _forward(
        self, attempt: _Attempt, emitter: lk_tts.AudioEmitter, heard: _Heard, *, last_resort: bool
    ) -> None:
        health = self._failover.health[attempt.index]
        policy = self._failover.policy
        # with no other voice left to try, a slow voice is better than silence
        wait_first = policy.last_resort_timeout if last_resort else health.deadline
        deadline = attempt.started_at + wait_first
        hedge = None if last_resort else self._hedge_at(attempt, deadline)
        first = True
        while True:
            until = deadline if hedge is None else min(deadline, hedge[0])
            wait = until - time.perf_counter() if first else policy.stall_timeout
            try:
                async with asyncio.timeout(max(0.0, wait)):
                    item = await attempt.frames.get()
            except TimeoutError:
                if first and hedge is not None and time.perf_counter() < deadline:
                    self._standby = self._launch(hedge[1], attempt.text)
                    hedge = None
                    continue
                raise _VoiceFailed("no first audio in time" if first else "stalled") from None
            if item is _END:
                if first:
                    raise _VoiceFailed("no audio")
                self._failover.phrase_done(attempt.index, attempt.text, heard.seconds)
                return
            if isinstance(item, BaseException):
                raise _VoiceFailed(type(item).__name__)
            if first:
                first = False
                health.record_ttfb(time.perf_counter() - attempt.started_at)
                await self._drop_standby()  # the serving voice spoke in time
            heard.add(item)
            for frame in self._resampled(attempt.index, item):
                emitter.push_frame(frame)

    def _resampled(self, index: int, frame: rtc.AudioFrame) -> list[rtc.AudioFrame]:
        if frame.sample_rate == self._failover.sample_rate:
            return [frame]
        resampler = self._resamplers.get(index)
        if resampler is None:
            resampler = rtc.AudioResampler(
                input_rate=frame.sample_rate,
                output_rate=self._failover.sample_rate,
                num_channels=frame.num_channels,
            )
            self._resamplers[index] = resampler
        return list(resampler.push(frame))

    async def _drain_input(self, starter: asyncio.Task[None]) -> None:
        """Wait for the rest of the reply's text, so the audio ends after it (see notes)."""
        with contextlib.suppress(Exception):
            async for _ in _lk.input_items(self):
                pass


class _AllVoicesFailed(Exception):
    pass


@dataclass(slots=True)
class _Heard:
    """How much of a phrase's audio was passed on, and its word timings if any."""

    seconds: float = 0.0
    words: list[TimedString] = field(default_factory=list)

    def add(self, frame: rtc.AudioFrame) -> None:
        self.seconds += frame.duration
        timed = frame.userdata.get(_lk.TIMED_TRANSCRIPT)
        if timed:
            self.words.extend(timed if isinstance(timed, list) else [timed])

    def rest_of(self, text: str, seconds_per_char: float) -> str:
        """The words of ``text`` not yet heard in full."""
        words = text.split()
        if self.seconds <= 0:
            return text
        timed = [w for w in self.words if str(w).strip()]
        if timed:
            done = sum(1 for w in timed if _ends_by(w, self.seconds))
        else:  # no timings: estimate, rounding down (a word may repeat, none is lost)
            budget = self.seconds / max(seconds_per_char, 1e-3) * 0.85
            done, used = 0, 0
            for word in words:
                used += len(word) + 1
                if used > budget:
                    break
                done += 1
        return " ".join(words[min(done, len(words)) :])


def _ends_by(word: TimedString, seconds: float) -> bool:
    end = word.end_time
    return isinstance(end, int | float) and end <= seconds
