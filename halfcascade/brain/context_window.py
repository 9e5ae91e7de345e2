"""``ContextWindow``: keep the realtime conversation to its latest items, between turns.

The realtime service keeps the whole conversation and reads all of it for every reply (a
user's audio items included, billed as audio tokens each time), and livekit mirrors it
twice in memory (the agent's chat context and the plugin's copy of the server's). A
companion session that lasts an hour grows all three for good. Long-term memory carries
what matters beyond the window (:mod:`halfcascade.memory`).

Once the conversation exceeds ``max_items`` by a quarter, the oldest items are deleted —
locally and on the service, through livekit's ``Agent.update_chat_ctx`` (which sends
``conversation.item.delete`` for each) — when the agent has just finished speaking and only
while the local conversation holds every item the service has: an item the service made
that livekit has not mirrored yet (the user's words, committed but not yet transcribed)
would otherwise be deleted with the old ones. Nothing waits for it: a trim that fails or
cannot run yet is tried again after the next reply. ``session.history`` (the transcript
livekit reports) is left whole.
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any

from livekit.agents import AgentSession, llm
from livekit.agents.voice.events import AgentStateChangedEvent

__all__ = ["ContextWindow"]

logger = logging.getLogger("halfcascade.brain")


class ContextWindow:
    """Trim ``session``'s realtime conversation to its latest ``max_items`` items."""

    def __init__(self, session: AgentSession[Any], max_items: int) -> None:
        if max_items < 2:
            raise ValueError(f"ContextWindow needs max_items >= 2, got {max_items}")
        self.max_items = max_items
        self.trims = 0
        """Trims done so far."""
        self._session = session
        self._task: asyncio.Task[None] | None = None
        session.on("agent_state_changed", self._on_state)
        session.on("close", lambda _ev: self._cancel())

    def _on_state(self, ev: AgentStateChangedEvent) -> None:
        if ev.new_state != "listening" or (self._task is not None and not self._task.done()):
            return
        self._task = asyncio.create_task(self._trim(), name="halfcascade.context_window")

    async def _trim(self) -> None:
        # everything up to update_chat_ctx's send runs in this one step of the event loop,
        # so the sync check below still holds when livekit diffs the conversation
        try:
            agent = self._session.current_agent
            rt = agent.realtime_llm_session
        except RuntimeError:  # no agent, or it has no realtime session (closing)
            return
        ctx = agent.chat_ctx.copy()
        if _conversational(ctx) <= self.max_items + self.max_items // 4:
            return
        if self._session.user_state == "speaking" or self._session.agent_state != "listening":
            return
        local = {item.id for item in ctx.items}
        if any(item.id not in local for item in rt.chat_ctx.items):
            logger.debug("context window: conversation not mirrored yet, trimming later")
            return
        ctx.truncate(max_items=self.max_items)
        try:
            await agent.update_chat_ctx(ctx)
        except Exception as e:  # a background task: nothing else would see it
            logger.warning(
                "context window: the service did not take the trim; trying after the next reply",
                extra={"error": type(e).__name__},
            )
            return
        self.trims += 1

    def _cancel(self) -> None:
        if self._task is not None:
            self._task.cancel()


def _conversational(ctx: llm.ChatContext) -> int:
    return sum(
        1
        for item in ctx.items
        if not (item.type == "message" and item.role in ("system", "developer"))
    )
