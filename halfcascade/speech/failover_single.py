"""One reply through a :class:`~halfcascade.speech.failover.FailoverTTS` with a single voice.

The whole reply is one request of the voice (one ElevenLabs context: its prosody runs
across phrases, as on livekit's own path), its text passed on as the model writes it. When
the request fails after partial audio (a socket dropped mid-reply), livekit's own path ends
the reply's audio at once and drops the rest, while the model is still writing its text: the
transcript synchronizer then warns ``playback_finished called before text/audio input is
done``. Here the unheard rest (from the first word not heard in full, see
:mod:`.failover_stream`) and every later word go to a fresh request of the same voice, and the
audio never ends before the text: when the retries are used up too, the stream waits for the
end of the text before it fails.
"""

from __future__ import annotations

import asyncio
import contextlib
from typing import TYPE_CHECKING, Any

from livekit.agents import APIConnectionError, APIConnectOptions, utils
from livekit.agents import tts as lk_tts

from . import failover_lk as _lk
from .failover_stream import _Heard

if TYPE_CHECKING:
    from .failover import FailoverTTS

__all__ = ["ResumingStream"]

#: Fresh requests for the rest of one reply after its request failed.
RESUMES = 2


class ResumingStream(lk_tts.SynthesizeStream):
    """A streamed reply on one voice, resumed on a fresh request when it fails mid-way."""

    def __init__(self, *, tts: FailoverTTS, conn_options: APIConnectOptions) -> None:
        super().__init__(tts=tts, conn_options=conn_options)
        self._failover = tts
        self._voice = tts.voices[0]
        self._inner: lk_tts.SynthesizeStream | None = None
        self._sent: list[str] = []  # the text given to the current request
        self._ended = False

    async def _metrics_monitor_task(self, event_aiter: Any) -> None:
        async for _ in event_aiter:  # the voice reports its own metrics
            pass

    def _open(self, text: str) -> lk_tts.SynthesizeStream:
        timeout = self._failover.policy.last_resort_timeout  # no other voice: wait
        inner = self._voice.stream(conn_options=APIConnectOptions(max_retry=0, timeout=timeout))
        self._inner, self._sent = inner, []
        if text:
            self._sent.append(text)
            inner.push_text(text)
        if self._ended:
            inner.end_input()
        return inner

    async def _feed(self) -> None:
        async for item in _lk.input_items(self):
            inner = self._inner
            assert inner is not None
            # a failed request refuses input (RuntimeError): it is resumed soon, with this
            with contextlib.suppress(RuntimeError):
                if _lk.is_flush(item):
                    inner.flush()
                elif isinstance(item, str):
                    self._sent.append(item)  # before the push: a resume re-sends it
                    inner.push_text(item)
        self._ended = True
        with contextlib.suppress(RuntimeError):
            if self._inner is not None:
                self._inner.end_input()

    async def _run(self, output_emitter: lk_tts.AudioEmitter) -> None:
        output_emitter.initialize(
            request_id=utils.shortuuid(),
            sample_rate=self._failover.sample_rate,
            num_channels=self._failover.num_channels,
            mime_type="audio/pcm",
            stream=True,
        )
        output_emitter.start_segment(segment_id=utils.shortuuid())
        inner = self._open("")
        feeder = asyncio.create_task(self._feed())
        spoken, heard = 0.0, _Heard()
        try:
            for resumes in range(RESUMES + 1):
                spoken += heard.seconds if resumes else 0.0
                heard = _Heard()
                try:
                    async for ev in inner:
                        heard.add(ev.frame)
                        output_emitter.push_frame(ev.frame)
                    text = "".join(self._sent)
                    if not heard.seconds and not spoken and text.strip():
                        # only a request cancelled underneath ends with text and no audio
                        # (else the plugin raises): end as cancelled too, as livekit's own
                        # path does, not with livekit's "no audio frames" error
                        raise asyncio.CancelledError
                    self._failover.phrase_done(0, text, heard.seconds)
                    break
                except Exception as exc:  # any provider failure: resume the rest
                    rest = heard.rest_of("".join(self._sent), self._failover.seconds_per_char(0))
                    self._failover.failovers += 1
                    await _lk.aclose_stream(inner)
                    if not rest.strip() and self._ended:
                        break  # every word was heard
                    if resumes == RESUMES:
                        await feeder  # the audio ends after the text (see the notes)
                        raise APIConnectionError(
                            f"the voice failed: {type(exc).__name__}"
                        ) from None
                    inner = self._open(rest)
            await feeder
        finally:
            await utils.aio.cancel_and_wait(feeder)
            if self._inner is not None:
                await _lk.aclose_stream(self._inner)
        output_emitter.end_segment()
