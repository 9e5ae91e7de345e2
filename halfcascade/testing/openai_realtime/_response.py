"""One server response: decide the reply, wait out the ttft, stream it, or cancel it.

``response.created`` → the output item (:mod:`._output`) → ``response.done`` →
``rate_limits.updated``. The item is a text message, an audio message (the reply spoken
by the server's :data:`~halfcascade.testing.voices.Voice`, with its transcript) or a
function call. An out-of-band response (``conversation: "none"``) reports
``conversation_id: null`` and adds nothing to the conversation.
"""

from __future__ import annotations

import asyncio
import inspect
import logging
import math
import time
from dataclasses import dataclass
from typing import Any, Literal, Protocol

import numpy as np
import numpy.typing as npt

from ._items import Conversation, Modality
from ._output import ItemStatus, OutputHost, OutputItem, sleep_until
from ._protocol import event, new_id, rate_limits_event, response_object, usage
from ._types import Reply, ReplyContext, ReplyFn, ToolCall, TurnRecord, TurnSource
from ._types import split_tokens as _split

__all__ = ["Failure", "Response", "ResponseHost", "ResponseSpec", "call_reply"]

logger = logging.getLogger("halfcascade.testing.openai_realtime")

Status = Literal["completed", "cancelled", "failed", "incomplete"]
_AUDIO_TOKEN_SAMPLES = 1200  # one output audio token per 50 ms at 24 kHz, for usage figures


@dataclass(frozen=True, slots=True, kw_only=True)
class Failure:
    """An injected failure for the next response."""

    code: str
    message: str
    error_type: str
    as_error_event: bool


@dataclass(frozen=True, slots=True, kw_only=True)
class ResponseSpec:
    """Why and when a response starts, and with which parameters."""

    source: TurnSource
    not_before: float
    """Earliest ``perf_counter()`` time for the first output (the ttft deadline)."""
    modality: Modality = "text"
    voice: str = "marin"
    max_output_tokens: int | Literal["inf"] = "inf"
    out_of_band: bool = False
    """``conversation: "none"``: nothing is added to the conversation."""
    input_items: tuple[dict[str, Any], ...] | None = None
    """``response.input`` (references resolved): the context instead of the conversation."""
    metadata: Any = None
    requested_at: float | None = None
    speech_end_at: float | None = None
    speech_stopped_at: float | None = None
    instructions: str | None = None
    tools: tuple[str, ...] | None = None


class ResponseHost(OutputHost, Protocol):
    """What a response needs from its connection."""

    conversation: Conversation

    async def reply_context(self, spec: ResponseSpec) -> ReplyContext: ...

    async def reply(self, ctx: ReplyContext) -> Reply: ...

    async def synthesize(self, text: str) -> npt.NDArray[np.int16]: ...

    @property
    def token_interval(self) -> float: ...

    def response_finished(self, response: Response, record: TurnRecord) -> None: ...


async def call_reply(fn: ReplyFn, ctx: ReplyContext) -> Reply:
    """Call a reply callable (plain or coroutine function) and check what it returned."""
    result = fn(ctx)
    if inspect.isawaitable(result):
        result = await result
    if not isinstance(result, str | ToolCall):
        raise TypeError(f"reply must return str or ToolCall, got {type(result).__name__}")
    return result


class Response:
    """A response in flight. :meth:`start` sends ``response.created`` and runs it."""

    def __init__(self, spec: ResponseSpec, host: ResponseHost, failure: Failure | None) -> None:
        self.id = new_id("resp")
        self.spec = spec
        self._host = host
        self._failure = failure
        self._task: asyncio.Task[None] | None = None
        self._item: OutputItem | None = None
        self._reply: Reply = ""
        self._transcript = ""
        self._input_tokens = 0
        self._interval = host.token_interval  # fixed per response, even if changed meanwhile
        self._created_at = 0.0
        self._finished = False

    @property
    def audio_samples(self) -> int:
        """Samples of audio this response has streamed."""
        return self._item.audio_samples if self._item is not None else 0

    async def start(self) -> None:
        """Send ``response.created`` and start generating."""
        self._created_at = time.perf_counter()
        await self._host.send(event("response.created", response=self._object("in_progress")))
        self._task = asyncio.create_task(self._run(), name=f"realtime-response-{self.id}")

    async def cancel(self, reason: str) -> bool:
        """Stop streaming and close the response as ``cancelled``; ``False`` if already over."""
        task = self._task
        if self._finished or task is None or not task.cancel():
            return False
        await asyncio.wait([task])
        if self._item is not None:
            await self._item.close("incomplete")
        await self._finish("cancelled", {"type": "cancelled", "reason": reason})
        return True

    async def aclose(self) -> None:
        """Stop silently (the connection is gone)."""
        if self._task is not None and self._task.cancel():
            await asyncio.wait([self._task])

    async def _run(self) -> None:
        try:
            await self._generate()
        except Exception as exc:  # the reply callable's, the voice's, or a bug: fail this one
            logger.exception("realtime response failed", extra={"response_id": self.id})
            if self._finished:
                return
            if self._item is not None:
                await self._item.close("incomplete")
            message = f"{type(exc).__name__} while generating the response"
            await self._fail(
                Failure(
                    code="server_error",
                    message=message,
                    error_type="server_error",
                    as_error_event=False,
                )
            )

    async def _generate(self) -> None:
        if self._failure is not None:
            await self._fail(self._failure)
            return
        ctx = await self._host.reply_context(self.spec)
        self._transcript = ctx.transcript
        self._input_tokens = sum(
            len(_split(str(it.get("text") or "")))
            for it in ctx.items
            if it.get("type") == "message"
        )
        self._reply = await self._host.reply(ctx)
        pcm = None
        if isinstance(self._reply, str) and self.spec.modality == "audio":
            pcm = await self._host.synthesize(self._reply)  # before the ttft: it is the model's
        await sleep_until(self.spec.not_before)
        tokens = self.spec.max_output_tokens
        self._item = OutputItem(
            self._host,
            response_id=self.id,
            in_conversation=not self.spec.out_of_band,
            interval=self._interval,
            max_tokens=None if tokens == "inf" else tokens,
        )
        status: ItemStatus
        if isinstance(self._reply, ToolCall):
            status = await self._item.call(self._reply)
        else:
            status = await self._item.message(self._reply, self.spec.modality, pcm)
        if status == "incomplete":
            await self._finish("incomplete", {"type": "incomplete", "reason": "max_output_tokens"})
        else:
            await self._finish("completed", None)

    async def _fail(self, failure: Failure) -> None:
        error = {"type": failure.error_type, "code": failure.code, "message": failure.message}
        await self._finish("failed", {"type": "failed", "error": error})

    def _object(
        self,
        status: str,
        details: dict[str, Any] | None = None,
        usage_: dict[str, Any] | None = None,
    ) -> dict[str, Any]:
        item = self._item
        spec = self.spec
        return response_object(
            self.id,
            status=status,
            modality=spec.modality,
            voice=spec.voice,
            max_output_tokens=spec.max_output_tokens,
            conversation_id=None if spec.out_of_band else self._host.conversation.id,
            metadata=spec.metadata,
            output=[item.final] if item is not None and item.final is not None else [],
            status_details=details,
            usage_=usage_,
        )

    async def _finish(self, status: Status, details: dict[str, Any] | None) -> None:
        self._finished = True
        text_tokens = len(self._item.tokens) if self._item is not None else 0
        audio_tokens = math.ceil(self.audio_samples / _AUDIO_TOKEN_SAMPLES)
        used = usage(self._input_tokens, text_tokens=text_tokens, audio_tokens=audio_tokens)
        await self._host.send(event("response.done", response=self._object(status, details, used)))
        await self._host.send(rate_limits_event(used["total_tokens"]))
        self._host.response_finished(self, self._record(status))

    def _record(self, status: Status) -> TurnRecord:
        spec, reply, item = self.spec, self._reply, self._item
        return TurnRecord(
            response_id=self.id,
            source=spec.source,
            status=status,
            transcript=self._transcript,
            reply=reply if isinstance(reply, str) else "",
            text=item.text if item is not None and isinstance(reply, str) else "",
            tool_call=reply if isinstance(reply, ToolCall) else None,
            speech_end_at=spec.speech_end_at,
            speech_stopped_at=spec.speech_stopped_at,
            requested_at=spec.requested_at,
            response_created_at=self._created_at,
            first_delta_at=item.first_at if item is not None else None,
            done_at=time.perf_counter(),
            modality=spec.modality,
            out_of_band=spec.out_of_band,
            audio_samples=self.audio_samples,
        )
