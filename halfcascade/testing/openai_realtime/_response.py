"""One server response: decide the reply, wait out the ttft, stream it, or cancel it."""

from __future__ import annotations

import asyncio
import inspect
import json
import logging
import time
from dataclasses import dataclass
from typing import Any, Literal, Protocol

from ._items import Conversation, assistant_item, function_call_item, item_text
from ._protocol import Event, event, new_id, response_object, usage
from ._types import Reply, ReplyContext, ReplyFn, ToolCall, TurnRecord, TurnSource
from ._types import split_tokens as _split

__all__ = ["Failure", "Response", "ResponseHost", "ResponseSpec", "call_reply"]

logger = logging.getLogger("halfcascade.testing.openai_realtime")


@dataclass(frozen=True, slots=True, kw_only=True)
class Failure:
    """An injected failure for the next response."""

    code: str
    message: str
    error_type: str
    as_error_event: bool


@dataclass(frozen=True, slots=True, kw_only=True)
class ResponseSpec:
    """Why and when a response starts."""

    source: TurnSource
    not_before: float
    """Earliest ``perf_counter()`` time for the first output (the ttft deadline)."""
    metadata: Any = None
    requested_at: float | None = None
    speech_end_at: float | None = None
    speech_stopped_at: float | None = None
    instructions: str | None = None
    tools: tuple[str, ...] | None = None


class ResponseHost(Protocol):
    """What a response needs from its connection."""

    conversation: Conversation

    async def send(self, ev: Event) -> None: ...

    async def reply_context(self, spec: ResponseSpec) -> ReplyContext: ...

    async def reply(self, ctx: ReplyContext) -> Reply: ...

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


async def _sleep_until(deadline: float) -> None:
    # loop: a timer may fire a hair early, and the floor must hold exactly
    while (delay := deadline - time.perf_counter()) > 0:  # noqa: ASYNC110
        await asyncio.sleep(delay)


class Response:
    """A response in flight. :meth:`start` sends ``response.created`` and runs it."""

    def __init__(self, spec: ResponseSpec, host: ResponseHost, failure: Failure | None) -> None:
        self.id = new_id("resp")
        self.item_id = new_id("item")
        self._spec = spec
        self._host = host
        self._failure = failure
        self._task: asyncio.Task[None] | None = None
        self._open: Literal["text", "function"] | None = None
        self._sent: list[str] = []
        self._reply: Reply = ""
        self._transcript = ""
        self._output: list[dict[str, Any]] = []
        self._interval = host.token_interval  # fixed per response, even if changed meanwhile
        self._created_at = 0.0
        self._first_at: float | None = None
        self._finished = False

    async def start(self) -> None:
        """Send ``response.created`` and start generating."""
        self._created_at = time.perf_counter()
        obj = response_object(self.id, status="in_progress", metadata=self._spec.metadata)
        await self._host.send(event("response.created", response=obj))
        self._task = asyncio.create_task(self._run(), name=f"realtime-response-{self.id}")

    async def cancel(self, reason: str) -> bool:
        """Stop streaming and close the response as ``cancelled``; ``False`` if already over."""
        task = self._task
        if self._finished or task is None or not task.cancel():
            return False
        await asyncio.wait([task])
        if self._open is not None:
            await self._close_open_item("incomplete")
        await self._finish("cancelled", {"type": "cancelled", "reason": reason})
        return True

    async def aclose(self) -> None:
        """Stop silently (the connection is gone)."""
        if self._task is not None and self._task.cancel():
            await asyncio.wait([self._task])

    async def _run(self) -> None:
        try:
            await self._generate()
        except Exception as exc:  # the reply callable's, or a bug: fail this response only
            logger.exception("realtime response failed", extra={"response_id": self.id})
            if self._finished:
                return
            if self._open is not None:
                await self._close_open_item("incomplete")
            message = f"{type(exc).__name__} while generating the response"
            error = Failure(
                code="server_error",
                message=message,
                error_type="server_error",
                as_error_event=False,
            )
            await self._fail(error)

    async def _generate(self) -> None:
        if self._failure is not None:
            await self._fail(self._failure)
            return
        ctx = await self._host.reply_context(self._spec)
        self._transcript = ctx.transcript
        self._reply = await self._host.reply(ctx)
        await _sleep_until(self._spec.not_before)
        if isinstance(self._reply, ToolCall):
            await self._call(self._reply)
        else:
            await self._stream(self._reply)
        await self._finish("completed", None)

    async def _stream(self, text: str) -> None:
        await self._open_item(assistant_item(self.item_id, status="in_progress", text=None))
        await self._send_item_event(
            "response.content_part.added", part={"type": "text", "text": ""}
        )
        start = time.perf_counter()
        for i, token in enumerate(_split(text)):
            await _sleep_until(start + i * self._interval)
            if self._first_at is None:
                self._first_at = time.perf_counter()
            self._sent.append(token)  # before the send: a cancel may land inside it
            await self._send_item_event("response.output_text.delta", delta=token)
        await self._close_open_item("completed")

    async def _call(self, call: ToolCall) -> None:
        call_id = call.call_id or new_id("call")
        args = json.dumps(dict(call.arguments))
        await self._open_item(
            function_call_item(
                self.item_id, call_id=call_id, name=call.name, arguments="", status="in_progress"
            )
        )
        self._first_at = time.perf_counter()
        self._sent.append(args)
        await self._send_item_event(
            "response.function_call_arguments.delta", call_id=call_id, delta=args
        )
        await self._send_item_event(
            "response.function_call_arguments.done", call_id=call_id, name=call.name, arguments=args
        )
        await self._close_open_item("completed")

    async def _open_item(self, item: dict[str, Any]) -> None:
        self._open = "text" if item["type"] == "message" else "function"
        await self._host.send(
            event("response.output_item.added", response_id=self.id, output_index=0, item=item)
        )
        prev = self._host.conversation.insert(dict(item), None)
        await self._host.send(event("conversation.item.added", previous_item_id=prev, item=item))

    async def _close_open_item(self, status: str) -> None:
        kind, self._open = self._open, None  # first: a cancel landing mid-close must not redo it
        text = "".join(self._sent)
        if kind == "text":
            await self._send_item_event("response.output_text.done", text=text)
            await self._send_item_event(
                "response.content_part.done", part={"type": "text", "text": text}
            )
            final = assistant_item(self.item_id, status=status, text=text)
        else:
            assert isinstance(self._reply, ToolCall)
            old = self._host.conversation.get(self.item_id) or {}
            final = function_call_item(
                self.item_id,
                call_id=str(old.get("call_id") or ""),
                name=self._reply.name,
                arguments=text,
                status=status,
            )
        if (stored := self._host.conversation.get(self.item_id)) is not None:
            stored.update(final)
        self._output = [final]
        await self._host.send(
            event("response.output_item.done", response_id=self.id, output_index=0, item=final)
        )

    async def _send_item_event(self, type_: str, **fields: Any) -> None:
        ids = {"response_id": self.id, "item_id": self.item_id, "output_index": 0}
        if type_.startswith(("response.output_text", "response.content_part")):
            ids["content_index"] = 0
        await self._host.send(event(type_, **ids, **fields))

    async def _fail(self, failure: Failure) -> None:
        error = {"type": failure.error_type, "code": failure.code, "message": failure.message}
        await self._finish("failed", {"type": "failed", "error": error})

    async def _finish(
        self,
        status: Literal["completed", "cancelled", "failed"],
        details: dict[str, Any] | None,
    ) -> None:
        self._finished = True
        items = self._host.conversation.items
        in_tokens = sum(len(_split(item_text(it))) for it in items if it.get("type") == "message")
        obj = response_object(
            self.id,
            status=status,
            metadata=self._spec.metadata,
            output=self._output,
            status_details=details,
            usage_=usage(in_tokens, len(self._sent)),
        )
        await self._host.send(event("response.done", response=obj))
        self._host.response_finished(self, self._record(status))

    def _record(self, status: Literal["completed", "cancelled", "failed"]) -> TurnRecord:
        spec, reply = self._spec, self._reply
        return TurnRecord(
            response_id=self.id,
            source=spec.source,
            status=status,
            transcript=self._transcript,
            reply=reply if isinstance(reply, str) else "",
            text="".join(self._sent) if isinstance(reply, str) else "",
            tool_call=reply if isinstance(reply, ToolCall) else None,
            speech_end_at=spec.speech_end_at,
            speech_stopped_at=spec.speech_stopped_at,
            requested_at=spec.requested_at,
            response_created_at=self._created_at,
            first_delta_at=self._first_at,
            done_at=time.perf_counter(),
        )
