"""The conversation a realtime connection keeps: ordered items, their audio, transcripts."""

from __future__ import annotations

import asyncio
import base64
import contextlib
import copy
import json
from collections.abc import Sequence
from typing import Any, Literal

from ._protocol import new_id

__all__ = [
    "Conversation",
    "Modality",
    "assistant_item",
    "function_call_item",
    "item_text",
    "simple_item",
    "user_audio_item",
    "without_audio",
]

Modality = Literal["text", "audio"]


def user_audio_item(item_id: str) -> dict[str, Any]:
    """The user message a committed audio buffer becomes (transcript filled in later)."""
    return {
        "id": item_id,
        "object": "realtime.item",
        "type": "message",
        "status": "completed",
        "role": "user",
        "content": [{"type": "input_audio", "transcript": None}],
    }


def assistant_item(
    item_id: str, *, status: str, text: str | None, modality: Modality = "text"
) -> dict[str, Any]:
    """An assistant message; ``text=None`` while nothing is generated yet.

    A text reply holds an ``output_text`` part; an audio reply an ``output_audio`` part
    with its transcript (the audio itself is never repeated in item events).
    """
    content: list[dict[str, Any]] = []
    if text is not None:
        part = "output_text" if modality == "text" else "output_audio"
        content = [{"type": part, ("text" if modality == "text" else "transcript"): text}]
    return {
        "id": item_id,
        "object": "realtime.item",
        "type": "message",
        "status": status,
        "role": "assistant",
        "content": content,
    }


def function_call_item(
    item_id: str, *, call_id: str, name: str, arguments: str, status: str
) -> dict[str, Any]:
    """A function call output item."""
    return {
        "id": item_id,
        "object": "realtime.item",
        "type": "function_call",
        "status": status,
        "name": name,
        "call_id": call_id,
        "arguments": arguments,
    }


def without_audio(item: dict[str, Any]) -> dict[str, Any]:
    """A copy of an item for ``conversation.item.added``/``.done``: no base64 audio."""
    out = copy.deepcopy(item)
    for part in out.get("content") or []:
        if isinstance(part, dict):
            part.pop("audio", None)
    return out


def item_text(item: dict[str, Any]) -> str:
    """The readable text of a message item (text parts and audio transcripts)."""
    parts = []
    for part in item.get("content") or []:
        if isinstance(part, dict):
            text = part.get("text") or part.get("transcript")
            if isinstance(text, str):
                parts.append(text)
    return "".join(parts)


def simple_item(item: dict[str, Any], text: str | None = None) -> dict[str, Any]:
    """An item reduced to what a reply callable needs (``text`` overrides a message's)."""
    kind = item.get("type")
    if kind == "message":
        words = item_text(item) if text is None else text
        return {"id": item.get("id"), "type": kind, "role": item.get("role"), "text": words}
    if kind == "function_call":
        args = item.get("arguments") or "{}"
        with contextlib.suppress(ValueError, TypeError):
            args = json.loads(args)
        return {
            "id": item.get("id"),
            "type": kind,
            "name": item.get("name"),
            "call_id": item.get("call_id"),
            "arguments": args,
        }
    if kind == "function_call_output":
        return {
            "id": item.get("id"),
            "type": kind,
            "call_id": item.get("call_id"),
            "output": item.get("output"),
        }
    return {"id": item.get("id"), "type": kind}


class Conversation:
    """Ordered conversation items, as the service keeps them per connection.

    Besides the items it keeps what the item events leave out: the audio of each
    audio item (for ``conversation.item.retrieve`` and truncation) and the words the
    stand-in heard in user audio, which reply callables see even when the session's
    input transcription is off (the real model hears the audio either way).
    """

    def __init__(self) -> None:
        self.id = new_id("conv")
        self.items: list[dict[str, Any]] = []
        self._audio: dict[str, bytes] = {}
        self._heard: dict[str, asyncio.Future[str]] = {}

    @property
    def last_id(self) -> str | None:
        """Id of the last item, ``None`` when empty."""
        return self.items[-1]["id"] if self.items else None

    def get(self, item_id: str) -> dict[str, Any] | None:
        """The item with this id, if present."""
        return next((it for it in self.items if it.get("id") == item_id), None)

    def previous_id(self, item_id: str) -> str | None:
        """Id of the item before this one (``None`` for the first)."""
        ids = [it["id"] for it in self.items]
        index = ids.index(item_id)
        return ids[index - 1] if index > 0 else None

    def insert(self, item: dict[str, Any], previous_item_id: str | None) -> str | None:
        """Insert after ``previous_item_id`` (``"root"``: first; ``None``: last).

        Returns the id of the item now before it. Raises ``KeyError`` for an unknown
        previous item and ``ValueError`` for a duplicate id.
        """
        if not item.get("id"):
            item["id"] = new_id("item")
        if self.get(item["id"]) is not None:
            raise ValueError(item["id"])
        if previous_item_id is None:
            index = len(self.items)
        elif previous_item_id == "root":
            index = 0
        else:
            found = [i for i, it in enumerate(self.items) if it.get("id") == previous_item_id]
            if not found:
                raise KeyError(previous_item_id)
            index = found[0] + 1
        self.items.insert(index, item)
        return self.items[index - 1]["id"] if index > 0 else None

    def delete(self, item_id: str) -> bool:
        """Remove an item; ``False`` if it was not there."""
        before = len(self.items)
        self.items = [it for it in self.items if it.get("id") != item_id]
        self._audio.pop(item_id, None)
        return len(self.items) != before

    # -- audio -------------------------------------------------------------------------------

    def keep_audio(self, item_id: str, pcm: bytes) -> None:
        """Remember an audio item's PCM16 (what ``conversation.item.retrieve`` returns)."""
        self._audio[item_id] = pcm

    def audio_of(self, item_id: str) -> bytes | None:
        """The PCM16 of an audio item, if it has audio."""
        return self._audio.get(item_id)

    def retrieved(self, item_id: str) -> dict[str, Any] | None:
        """The item as ``conversation.item.retrieved`` shows it: with its base64 audio."""
        item = self.get(item_id)
        if item is None:
            return None
        out = copy.deepcopy(item)
        pcm = self._audio.get(item_id)
        for part in out.get("content") or []:
            if pcm is not None and part.get("type") in ("input_audio", "output_audio"):
                part["audio"] = base64.b64encode(pcm).decode()
        return out

    # -- what the stand-in heard -------------------------------------------------------------

    def expect_transcript(self, item_id: str) -> None:
        """Mark a user audio item as being transcribed."""
        self._heard[item_id] = asyncio.get_running_loop().create_future()

    def set_transcript(self, item_id: str, transcript: str, *, visible: bool) -> None:
        """Store what was heard; write it into the item only when transcription is on."""
        if visible and (item := self.get(item_id)) is not None:
            for part in item.get("content") or []:
                if isinstance(part, dict) and part.get("type") == "input_audio":
                    part["transcript"] = transcript
        fut = self._heard.get(item_id)
        if fut is not None and not fut.done():
            fut.set_result(transcript)

    async def heard_text(self, item: dict[str, Any]) -> str:
        """A message's words: its text, or what was heard once its transcription is done.

        Bound the wait with ``asyncio.timeout``; the words stay empty when it fires.
        """
        fut = self._heard.get(str(item.get("id")))
        if fut is None:
            return item_text(item)
        await asyncio.wait([fut])  # never raises the future's outcome
        return fut.result() if not fut.cancelled() and fut.exception() is None else ""

    async def simple_items(self, items: Sequence[dict[str, Any]]) -> list[dict[str, Any]]:
        """``items`` as reply callables see them, with heard words filled in."""
        out = []
        for item in items:
            heard = None
            if item.get("type") == "message" and str(item.get("id")) in self._heard:
                heard = await self.heard_text(item)
            out.append(simple_item(item, heard))
        return out

    def cancel_pending(self) -> None:
        """Release anyone still waiting for a transcript (connection closing)."""
        for fut in self._heard.values():
            if not fut.done():
                fut.cancel()
