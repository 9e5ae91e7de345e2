"""One realtime websocket connection: session state, conversation, audio, responses.

Every client event is validated first (:mod:`._client_events`); a rejected one is answered
with the service's ``error`` event (its ``event_id`` echoed) and changes nothing. Every
server event is serialized once, and that exact JSON is what the socket, :attr:`Shared.sent`
and :func:`halfcascade.testing.conformance.emit` get.
"""

from __future__ import annotations

import asyncio
import json
import logging
import time
from collections import deque
from collections.abc import Awaitable, Callable, Coroutine
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import numpy.typing as npt
from aiohttp import WSCloseCode, WSMsgType, web

from .. import conformance
from ..transcribe import Transcriber
from ..vad import SpeechStarted, VadConfig
from ..voices import Voice
from ._audio import AudioSegment, InputAudio, TurnEnded, transcribe_turn
from ._checks import ClientError
from ._client_events import event_id_of, validate_client_event
from ._items import Conversation, simple_item, user_audio_item, without_audio
from ._protocol import (
    Event,
    default_session,
    elide_audio,
    error_event,
    event,
    new_id,
    tool_names,
    turn_detection_of,
)
from ._response import Failure, Response, ResponseSpec, call_reply
from ._types import Reply, ReplyContext, ReplyFn, TurnRecord

__all__ = ["RATE", "Connection", "Handler", "Shared", "voice_name"]

logger = logging.getLogger("halfcascade.testing.openai_realtime")

RATE = 24000
"""Sample rate of every audio the connection takes and sends (``audio/pcm``)."""
_TRANSCRIPT_WAIT = 10.0  # bound on how long a reply waits for the user's transcript


@dataclass(slots=True, kw_only=True)
class Shared:
    """Server-wide settings and records every connection uses."""

    reply_fn: ReplyFn
    ttft: float
    token_interval: float
    transcriber: Transcriber
    voice: Voice
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
        handlers: dict[str, Handler],
    ) -> None:
        self.conversation = Conversation()
        self.session = default_session(model)
        self.shared = shared
        self.audio = InputAudio(shared.vad, sample_rate=RATE)
        self.audio.configure(turn_detection_of(self.session))
        self.active: Response | None = None
        """The response writing to the conversation (at most one at a time)."""
        self.out_of_band: set[Response] = set()
        """Responses with ``conversation: "none"`` (any number, in parallel)."""
        self.spoke = False
        """Whether any audio was sent (the voice is fixed from then on)."""
        self.speech_item: str | None = None
        self._ws = ws
        self._transport = transport
        self._handlers = handlers
        self._tasks: set[asyncio.Task[None]] = set()
        self._send_lock = asyncio.Lock()
        self._closed = False

    @property
    def token_interval(self) -> float:
        """Seconds between output deltas."""
        return self.shared.token_interval

    async def run(self) -> None:
        """Greet with ``session.created`` and serve client events until the socket closes."""
        try:
            await self.send(event("session.created", session=self.session))
            async for msg in self._ws:
                if msg.type is WSMsgType.TEXT:
                    await self._on_text(msg.data, time.perf_counter())
                elif msg.type is WSMsgType.BINARY:
                    message = "Binary frames are not supported: send each event as JSON text."
                    await self.send(error_event("invalid_event", message))
        finally:
            await self.aclose()

    async def send(self, ev: Event) -> None:
        """Send a server event (dropped once the socket is closed)."""
        if self._ws.closed:
            return
        text = json.dumps(ev)
        wire = json.loads(text)  # the record is exactly what went out, whatever happens to ev
        self.shared.sent.append(wire)
        conformance.emit("openai_realtime", "server_event", wire)
        async with self._send_lock:
            try:
                await self._ws.send_str(text)
            except ConnectionResetError:
                logger.debug("realtime client went away mid-send", extra={"type": ev["type"]})

    async def drop(self, *, abort: bool) -> None:
        """Close the socket: abruptly (TCP abort) or with a close frame."""
        if abort and isinstance(self._transport, asyncio.Transport):
            self._transport.abort()
        else:
            await self._ws.close(code=WSCloseCode.GOING_AWAY)

    async def aclose(self) -> None:
        """Stop the responses and background transcriptions."""
        if self._closed:
            return
        self._closed = True
        for response in [self.active, *self.out_of_band]:
            if response is not None:
                await response.aclose()
        self.active = None
        self.out_of_band.clear()
        tasks = list(self._tasks)
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        self.conversation.cancel_pending()

    async def _on_text(self, data: str, at: float) -> None:
        try:
            raw = json.loads(data)
        except ValueError:
            message = "We could not parse the JSON body of your event: it is not valid JSON."
            await self.send(error_event("invalid_json", message))
            return
        if isinstance(raw, dict):
            self.shared.received.append(elide_audio(raw))
        try:
            ev = validate_client_event(raw)
            await self._handlers[ev["type"]](self, ev, at)
        except ClientError as err:
            logger.debug("realtime client event rejected", extra={"code": err.code})
            await self.send(
                error_event(err.code, err.message, param=err.param, event_id=event_id_of(raw))
            )

    # -- ResponseHost ------------------------------------------------------------------------

    async def reply_context(self, spec: ResponseSpec) -> ReplyContext:
        """What the reply callable sees; waits (bounded) for the user's transcript."""
        items = list(spec.input_items if spec.input_items is not None else self.conversation.items)
        try:
            async with asyncio.timeout(_TRANSCRIPT_WAIT):
                simple = await self.conversation.simple_items(items)
        except TimeoutError:
            logger.warning("realtime reply gave up waiting for the user's transcript")
            simple = [simple_item(it) for it in items]
        last = simple[-1] if simple else None
        tool_output = None
        if last is not None and last["type"] == "function_call_output":
            tool_output = str(last.get("output") or "")
        user = [it for it in simple if it["type"] == "message" and it.get("role") == "user"]
        transcript = tool_output if tool_output is not None else (user[-1]["text"] if user else "")
        return ReplyContext(
            transcript=transcript,
            instructions=spec.instructions
            if spec.instructions is not None
            else str(self.session.get("instructions") or ""),
            tools=spec.tools if spec.tools is not None else tool_names(self.session.get("tools")),
            items=tuple(simple),
            tool_output=tool_output,
            source=spec.source,
            out_of_band=spec.out_of_band,
            metadata=spec.metadata,
        )

    async def reply(self, ctx: ReplyContext) -> Reply:
        """Call the reply callable (sync or async) and check what it returned."""
        return await call_reply(self.shared.reply_fn, ctx)

    async def synthesize(self, text: str) -> npt.NDArray[np.int16]:
        """The reply spoken by the server's voice, 24 kHz mono PCM16 (in a worker thread)."""
        return await asyncio.to_thread(self.shared.voice, text, RATE)

    def response_finished(self, response: Response, record: TurnRecord) -> None:
        """Forget the finished response and publish its record."""
        if self.active is response:
            self.active = None
        self.out_of_band.discard(response)
        self.spoke = self.spoke or record.audio_samples > 0
        self.shared.on_turn(record)

    # -- responses ---------------------------------------------------------------------------

    async def start_response(self, spec: ResponseSpec, client_event_id: str | None) -> None:
        """Create a response (or answer with an injected failure)."""
        shared = self.shared
        failure = shared.failures.popleft() if shared.failures else None
        if failure is not None and failure.as_error_event:
            error = error_event(
                failure.code,
                failure.message,
                error_type=failure.error_type,
                event_id=client_event_id,
            )
            await self.send(error)
            return
        response = Response(spec, self, failure)
        if spec.out_of_band:
            self.out_of_band.add(response)
        else:
            self.active = response
        await response.start()

    def find_response(self, response_id: str | None) -> Response | None:
        """An in-progress response by id; without an id, the conversation's."""
        if not response_id:
            return self.active
        every = [self.active, *self.out_of_band]
        return next((r for r in every if r is not None and r.id == response_id), None)

    def response_spec(self, **fields: Any) -> ResponseSpec:
        """A spec with the session's modality, voice and token limit unless given."""
        output = (self.session.get("audio") or {}).get("output") or {}
        defaults: dict[str, Any] = {
            "modality": (self.session.get("output_modalities") or ["audio"])[0],
            "voice": voice_name(output.get("voice")),
            "max_output_tokens": self.session.get("max_output_tokens") or "inf",
        }
        return ResponseSpec(**{**defaults, **fields})

    # -- turns -------------------------------------------------------------------------------

    async def commit(self, item_id: str, segment: AudioSegment) -> None:
        """Add committed audio as a user item; its ``.done`` follows the transcription."""
        prev = self.conversation.last_id
        await self.send(
            event("input_audio_buffer.committed", previous_item_id=prev, item_id=item_id)
        )
        item = user_audio_item(item_id)
        prev = self.conversation.insert(item, None)
        self.conversation.keep_audio(item_id, segment.pcm.astype("<i2").tobytes())
        await self.send(event("conversation.item.added", previous_item_id=prev, item=item))
        visible = bool(((self.session.get("audio") or {}).get("input") or {}).get("transcription"))
        if not visible:  # no transcription to wait for: the item is final as it is
            await self._item_done(item_id)
        self.conversation.expect_transcript(item_id)
        self.spawn(self._transcribe(item_id, segment, visible=visible))

    async def _transcribe(self, item_id: str, segment: AudioSegment, *, visible: bool) -> None:
        text, result = await transcribe_turn(self.shared.transcriber, item_id, segment, RATE)
        self.conversation.set_transcript(item_id, text, visible=visible)
        if visible:
            await self.send(result)
            await self._item_done(item_id)

    async def _item_done(self, item_id: str) -> None:
        if (item := self.conversation.get(item_id)) is not None:
            prev = self.conversation.previous_id(item_id)
            done = event("conversation.item.done", previous_item_id=prev, item=without_audio(item))
            await self.send(done)

    async def speech_started(self, started: SpeechStarted) -> None:
        """The VAD heard speech: announce it and interrupt the conversation's response."""
        self.speech_item = new_id("item")
        await self.send(
            event(
                "input_audio_buffer.speech_started",
                audio_start_ms=started.audio_start_ms,
                item_id=self.speech_item,
            )
        )
        turn_detection = turn_detection_of(self.session) or {}
        if self.active is not None and turn_detection.get("interrupt_response", True):
            await self.active.cancel("turn_detected")

    async def speech_stopped(self, ended: TurnEnded, decided_at: float) -> None:
        """The VAD ended a turn: commit it and, if configured, answer it."""
        stopped = ended.stopped
        item_id, self.speech_item = self.speech_item or new_id("item"), None
        speech_end_at = self.audio.arrival_of(stopped.speech_end_ms)
        await self.send(
            event(
                "input_audio_buffer.speech_stopped",
                audio_end_ms=stopped.audio_end_ms,
                item_id=item_id,
            )
        )
        await self.commit(item_id, ended.segment)
        if not (turn_detection_of(self.session) or {}).get("create_response", True):
            return
        if self.active is not None:
            logger.debug("realtime turn ended during a response; no new response")
            return
        # the floor is measured from the end of speech, not from the VAD's decision
        reference = speech_end_at if speech_end_at is not None else decided_at
        spec = self.response_spec(
            source="vad",
            not_before=max(decided_at, reference + self.shared.ttft),
            speech_end_at=speech_end_at,
            speech_stopped_at=decided_at,
        )
        await self.start_response(spec, None)

    def spawn(self, coro: Coroutine[Any, Any, None]) -> None:
        """Run a background task owned (and cancelled on close) by this connection."""
        task = asyncio.create_task(coro)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)


Handler = Callable[[Connection, Event, float], Awaitable[None]]
"""Serves one validated client event type: ``(connection, event, arrival time)``."""


def voice_name(voice: Any) -> str:
    """A voice setting as the response object names it (a custom voice by its ``id``)."""
    if isinstance(voice, dict):
        return str(voice.get("id") or "marin")
    return str(voice or "marin")
