"""The phrase cache in the Agent's ``tts_node``: cached opener first, live TTS for the rest.

livekit synthesises a reply by iterating ``Agent.tts_node(text)`` and sending every frame it
yields through the session's audio output (room track, avatar, transcript synchronizer),
while the same text reaches ``transcription_node`` through a separate copy. So the seam is
the node: :class:`OpenerSpeech` reads the reply's first words until
:class:`~halfcascade.speech.openers.OpenerMatcher` decides, then

- **hit**: yields the cached opener's frames at once (the same output path as synthesised
  audio: lip sync, barge-in and captions see no difference), then streams the *rest* of
  the text through livekit's own TTS node, started as soon as the rest has a word, so its
  first byte overlaps the opener playing. The opener is never sent to the TTS. A reply that
  is only the opener opens no TTS stream at all.
- **miss**: hands everything read so far, then the rest of the stream, to livekit's TTS
  node unchanged: no extra request, and the text was held only while it could still be an
  opener (the first phrase leaves no later than it would have).

Transcripts are untouched (they come from the other copy of the text); when the TTS sends
word timings, the opener gets one timed entry and the live timings are shifted by its
duration. The voice is looked up on every reply, so a voice change or a fallback voice
taking over finds its own phrases (warmed in the background on first sight), never the
previous voice's.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import AsyncGenerator, AsyncIterable, AsyncIterator, Sequence
from typing import Any

from livekit import rtc
from livekit.agents import Agent as LkAgent
from livekit.agents import ModelSettings
from livekit.agents import tts as lk_tts
from livekit.agents.types import USERDATA_TIMED_TRANSCRIPT, TimedString
from livekit.agents.utils import is_given

from ...latency import probe
from ..openers import OpenerDecision, OpenerMatcher, normalize_phrase
from ..phrases import PhraseChunker
from .cache import PhraseCache
from .key import VoiceKey, voice_key

__all__ = ["OpenerSpeech", "agent_tts"]

logger = logging.getLogger("halfcascade.speech.cache")

_LEADING = frozenset(" \t\n,.!?;:\u2026\u2014\u2013\"')]}\u201d\u2019\u00bb")


class OpenerSpeech:
    """Serves an agent's cached openers from its ``tts_node`` (see the module notes).

    Args:
        cache: the worker's phrase cache.
        openers: the companion's openers (the ones it is asked to open with).
    """

    def __init__(self, cache: PhraseCache, openers: Sequence[str]) -> None:
        self.cache = cache
        self.openers = tuple(openers)
        self._normalized = {normalize_phrase(o) for o in self.openers} - {""}
        self._warmed: set[VoiceKey] = set()
        self._tasks: set[asyncio.Task[None]] = set()

    def start(self, tts: lk_tts.TTS[Any]) -> None:
        """Warm the openers for ``tts``'s current voice in the background."""
        self._warm_once(tts, voice_key(tts))

    async def wait_warm(self) -> None:
        """Wait for the warm-ups started so far."""
        if self._tasks:
            await asyncio.gather(*self._tasks, return_exceptions=True)

    async def aclose(self) -> None:
        """Cancel warm-ups still running."""
        tasks = list(self._tasks)
        for task in tasks:
            task.cancel()
        for task in tasks:
            with contextlib.suppress(asyncio.CancelledError):
                await task

    def _warm_once(self, tts: lk_tts.TTS[Any], key: VoiceKey) -> None:
        if key in self._warmed or not self.openers:
            return
        self._warmed.add(key)
        task = asyncio.create_task(self._warm(tts), name="halfcascade.phrase-cache.warm")
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _warm(self, tts: lk_tts.TTS[Any]) -> None:
        try:
            await self.cache.warm(tts, self.openers)
        except Exception:  # never let a warm-up failure reach the session
            logger.exception("phrase cache warm-up failed; openers are spoken live")

    async def speak(
        self, agent: LkAgent, text: AsyncIterable[str], model_settings: ModelSettings
    ) -> AsyncGenerator[rtc.AudioFrame, None]:
        """The node's audio: a cached opener when the reply starts with one, then live TTS."""
        tts = agent_tts(agent)
        if tts is None:  # livekit's node raises the right error
            async for frame in LkAgent.default.tts_node(agent, text, model_settings):
                yield frame
            return
        key = voice_key(tts)
        self._warm_once(tts, key)  # a new voice: its phrases are made for the next replies
        table = self.cache.phrases(key)
        ready = [n for n in self._normalized if n in table]
        stream = aiter(text)
        decision, held = await _decide(OpenerMatcher(ready), stream)
        if decision.outcome == "miss":
            probe.cache("miss")
            live = LkAgent.default.tts_node(agent, _prepend(held, stream), model_settings)
            async with contextlib.aclosing(live):
                async for frame in live:
                    yield frame
            return
        phrase = table[decision.opener]
        probe.mark("first_tts_text")
        probe.cache("hit")
        frames = phrase.frames(sample_rate=tts.sample_rate, num_channels=tts.num_channels)
        frames[0].userdata[USERDATA_TIMED_TRANSCRIPT] = [
            TimedString(held[: decision.end], start_time=0.0, end_time=phrase.duration)
        ]
        for frame in frames:
            yield frame
        rest = _live_rest(agent, held[decision.end :], stream, model_settings, phrase.duration)
        async with contextlib.aclosing(rest):
            async for frame in rest:
                yield frame


async def _decide(matcher: OpenerMatcher, stream: AsyncIterator[str]) -> tuple[OpenerDecision, str]:
    """Read the stream until the matcher decides; returns the decision and the text read."""
    if (decision := matcher.push("")) is not None:
        return decision, ""
    async for delta in stream:
        if (decision := matcher.push(delta)) is not None:
            return decision, matcher.text
    return matcher.end(), matcher.text


async def _live_rest(
    agent: LkAgent,
    rest: str,
    stream: AsyncIterator[str],
    model_settings: ModelSettings,
    offset: float,
) -> AsyncGenerator[rtc.AudioFrame, None]:
    """The rest of a reply through livekit's TTS node, once it has a word to say."""
    words = _rest_text(rest, stream)
    first = await anext(words, None)
    if first is None:
        probe.cache("hit", saved=None)  # only the opener: nothing else to synthesise
        return
    timing = _FirstPhraseClock()
    live = LkAgent.default.tts_node(agent, timing.watch(_prepend(first, words)), model_settings)
    measured = False
    async with contextlib.aclosing(live):
        async for frame in live:
            if not measured and (cut := timing.cut_at) is not None:
                measured = True
                probe.cache("hit", saved=max(0.0, time.time() - cut))
            _shift_timings(frame, offset)
            yield frame


async def _rest_text(rest: str, stream: AsyncIterator[str]) -> AsyncGenerator[str, None]:
    """The text after the opener, without the opener's trailing marks and spaces."""
    pending = rest
    started = False
    while True:
        if not started:
            pending = pending.lstrip("".join(_LEADING))
            started = bool(pending)
        if pending:
            yield pending
        nxt = await anext(stream, None)
        if nxt is None:
            return
        pending = nxt


async def _prepend(head: str, stream: AsyncIterator[str]) -> AsyncGenerator[str, None]:
    if head:
        yield head
    async for delta in stream:
        yield delta


class _FirstPhraseClock:
    """Notes when the rest's first phrase is complete (when the live TTS can start on it)."""

    def __init__(self) -> None:
        self._chunker = PhraseChunker()
        self.cut_at: float | None = None

    async def watch(self, text: AsyncIterable[str]) -> AsyncGenerator[str, None]:
        async for delta in text:
            if self.cut_at is None and self._chunker.push(delta):
                self.cut_at = time.time()
            yield delta
        if self.cut_at is None:
            self.cut_at = time.time()  # the end of the text releases it


def _shift_timings(frame: rtc.AudioFrame, offset: float) -> None:
    timed = frame.userdata.get(USERDATA_TIMED_TRANSCRIPT)
    if not timed:
        return
    shifted = []
    for t in timed:
        if isinstance(t, TimedString) and is_given(t.start_time) and is_given(t.end_time):
            t = TimedString(
                str(t),
                start_time=t.start_time + offset,
                end_time=t.end_time + offset,
                confidence=t.confidence,
                start_time_offset=t.start_time_offset,
                speaker_id=t.speaker_id,
            )
        shifted.append(t)
    frame.userdata[USERDATA_TIMED_TRANSCRIPT] = shifted


def agent_tts(agent: LkAgent) -> lk_tts.TTS[Any] | None:
    """The TTS the agent's activity speaks with (the agent's own, else the session's)."""
    own = agent.tts
    if is_given(own):
        return own
    return agent.session.tts
