"""One output item of a response, streamed in the service's event order.

A message item::

    response.output_item.added → conversation.item.added → response.content_part.added
    → (text)  response.output_text.delta (N times) → response.output_text.done
      (audio) (response.output_audio.delta, response.output_audio_transcript.delta) (N times)
              → response.output_audio.done → response.output_audio_transcript.done
    → response.content_part.done → response.output_item.done → conversation.item.done

A function call sends ``response.function_call_arguments.delta``/``.done`` instead of the
content part. An out-of-band item (``conversation: "none"``) never enters the
conversation, so it has no ``conversation.item.*`` events. Closing early (cancel, a
failure, ``max_output_tokens``) still sends every ``.done`` with what was streamed, the
item ``incomplete``.
"""

from __future__ import annotations

import asyncio
import base64
import json
import time
from typing import Any, Literal, Protocol

import numpy as np
import numpy.typing as npt

from ._items import Conversation, Modality, assistant_item, function_call_item, without_audio
from ._protocol import Event, event, new_id
from ._types import ToolCall, split_tokens

__all__ = ["OutputHost", "OutputItem", "sleep_until"]

ItemStatus = Literal["completed", "incomplete"]


class OutputHost(Protocol):
    """What an output item needs from its connection."""

    conversation: Conversation

    async def send(self, ev: Event) -> None: ...


async def sleep_until(deadline: float) -> None:
    """Sleep until ``time.perf_counter()`` reaches ``deadline`` (never a hair early)."""
    while (delay := deadline - time.perf_counter()) > 0:  # noqa: ASYNC110
        await asyncio.sleep(delay)


class OutputItem:
    """Streams one item of response ``response_id``; :meth:`close` ends it in any state."""

    def __init__(
        self,
        host: OutputHost,
        *,
        response_id: str,
        in_conversation: bool,
        interval: float,
        max_tokens: int | None,
    ) -> None:
        self.item_id = new_id("item")
        self.tokens: list[str] = []
        """Text (or function arguments) streamed so far."""
        self.audio: list[npt.NDArray[np.int16]] = []
        """Audio streamed so far."""
        self.first_at: float | None = None
        self.final: dict[str, Any] | None = None
        self._host = host
        self._response_id = response_id
        self._in_conversation = in_conversation
        self._interval = interval
        self._max_tokens = max_tokens
        self._kind: Literal["message", "function_call"] = "message"
        self._modality: Modality = "text"
        self._call: ToolCall | None = None
        self._call_id = ""
        self._part_open = self._open = False

    @property
    def text(self) -> str:
        """Everything streamed so far as one string."""
        return "".join(self.tokens)

    @property
    def audio_samples(self) -> int:
        """Audio samples streamed so far."""
        return sum(len(a) for a in self.audio)

    # -- streaming ---------------------------------------------------------------------------

    async def message(
        self, text: str, modality: Modality, pcm: npt.NDArray[np.int16] | None
    ) -> ItemStatus:
        """Stream a text or audio message, one token per interval; return its status."""
        self._modality = modality
        await self._open_item(
            assistant_item(self.item_id, status="in_progress", text=None, modality=modality)
        )
        part = {"type": "text", "text": ""} if modality == "text" else self._audio_part("")
        self._part_open = True
        await self._send_part("response.content_part.added", part=part)
        tokens = split_tokens(text)
        cuts = _audio_cuts(tokens, len(pcm)) if pcm is not None else []
        start = time.perf_counter()
        for i, token in enumerate(tokens):
            if self._max_tokens is not None and i >= self._max_tokens:
                await self.close("incomplete")
                return "incomplete"
            await sleep_until(start + i * self._interval)
            if self.first_at is None:
                self.first_at = time.perf_counter()
            if pcm is not None and cuts[i + 1] > cuts[i]:
                chunk = pcm[cuts[i] : cuts[i + 1]]
                self.audio.append(chunk)  # before the send: a cancel may land inside it
                delta = base64.b64encode(chunk.astype("<i2").tobytes()).decode()
                await self._send_part("response.output_audio.delta", delta=delta)
            self.tokens.append(token)
            kind = "response.output_text.delta" if modality == "text" else _TRANSCRIPT_DELTA
            await self._send_part(kind, delta=token)
        await self.close("completed")
        return "completed"

    async def call(self, call: ToolCall) -> ItemStatus:
        """Stream a function call: its arguments in one delta, then ``.done``."""
        self._kind, self._call = "function_call", call
        self._call_id = call.call_id or new_id("call")
        await self._open_item(
            function_call_item(
                self.item_id,
                call_id=self._call_id,
                name=call.name,
                arguments="",
                status="in_progress",
            )
        )
        args = json.dumps(dict(call.arguments))
        self.first_at = time.perf_counter()
        self.tokens.append(args)
        await self._send_item(
            "response.function_call_arguments.delta", call_id=self._call_id, delta=args
        )
        await self.close("completed")
        return "completed"

    # -- closing -----------------------------------------------------------------------------

    async def close(self, status: ItemStatus) -> None:
        """Send every pending ``.done`` event with what was streamed (idempotent)."""
        if not self._open:
            return
        self._open = False  # first: a cancel landing mid-close must not redo it
        if self._kind == "function_call":
            assert self._call is not None
            await self._send_item(
                "response.function_call_arguments.done",
                call_id=self._call_id,
                name=self._call.name,
                arguments=self.text,
            )
            final = function_call_item(
                self.item_id,
                call_id=self._call_id,
                name=self._call.name,
                arguments=self.text,
                status=status,
            )
        else:
            await self._close_part()
            final = assistant_item(
                self.item_id, status=status, text=self.text, modality=self._modality
            )
        self.final = final
        stored = self._host.conversation.get(self.item_id) if self._in_conversation else None
        if stored is not None:
            stored.clear()
            stored.update(final)
            if self.audio:
                pcm = np.concatenate(self.audio).astype("<i2").tobytes()
                self._host.conversation.keep_audio(self.item_id, pcm)
        await self._send_output("response.output_item.done", item=final)
        if stored is not None:
            prev = self._host.conversation.previous_id(self.item_id)
            done = event("conversation.item.done", previous_item_id=prev, item=without_audio(final))
            await self._host.send(done)

    async def _close_part(self) -> None:
        if not self._part_open:
            return
        self._part_open = False
        text = self.text
        if self._modality == "text":
            await self._send_part("response.output_text.done", text=text)
            part = {"type": "text", "text": text}
        else:
            await self._send_part("response.output_audio.done")
            await self._send_part("response.output_audio_transcript.done", transcript=text)
            part = self._audio_part(text)
        await self._send_part("response.content_part.done", part=part)

    # -- sending -----------------------------------------------------------------------------

    @staticmethod
    def _audio_part(transcript: str) -> dict[str, Any]:
        return {"type": "audio", "transcript": transcript}

    async def _open_item(self, item: dict[str, Any]) -> None:
        self._open = True
        await self._send_output("response.output_item.added", item=item)
        if self._in_conversation:
            prev = self._host.conversation.insert(dict(item), None)
            added = event("conversation.item.added", previous_item_id=prev, item=item)
            await self._host.send(added)

    async def _send_output(self, type_: str, **fields: Any) -> None:
        ids = {"response_id": self._response_id, "output_index": 0}
        await self._host.send(event(type_, **ids, **fields))

    async def _send_item(self, type_: str, **fields: Any) -> None:
        ids = {"response_id": self._response_id, "item_id": self.item_id, "output_index": 0}
        await self._host.send(event(type_, **ids, **fields))

    async def _send_part(self, type_: str, **fields: Any) -> None:
        await self._send_item(type_, content_index=0, **fields)


_TRANSCRIPT_DELTA = "response.output_audio_transcript.delta"


def _audio_cuts(tokens: list[str], samples: int) -> list[int]:
    """Sample offsets that share the audio out over the tokens by their length."""
    lengths = np.cumsum([0] + [len(t) for t in tokens])
    total = int(lengths[-1]) or 1
    return [round(samples * int(n) / total) for n in lengths]
