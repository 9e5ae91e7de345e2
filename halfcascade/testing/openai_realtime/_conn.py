"""One realtime websocket connection: session state, conversation, audio, responses."""

from __future__ import annotations

import asyncio
import base64
import binascii
import copy
import json
import logging
import time
from collections import deque
from collections.abc import Awaitable, Callable, Coroutine
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from aiohttp import WSCloseCode, WSMsgType, web

from ..transcribe import Transcriber
from ..vad import SpeechStarted, VadConfig
from ._audio import AudioSegment, InputAudio, TurnEnded, transcribe_turn
from ._items import Conversation, simple_item, user_audio_item
from ._protocol import (
    Event,
    default_session,
    elide_audio,
    error_event,
    event,
    merge_session,
    new_id,
    tool_names,
    turn_detection_of,
)
from ._response import Failure, Response, ResponseSpec, call_reply
from ._types import Reply, ReplyContext, ReplyFn, TurnRecord

__all__ = ["Connection", "Shared"]

logger = logging.getLogger("halfcascade.testing.openai_realtime")

_RATE = 24000
_TRANSCRIPT_WAIT = 10.0  # bound on how long a reply waits for the user's transcript


@dataclass(slots=True, kw_only=True)
class Shared:
    """Server-wide settings and records every connection uses."""

    reply_fn: ReplyFn
    ttft: float
    token_interval: float
    transcriber: Transcriber
    vad: VadConfig
    on_turn: Callable[[TurnRecord], None]
    failures: deque[Failure] = field(default_factory=deque)
    received: list[Event] = field(default_factory=list)
    sent: list[Event] = field(default_factory=list)


class Connection:
    """Serves one client websocket until it closes."""

    def __init__(
        self,
        ws: web.WebSocketResponse,
        shared: Shared,
        *,
        model: str,
        transport: asyncio.BaseTransport | None,
    ) -> None:
        self.conversation = Conversation()
        self.session = default_session(model)
        self._ws = ws
        self._transport = transport
        self._shared = shared
        self._audio = InputAudio(shared.vad, sample_rate=_RATE)
        self._audio.configure(turn_detection_of(self.session))
        self._active: Response | None = None
        self._speech_item: str | None = None
        self._tasks: set[asyncio.Task[None]] = set()
        self._send_lock = asyncio.Lock()
        self._closed = False

    @property
    def token_interval(self) -> float:
        """Seconds between text deltas."""
        return self._shared.token_interval

    async def run(self) -> None:
        """Greet with ``session.created`` and serve client events until the socket closes."""
        try:
            await self.send(event("session.created", session=self.session))
            async for msg in self._ws:
                if msg.type is WSMsgType.TEXT:
                    await self._on_text(msg.data, time.perf_counter())
        finally:
            await self.aclose()

    async def send(self, ev: Event) -> None:
        """Send a server event (dropped once the socket is closed)."""
        if self._ws.closed:
            return
        self._shared.sent.append(ev)
        async with self._send_lock:
            try:
                await self._ws.send_str(json.dumps(ev))
            except ConnectionResetError:
                logger.debug("realtime client went away mid-send", extra={"type": ev["type"]})

    async def drop(self, *, abort: bool) -> None:
        """Close the socket: abruptly (TCP abort) or with a close frame."""
        if abort and isinstance(self._transport, asyncio.Transport):
            self._transport.abort()
        else:
            await self._ws.close(code=WSCloseCode.GOING_AWAY)

    async def aclose(self) -> None:
        """Stop the response and background transcriptions."""
        if self._closed:
            return
        self._closed = True
        if self._active is not None:
            await self._active.aclose()
            self._active = None
        tasks = list(self._tasks)
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        self.conversation.cancel_pending()

    # -- ResponseHost ------------------------------------------------------------------------

    async def reply_context(self, spec: ResponseSpec) -> ReplyContext:
        """What the reply callable sees; waits (bounded) for the user's transcript."""
        items = self.conversation.items
        last = items[-1] if items else None
        tool_output = None
        if last is not None and last.get("type") == "function_call_output":
            tool_output = str(last.get("output") or "")
        transcript = tool_output if tool_output is not None else await self._user_text()
        session_instructions = str(self.session.get("instructions") or "")
        return ReplyContext(
            transcript=transcript,
            instructions=spec.instructions
            if spec.instructions is not None
            else session_instructions,
            tools=spec.tools if spec.tools is not None else tool_names(self.session.get("tools")),
            items=tuple(simple_item(it) for it in self.conversation.items),
            tool_output=tool_output,
            source=spec.source,
        )

    async def _user_text(self) -> str:
        try:
            async with asyncio.timeout(_TRANSCRIPT_WAIT):
                return await self.conversation.latest_user_text()
        except TimeoutError:
            logger.warning("realtime reply gave up waiting for the user's transcript")
            return ""

    async def reply(self, ctx: ReplyContext) -> Reply:
        """Call the reply callable (sync or async) and check what it returned."""
        return await call_reply(self._shared.reply_fn, ctx)

    def response_finished(self, response: Response, record: TurnRecord) -> None:
        """Forget the finished response and publish its record."""
        if self._active is response:
            self._active = None
        self._shared.on_turn(record)

    # -- client events -----------------------------------------------------------------------

    async def _on_text(self, data: str, at: float) -> None:
        try:
            ev = json.loads(data)
        except ValueError:
            await self.send(error_event("invalid_json", "The server could not parse the event"))
            return
        if not isinstance(ev, dict) or not isinstance(ev.get("type"), str):
            await self.send(error_event("invalid_value", "An event needs a string 'type'"))
            return
        self._shared.received.append(elide_audio(ev))
        handler = _HANDLERS.get(ev["type"])
        if handler is None:
            msg = f"Invalid value: '{ev['type']}'. Unsupported client event type."
            await self.send(error_event("invalid_value", msg, event_id=ev.get("event_id")))
            return
        await handler(self, ev, at)

    async def _error(self, ev: Event, code: str, message: str, param: str | None = None) -> None:
        await self.send(error_event(code, message, event_id=ev.get("event_id"), param=param))

    async def _on_session_update(self, ev: Event, at: float) -> None:
        update = ev.get("session")
        if not isinstance(update, dict):
            await self._error(ev, "invalid_value", "session.update needs a 'session' object")
            return
        self.session = merge_session(self.session, update)
        self._audio.configure(turn_detection_of(self.session))
        await self.send(event("session.updated", session=self.session))

    async def _on_audio_append(self, ev: Event, at: float) -> None:
        try:
            raw = base64.b64decode(str(ev.get("audio") or ""), validate=True)
        except (binascii.Error, ValueError):
            await self._error(ev, "invalid_value", "audio must be base64 PCM16", "audio")
            return
        pcm = np.frombuffer(raw[: len(raw) // 2 * 2], dtype="<i2").astype(np.int16)
        for vad_event in self._audio.append(pcm, at):
            if isinstance(vad_event, SpeechStarted):
                await self._speech_started(vad_event)
            else:
                await self._speech_stopped(vad_event, at)

    async def _on_audio_commit(self, ev: Event, at: float) -> None:
        if (ms := self._audio.buffered_ms) < 100:
            msg = (
                "Error committing input audio buffer: buffer too small. Expected at least "
                f"100ms of audio, but buffer only has {ms:.2f}ms of audio."
            )
            await self._error(ev, "input_audio_buffer_commit_empty", msg)
            return
        self._speech_item = None
        await self._commit(new_id("item"), self._audio.commit_all())

    async def _on_audio_clear(self, ev: Event, at: float) -> None:
        self._audio.clear()
        self._speech_item = None
        await self.send(event("input_audio_buffer.cleared"))

    async def _on_item_create(self, ev: Event, at: float) -> None:
        item = ev.get("item")
        if not isinstance(item, dict):
            await self._error(ev, "invalid_value", "conversation.item.create needs an 'item'")
            return
        item = {"object": "realtime.item", "status": "completed", **copy.deepcopy(item)}
        requested = ev.get("previous_item_id")
        try:
            prev = self.conversation.insert(item, requested)
        except KeyError:
            msg = f"Invalid 'previous_item_id': no item with id '{requested}'."
            await self._error(ev, "invalid_value", msg, "previous_item_id")
            return
        except ValueError:
            msg = f"Item with id '{item['id']}' already exists."
            await self._error(ev, "item_create_duplicate_item_id", msg, "item.id")
            return
        await self.send(
            event("conversation.item.added", previous_item_id=prev, item=copy.deepcopy(item))
        )

    async def _on_item_delete(self, ev: Event, at: float) -> None:
        item_id = str(ev.get("item_id"))
        if not self.conversation.delete(item_id):
            msg = f"Item with item_id '{item_id}' not found."
            await self._error(ev, "item_delete_invalid_item_id", msg, "item_id")
            return
        await self.send(event("conversation.item.deleted", item_id=item_id))

    async def _on_item_truncate(self, ev: Event, at: float) -> None:
        item_id = str(ev.get("item_id"))
        if self.conversation.get(item_id) is None:
            await self._error(ev, "invalid_value", f"Item '{item_id}' not found.", "item_id")
            return
        fields = {k: ev.get(k) for k in ("item_id", "content_index", "audio_end_ms")}
        await self.send(event("conversation.item.truncated", **fields))

    async def _on_item_retrieve(self, ev: Event, at: float) -> None:
        item = self.conversation.get(str(ev.get("item_id")))
        if item is None:
            await self._error(ev, "invalid_value", "Item not found.", "item_id")
            return
        await self.send(event("conversation.item.retrieved", item=copy.deepcopy(item)))

    async def _on_response_create(self, ev: Event, at: float) -> None:
        if self._active is not None:
            msg = (
                f"Conversation already has an active response in progress: {self._active.id}. "
                "Wait until the response is finished before creating a new one."
            )
            await self._error(ev, "conversation_already_has_active_response", msg)
            return
        raw = ev.get("response")
        params: dict[str, Any] = raw if isinstance(raw, dict) else {}
        instructions = params.get("instructions")
        spec = ResponseSpec(
            source="client",
            not_before=at + self._shared.ttft,
            metadata=params.get("metadata"),
            requested_at=at,
            instructions=instructions if isinstance(instructions, str) else None,
            tools=tool_names(params["tools"]) if isinstance(params.get("tools"), list) else None,
        )
        await self._start_response(spec, ev.get("event_id"))

    async def _on_response_cancel(self, ev: Event, at: float) -> None:
        wanted = ev.get("response_id")
        active = self._active
        if active is None or (wanted and wanted != active.id):
            msg = "Cancellation failed: no active response found"
            await self._error(ev, "response_cancel_not_active", msg)
            return
        await active.cancel("client_cancelled")

    # -- turns -------------------------------------------------------------------------------

    async def _speech_started(self, started: SpeechStarted) -> None:
        self._speech_item = new_id("item")
        await self.send(
            event(
                "input_audio_buffer.speech_started",
                audio_start_ms=started.audio_start_ms,
                item_id=self._speech_item,
            )
        )
        turn_detection = turn_detection_of(self.session) or {}
        if self._active is not None and turn_detection.get("interrupt_response", True):
            await self._active.cancel("turn_detected")

    async def _speech_stopped(self, ended: TurnEnded, decided_at: float) -> None:
        stopped = ended.stopped
        item_id, self._speech_item = self._speech_item or new_id("item"), None
        speech_end_at = self._audio.arrival_of(stopped.speech_end_ms)
        await self.send(
            event(
                "input_audio_buffer.speech_stopped",
                audio_end_ms=stopped.audio_end_ms,
                item_id=item_id,
            )
        )
        await self._commit(item_id, ended.segment)
        if not (turn_detection_of(self.session) or {}).get("create_response", True):
            return
        if self._active is not None:
            logger.debug("realtime turn ended during a response; no new response")
            return
        # the floor is measured from the end of speech, not from the VAD's decision
        reference = speech_end_at if speech_end_at is not None else decided_at
        spec = ResponseSpec(
            source="vad",
            not_before=max(decided_at, reference + self._shared.ttft),
            speech_end_at=speech_end_at,
            speech_stopped_at=decided_at,
        )
        await self._start_response(spec, None)

    async def _commit(self, item_id: str, segment: AudioSegment) -> None:
        prev = self.conversation.last_id
        await self.send(
            event("input_audio_buffer.committed", previous_item_id=prev, item_id=item_id)
        )
        prev = self.conversation.insert(user_audio_item(item_id), None)
        await self.send(
            event("conversation.item.added", previous_item_id=prev, item=user_audio_item(item_id))
        )
        self.conversation.expect_transcript(item_id)
        self._spawn(self._transcribe(item_id, segment))

    async def _transcribe(self, item_id: str, segment: AudioSegment) -> None:
        text, result = await transcribe_turn(self._shared.transcriber, item_id, segment, _RATE)
        self.conversation.set_transcript(item_id, text)
        if ((self.session.get("audio") or {}).get("input") or {}).get("transcription"):
            await self.send(result)

    async def _start_response(self, spec: ResponseSpec, client_event_id: Any) -> None:
        failure = self._shared.failures.popleft() if self._shared.failures else None
        if failure is not None and failure.as_error_event:
            await self.send(
                error_event(
                    failure.code,
                    failure.message,
                    error_type=failure.error_type,
                    event_id=client_event_id,
                )
            )
            return
        response = Response(spec, self, failure)
        self._active = response
        await response.start()

    def _spawn(self, coro: Coroutine[Any, Any, None]) -> None:
        task = asyncio.create_task(coro)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)


_Handler = Callable[[Connection, Event, float], Awaitable[None]]
_HANDLERS: dict[str, _Handler] = {
    "session.update": Connection._on_session_update,
    "input_audio_buffer.append": Connection._on_audio_append,
    "input_audio_buffer.commit": Connection._on_audio_commit,
    "input_audio_buffer.clear": Connection._on_audio_clear,
    "conversation.item.create": Connection._on_item_create,
    "conversation.item.delete": Connection._on_item_delete,
    "conversation.item.truncate": Connection._on_item_truncate,
    "conversation.item.retrieve": Connection._on_item_retrieve,
    "response.create": Connection._on_response_create,
    "response.cancel": Connection._on_response_cancel,
}
