"""The conversation a realtime connection keeps: ordered items and pending transcripts."""

from __future__ import annotations

import asyncio
import contextlib
import json
from typing import Any

from ._protocol import new_id

__all__ = [
    "Conversation",
    "assistant_item",
    "function_call_item",
    "item_text",
    "simple_item",
    "user_audio_item",
]


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


def assistant_item(item_id: str, *, status: str, text: str | None) -> dict[str, Any]:
    """An assistant text message; ``text=None`` while nothing is generated yet."""
    content = [] if text is None else [{"type": "output_text", "text": text}]
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


def item_text(item: dict[str, Any]) -> str:
    """The readable text of a message item (text parts and audio transcripts)."""
    parts = []
    for part in item.get("content") or []:
        if isinstance(part, dict):
            text = part.get("text") or part.get("transcript")
            if isinstance(text, str):
                parts.append(text)
    return "".join(parts)


def simple_item(item: dict[str, Any]) -> dict[str, Any]:
    """An item reduced to what a reply callable needs."""
    kind = item.get("type")
    if kind == "message":
        return {"id": item["id"], "type": kind, "role": item.get("role"), "text": item_text(item)}
    if kind == "function_call":
        args = item.get("arguments") or "{}"
        with contextlib.suppress(ValueError, TypeError):
            args = json.loads(args)
        return {
            "id": item["id"],
            "type": kind,
            "name": item.get("name"),
            "call_id": item.get("call_id"),
            "arguments": args,
        }
    if kind == "function_call_output":
        return {
            "id": item["id"],
            "type": kind,
            "call_id": item.get("call_id"),
            "output": item.get("output"),
        }
    return {"id": item.get("id"), "type": kind}


class Conversation:
    """Ordered conversation items, as the service keeps them per connection."""

    def __init__(self) -> None:
        self.items: list[dict[str, Any]] = []
        self._transcripts: dict[str, asyncio.Future[str]] = {}

    @property
    def last_id(self) -> str | None:
        """Id of the last item, ``None`` when empty."""
        return self.items[-1]["id"] if self.items else None

    def get(self, item_id: str) -> dict[str, Any] | None:
        """The item with this id, if present."""
        return next((it for it in self.items if it.get("id") == item_id), None)

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
        return len(self.items) != before

    def expect_transcript(self, item_id: str) -> None:
        """Mark a user audio item as being transcribed."""
        self._transcripts[item_id] = asyncio.get_running_loop().create_future()

    def set_transcript(self, item_id: str, transcript: str) -> None:
        """Store a finished transcription in the item and wake whoever waits for it."""
        if (item := self.get(item_id)) is not None:
            for part in item.get("content") or []:
                if isinstance(part, dict) and part.get("type") == "input_audio":
                    part["transcript"] = transcript
        fut = self._transcripts.get(item_id)
        if fut is not None and not fut.done():
            fut.set_result(transcript)

    async def latest_user_text(self) -> str:
        """Text of the last user message, once its transcription (if pending) is done.

        Bound the wait with ``asyncio.timeout``; the transcript stays empty when it fires.
        """
        user = next((it for it in reversed(self.items) if it.get("role") == "user"), None)
        if user is None:
            return ""
        fut = self._transcripts.get(user["id"])
        if fut is not None and not fut.done():
            await asyncio.wait([fut])  # never raises the future's outcome
        return item_text(user)

    def cancel_pending(self) -> None:
        """Release anyone still waiting for a transcript (connection closing)."""
        for fut in self._transcripts.values():
            if not fut.done():
                fut.cancel()
