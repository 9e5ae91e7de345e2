"""One Live API websocket: ``setup``, then client content, realtime input and tool responses.

Every frame is parsed with ``google-genai``'s ``LiveClientMessage`` first; anything the
service rejects closes the socket with its code and reason (see :mod:`._wire`). Every
server message is serialized once, sent as a binary frame (as the service does), recorded
in :attr:`Shared.sent` and reported to :mod:`halfcascade.testing.conformance`.
"""

from __future__ import annotations

import asyncio
import copy
import json
import logging
import re
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Literal

import numpy as np
import numpy.typing as npt
from aiohttp import WSMsgType, web
from google.genai import types

from .. import conformance
from ..openai_realtime._audio import InputAudio, TurnEnded
from ..openai_realtime._types import ReplyContext, ReplyFn, ToolCall, TurnRecord, TurnSource
from ..transcribe import Transcriber
from ..vad import SpeechStarted, VadConfig
from ..voices import Voice
from ._setup import read_setup
from ._turn import INPUT_RATE, OUTPUT_RATE, Generation, Item
from ._wire import (
    INVALID_ARGUMENT,
    ClientClose,
    WireSetup,
    new_id,
    parse_client_message,
)

__all__ = ["Connection", "Shared"]

logger = logging.getLogger("halfcascade.testing.gemini_live")

_RATE = re.compile(r"rate=(\d+)")


@dataclass(slots=True, kw_only=True)
class Shared:
    """Server-wide settings and records every connection uses."""

    reply_fn: ReplyFn
    ttft: float
    token_interval: float
    transcriber: Transcriber
    voice: Voice
    vad: VadConfig
    models: tuple[str, ...]
    audio_only: tuple[str, ...]
    on_turn: Callable[[TurnRecord], None]
    failures: deque[ClientClose] = field(default_factory=deque)
    handles: dict[str, list[Item]] = field(default_factory=dict)
    setups: list[dict[str, Any]] = field(default_factory=list)
    received: list[dict[str, Any]] = field(default_factory=list)
    sent: list[dict[str, Any]] = field(default_factory=list)
    closes: list[tuple[int, str]] = field(default_factory=list)


def _elided(msg: types.LiveClientMessage) -> dict[str, Any]:
    wire: dict[str, Any] = msg.model_dump(by_alias=True, exclude_none=True, mode="json")
    for key in ("audio", "video", "mediaChunks"):
        if key in wire.get("realtimeInput", {}):
            wire["realtimeInput"][key] = "<elided>"
    return wire


class Connection:
    """Serves one client websocket until it closes."""

    def __init__(
        self,
        ws: web.WebSocketResponse,
        shared: Shared,
        *,
        version: str,
        transport: asyncio.BaseTransport | None,
    ) -> None:
        self.shared = shared
        self.items: list[Item] = []
        self.setup: WireSetup | None = None
        self.modality: Literal["text", "audio"] = "audio"
        self.transcribe_input = self.transcribe_output = self.resumable = False
        self.instructions = ""
        self.tools: tuple[str, ...] = ()
        self.pending_calls: dict[str, ToolCall] = {}
        self.active: Generation | None = None
        self.audio = InputAudio(shared.vad, sample_rate=INPUT_RATE)
        self._cancelled_calls: set[str] = set()
        self._manual = False
        self._version = version
        self._ws = ws
        self._transport = transport
        self._send_lock = asyncio.Lock()

    async def run(self) -> None:
        """Serve client frames until the socket closes."""
        try:
            async for msg in self._ws:
                if msg.type in (WSMsgType.TEXT, WSMsgType.BINARY):
                    try:
                        await self._on_frame(msg.data, time.perf_counter())
                    except ClientClose as close:
                        await self.close_with(close)
        finally:
            await self.aclose()

    async def send(self, message: dict[str, Any]) -> None:
        """Send a server message (dropped once the socket is closed)."""
        if self._ws.closed:
            return
        text = json.dumps(message)
        wire = json.loads(text)
        self.shared.sent.append(wire)
        conformance.emit("gemini_live", "server_message", wire)
        async with self._send_lock:
            try:
                await self._ws.send_bytes(text.encode())
            except ConnectionResetError:
                logger.debug("gemini live client went away mid-send")

    async def close_with(self, close: ClientClose) -> None:
        """Close the socket the way the service does for ``close``."""
        if self._ws.closed:
            return
        reason = close.wire_reason
        self.shared.closes.append((close.code, reason))
        conformance.emit("gemini_live", "close", {"code": close.code, "reason": reason})
        logger.debug("gemini live closing", extra={"code": close.code})
        await self._ws.close(code=close.code, message=reason.encode())

    async def drop(self) -> None:
        """Cut the TCP connection (no close frame)."""
        if isinstance(self._transport, asyncio.Transport):
            self._transport.abort()

    async def aclose(self) -> None:
        """Stop the turn in flight."""
        if self.active is not None:
            await self.active.aclose()
            self.active = None

    # -- frames -------------------------------------------------------------------------

    async def _on_frame(self, raw: str | bytes, at: float) -> None:
        msg = parse_client_message(raw)
        self.shared.received.append(_elided(msg))
        if self.setup is None:
            if msg.setup is None:
                raise ClientClose(1007, INVALID_ARGUMENT)  # the first message is the setup
            await self._on_setup(msg.setup)
        elif msg.setup is not None:
            raise ClientClose(1007, INVALID_ARGUMENT)
        elif msg.client_content is not None:
            await self._on_client_content(msg.client_content, at)
        elif msg.realtime_input is not None:
            await self._on_realtime_input(msg.realtime_input, at)
        elif msg.tool_response is not None:
            await self._on_tool_response(msg.tool_response, at)
        else:
            raise ClientClose(1007, "contextUpdate is not supported by this stand-in.")

    async def _on_setup(self, setup: WireSetup) -> None:
        shared = self.shared
        config = read_setup(
            setup, version=self._version, models=shared.models, audio_only=shared.audio_only
        )
        if config.handle:
            if config.handle not in shared.handles:
                raise ClientClose(1007, INVALID_ARGUMENT)
            self.items = copy.deepcopy(shared.handles[config.handle])
        self.setup = setup
        self.modality = config.modality
        self.resumable = config.resumable
        self.transcribe_input = config.transcribe_input
        self.transcribe_output = config.transcribe_output
        self.instructions = config.instructions
        self.tools = config.tools
        self._manual = config.manual_activity
        self.audio.configure(config.turn_detection)
        shared.setups.append(setup.model_dump(by_alias=True, exclude_none=True, mode="json"))
        await self.send({"setupComplete": {}})

    async def _on_client_content(self, cc: types.LiveClientContent, at: float) -> None:
        # "A message here will interrupt any current model generation."
        await self._interrupt()
        for turn in cc.turns or []:
            role = turn.role or "user"
            if role not in ("user", "model"):
                raise ClientClose(1007, INVALID_ARGUMENT)  # the Gemini API has no system turn
            text = "".join(p.text or "" for p in turn.parts or [])
            kind = "assistant" if role == "model" else "user"
            self.items.append({"id": new_id("item"), "type": "message", "role": kind, "text": text})
        if cc.turn_complete:
            self._begin("client", not_before=at + self.shared.ttft, requested_at=at)

    async def _on_realtime_input(self, ri: types.LiveClientRealtimeInput, at: float) -> None:
        blobs = [ri.audio] if ri.audio is not None else list(ri.media_chunks or [])
        for blob in blobs:
            if (blob.mime_type or "").startswith("audio/"):
                await self._on_audio(blob, at)
        if ri.activity_start is not None or ri.activity_end is not None:
            if not self._manual:  # only with automaticActivityDetection.disabled
                raise ClientClose(1007, INVALID_ARGUMENT)
            if ri.activity_start is not None:
                await self._interrupt()
                self.audio.clear()
            else:
                segment = self.audio.commit_all()
                self._begin(
                    "client",
                    not_before=at + self.shared.ttft,
                    requested_at=at,
                    user_audio=segment.pcm,
                )
        if ri.text:
            await self._interrupt()
            self.items.append(
                {"id": new_id("item"), "type": "message", "role": "user", "text": ri.text}
            )
            self._begin("client", not_before=at + self.shared.ttft, requested_at=at)

    async def _on_audio(self, blob: types.Blob, at: float) -> None:
        mime = blob.mime_type or ""
        rate = _RATE.search(mime)
        if not mime.startswith("audio/pcm") or (rate and int(rate.group(1)) != INPUT_RATE):
            raise ClientClose(1007, f"This stand-in takes audio/pcm;rate={INPUT_RATE} only.")
        raw = blob.data or b""
        pcm: npt.NDArray[np.int16] = np.frombuffer(raw[: len(raw) // 2 * 2], "<i2").astype(np.int16)
        for event in self.audio.append(pcm, at):
            if isinstance(event, SpeechStarted):
                await self._speech_started()
            else:
                await self._speech_ended(event, at)

    async def _speech_started(self) -> None:
        await self._interrupt()
        if self.pending_calls:
            ids = list(self.pending_calls)
            self._cancelled_calls.update(ids)
            self.pending_calls.clear()
            await self.send({"toolCallCancellation": {"ids": ids}})

    async def _speech_ended(self, ended: TurnEnded, at: float) -> None:
        await self._interrupt()
        speech_end = self.audio.arrival_of(ended.stopped.speech_end_ms)
        reference = speech_end if speech_end is not None else at
        self._begin(
            "vad",
            not_before=max(at, reference + self.shared.ttft),
            user_audio=ended.segment.pcm,
            speech_end_at=speech_end,
            speech_stopped_at=at,
        )

    async def _on_tool_response(self, tr: types.LiveClientToolResponse, at: float) -> None:
        outputs = []
        for response in tr.function_responses or []:
            call_id = response.id or ""
            if call_id in self._cancelled_calls:
                continue  # cancelled by the user's speech: the service drops it
            if self.pending_calls.pop(call_id, None) is None:
                raise ClientClose(1007, INVALID_ARGUMENT)
            output = json.dumps(response.response or {})
            if isinstance(response.response, dict) and "output" in response.response:
                output = str(response.response["output"])
            self.items.append(
                {
                    "id": new_id("item"),
                    "type": "function_call_output",
                    "call_id": call_id,
                    "output": output,
                }
            )
            outputs.append(output)
        if outputs and not self.pending_calls:
            self._begin(
                "client",
                not_before=at + self.shared.ttft,
                requested_at=at,
                tool_output="\n".join(outputs),
            )

    # -- turns --------------------------------------------------------------------------

    def _begin(self, source: TurnSource, **kwargs: Any) -> None:
        shared = self.shared
        gen = Generation(
            self,
            reply_fn=shared.reply_fn,
            transcriber=shared.transcriber,
            synthesize=self._synthesize,
            token_interval=shared.token_interval,
            source=source,
            **kwargs,
        )
        self.active = gen
        gen.start()

    async def _interrupt(self) -> None:
        if self.active is not None:
            await self.active.interrupt()
            self.active = None

    async def _synthesize(self, text: str) -> npt.NDArray[np.int16]:
        return await asyncio.to_thread(self.shared.voice, text, OUTPUT_RATE)

    def reply_context(self, *, source: TurnSource, tool_output: str | None) -> ReplyContext:
        """What the reply callable sees (Gemini's ``model`` role is ``assistant`` here)."""
        users = [i for i in self.items if i["type"] == "message" and i["role"] == "user"]
        transcript = (
            tool_output if tool_output is not None else (str(users[-1]["text"]) if users else "")
        )
        return ReplyContext(
            transcript=transcript,
            instructions=self.instructions,
            tools=self.tools,
            items=tuple(copy.deepcopy(self.items)),
            tool_output=tool_output,
            source=source,
        )

    def next_failure(self) -> ClientClose | None:
        """The next injected failure, if any."""
        return self.shared.failures.popleft() if self.shared.failures else None

    def turn_finished(self, generation: Generation, record: TurnRecord) -> None:
        """Publish a finished turn."""
        if self.active is generation:
            self.active = None
        self.shared.on_turn(record)

    async def resumption_point(self) -> None:
        """After a turn: a new resumption handle for the conversation so far."""
        if not self.resumable:
            return
        handle = new_id("handle")
        self.shared.handles[handle] = copy.deepcopy(self.items)
        await self.send({"sessionResumptionUpdate": {"newHandle": handle, "resumable": True}})
