"""One model turn: hear the user (offline recognition), decide the reply, stream it.

A turn the server VAD ended starts by transcribing the user's audio (sent as
``inputTranscription`` when the session asked for it), then asks the reply callable, waits
out the ``ttft`` and streams ``modelTurn`` text parts (or, in an AUDIO session, ``inlineData``
audio with its ``outputTranscription``) one token per ``token_interval``, then
``generationComplete`` and ``turnComplete`` with ``usageMetadata``. A :class:`ToolCall`
reply sends ``toolCall`` instead and leaves the turn open until the ``toolResponse``.
An interruption (user speech, or client content) sends ``interrupted`` then
``turnComplete``; only what was sent stays in the conversation, as the service documents.
"""

from __future__ import annotations

import asyncio
import base64
import json
import logging
import time
from collections.abc import Awaitable, Callable
from typing import Any, Literal, Protocol

import numpy as np
import numpy.typing as npt

from ..openai_realtime._output import sleep_until
from ..openai_realtime._response import call_reply
from ..openai_realtime._types import (
    Reply,
    ReplyContext,
    ReplyFn,
    ToolCall,
    TurnRecord,
    TurnSource,
    split_tokens,
)
from ..transcribe import Transcriber
from ._wire import INTERNAL, ClientClose, content, new_id, usage_metadata

__all__ = ["Generation", "GenerationHost", "Item"]

logger = logging.getLogger("halfcascade.testing.gemini_live")

INPUT_RATE = 16000
OUTPUT_RATE = 24000
_AUDIO_TOKENS_PER_SECOND = 25  # the Live API counts 25 tokens per second of audio

Item = dict[str, Any]
"""A conversation item in the shared simple form (``type``, ``role``/``text``...)."""
Status = Literal["completed", "cancelled", "failed", "incomplete"]


class GenerationHost(Protocol):
    """What a turn needs from its connection."""

    items: list[Item]
    modality: Literal["text", "audio"]
    transcribe_input: bool
    transcribe_output: bool
    pending_calls: dict[str, ToolCall]

    async def send(self, message: dict[str, Any]) -> None: ...

    def reply_context(self, *, source: TurnSource, tool_output: str | None) -> ReplyContext: ...

    def next_failure(self) -> ClientClose | None: ...

    def turn_finished(self, generation: Generation, record: TurnRecord) -> None: ...

    async def resumption_point(self) -> None: ...

    async def close_with(self, close: ClientClose) -> None: ...


class Generation:
    """A model turn in flight; :meth:`start` runs it, :meth:`interrupt` cuts it."""

    def __init__(
        self,
        host: GenerationHost,
        *,
        reply_fn: ReplyFn,
        transcriber: Transcriber,
        synthesize: Callable[[str], Awaitable[npt.NDArray[np.int16]]],
        token_interval: float,
        source: TurnSource,
        not_before: float,
        user_audio: npt.NDArray[np.int16] | None = None,
        tool_output: str | None = None,
        speech_end_at: float | None = None,
        speech_stopped_at: float | None = None,
        requested_at: float | None = None,
    ) -> None:
        self.id = new_id("turn")
        self._host = host
        self._reply_fn = reply_fn
        self._transcriber = transcriber
        self._synthesize = synthesize
        self._interval = token_interval
        self._source: TurnSource = source
        self._not_before = not_before
        self._user_audio = user_audio
        self._tool_output = tool_output
        self._times = (speech_end_at, speech_stopped_at, requested_at)
        self._task: asyncio.Task[None] | None = None
        self._transcript = ""
        self._reply: Reply = ""
        self._sent: list[str] = []
        self._samples = 0
        self._prompt_tokens = 0
        self._first_at: float | None = None
        self._created_at = time.perf_counter()
        self._finished = False

    def start(self) -> None:
        """Run the turn in its own task."""
        self._task = asyncio.create_task(self._run(), name=f"gemini-live-{self.id}")

    @property
    def done(self) -> bool:
        """Whether the turn has finished (completed, interrupted or failed)."""
        return self._finished

    async def interrupt(self) -> bool:
        """Stop generating: ``interrupted`` then ``turnComplete``; ``False`` if already over."""
        task = self._task
        if self._finished or task is None or not task.cancel():
            return False
        await asyncio.wait([task])
        if self._finished:
            return False
        await self._host.send(content(interrupted=True))
        self._keep_spoken()
        await self._complete("cancelled")
        return True

    async def aclose(self) -> None:
        """Stop silently (the connection is gone)."""
        self._finished = True
        task = self._task
        if task is not None and task is not asyncio.current_task() and task.cancel():
            await asyncio.wait([task])

    async def _run(self) -> None:
        try:
            await self._generate()
        except ClientClose as close:  # an injected failure
            self._finished = True
            await self._host.close_with(close)
        except Exception:  # the reply callable's, the voice's, or a bug: the service's 1011
            logger.exception("gemini live turn failed", extra={"turn": self.id})
            self._finished = True
            await self._host.close_with(ClientClose(1011, INTERNAL))

    async def _generate(self) -> None:
        host = self._host
        if self._user_audio is not None:
            await self._hear(self._user_audio)
        failure = host.next_failure()
        if failure is not None:
            self._finished = True
            raise failure
        ctx = host.reply_context(source=self._source, tool_output=self._tool_output)
        self._transcript = ctx.transcript
        self._prompt_tokens = sum(len(split_tokens(str(i.get("text") or ""))) for i in ctx.items)
        self._reply = await call_reply(self._reply_fn, ctx)
        pcm = None
        if isinstance(self._reply, str) and host.modality == "audio":
            pcm = await self._synthesize(self._reply)  # before the ttft: it is the model's time
        await sleep_until(self._not_before)
        if isinstance(self._reply, ToolCall):
            await self._call(self._reply)
            return
        await self._stream(self._reply, pcm)
        await host.send(content(generationComplete=True))
        self._keep_spoken()
        await self._complete("completed")
        await host.resumption_point()

    async def _hear(self, pcm: npt.NDArray[np.int16]) -> None:
        try:
            text = await asyncio.to_thread(self._transcriber.transcribe, pcm, INPUT_RATE)
        except Exception:
            logger.exception("gemini live transcriber failed")
            text = ""
        host = self._host
        if text and host.transcribe_input:
            # the service's transcripts start with a space, chunk after chunk
            await host.send(content(inputTranscription={"text": " " + text}))
        host.items.append({"id": new_id("item"), "type": "message", "role": "user", "text": text})

    async def _call(self, call: ToolCall) -> None:
        call_id = call.call_id or new_id("function-call")
        args = dict(call.arguments)
        self._first_at = time.perf_counter()
        message = {"functionCalls": [{"id": call_id, "name": call.name, "args": args}]}
        await self._host.send({"toolCall": message})
        self._host.pending_calls[call_id] = call
        self._host.items.append(
            {
                "id": new_id("item"),
                "type": "function_call",
                "call_id": call_id,
                "name": call.name,
                "arguments": json.dumps(args),
            }
        )
        # the turn goes on once the client answers with toolResponse
        self._finish("completed")

    async def _stream(self, reply: str, pcm: npt.NDArray[np.int16] | None) -> None:
        tokens = split_tokens(reply)
        shares = _audio_shares(pcm, tokens) if pcm is not None else []
        for i, token in enumerate(tokens):
            if i:
                await asyncio.sleep(self._interval)
            if self._first_at is None:
                self._first_at = time.perf_counter()
            if pcm is None:
                await self._host.send(content(modelTurn={"parts": [{"text": token}]}))
            else:
                chunk = shares[i]
                self._samples += len(chunk)
                data = base64.b64encode(chunk.astype("<i2").tobytes()).decode()
                part = {"inlineData": {"mimeType": f"audio/pcm;rate={OUTPUT_RATE}", "data": data}}
                await self._host.send(content(modelTurn={"parts": [part]}))
                if self._host.transcribe_output:
                    await self._host.send(content(outputTranscription={"text": token}))
            self._sent.append(token)

    def _keep_spoken(self) -> None:
        """What was sent stays in the conversation; the rest never happened."""
        if self._sent:
            text = "".join(self._sent)
            item = {"id": new_id("item"), "type": "message", "role": "assistant", "text": text}
            self._host.items.append(item)

    async def _complete(self, status: Status) -> None:
        text_tokens = 0 if self._host.modality == "audio" else len(self._sent)
        audio_tokens = round(self._samples / OUTPUT_RATE * _AUDIO_TOKENS_PER_SECOND)
        input_audio = 0
        if self._user_audio is not None:
            input_audio = round(len(self._user_audio) / INPUT_RATE * _AUDIO_TOKENS_PER_SECOND)
        usage = usage_metadata(
            {"TEXT": self._prompt_tokens, "AUDIO": input_audio},
            {"TEXT": text_tokens, "AUDIO": audio_tokens},
        )
        await self._host.send({"serverContent": {"turnComplete": True}, "usageMetadata": usage})
        self._finish(status)

    def _finish(self, status: Status) -> None:
        self._finished = True
        speech_end_at, speech_stopped_at, requested_at = self._times
        reply = self._reply
        record = TurnRecord(
            response_id=self.id,
            source=self._source,
            status=status,
            transcript=self._transcript,
            reply=reply if isinstance(reply, str) else "",
            text="".join(self._sent),
            tool_call=reply if isinstance(reply, ToolCall) else None,
            speech_end_at=speech_end_at,
            speech_stopped_at=speech_stopped_at,
            requested_at=requested_at,
            response_created_at=self._created_at,
            first_delta_at=self._first_at,
            done_at=time.perf_counter(),
            modality=self._host.modality,
            audio_samples=self._samples,
        )
        self._host.turn_finished(self, record)


def _audio_shares(pcm: npt.NDArray[np.int16], tokens: list[str]) -> list[npt.NDArray[np.int16]]:
    """The reply's audio cut in one piece per token, by characters."""
    total = max(1, sum(len(t) for t in tokens))
    cuts = np.cumsum([len(t) for t in tokens]) * len(pcm) // total
    return [pcm[a:b] for a, b in zip([0, *cuts[:-1]], cuts, strict=True)]
