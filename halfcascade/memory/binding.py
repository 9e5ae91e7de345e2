"""Memory in a live session, without ever stalling a reply.

With server-side turn detection livekit never calls ``on_user_turn_completed`` and the
server starts each reply itself, so memory cannot be looked up "before the reply". Instead:

1. before the realtime session connects, :meth:`MemoryBinding.prepare` puts the user's
   memories after the persona prefix, within ``connect_budget``;
2. :meth:`MemoryBinding.attach` listens to the session's transcript: facts are extracted
   and written in the background, and between turns the memory block is refreshed with
   ``agent.update_instructions`` when a recall finishes within ``refresh_budget`` (stale
   is acceptable, late is not);
3. :meth:`MemoryBinding.tools` gives the model ``recall_memory``/``remember``/``forget``.

Nothing here runs on the text-to-speech path: every store call happens in the binding's
own tasks, which :meth:`MemoryBinding.aclose` cancels.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections import deque
from dataclasses import dataclass
from typing import Any

from livekit.agents import Agent, AgentSession, llm
from livekit.agents.voice.events import (
    AgentStateChangedEvent,
    ConversationItemAddedEvent,
    UserInputTranscribedEvent,
)

from ..errors import ConfigError, StoreError
from ._text import matches_about
from .extract import Extractor, RuleExtractor
from .render import render_instructions, split_instructions
from .tools import memory_tools
from .types import ForgetOp, Memory, MemoryOp, MemoryStore, check_user_id
from .writer import WriteQueue

__all__ = ["MemoryBinding", "MemoryConfig", "attach", "prepare_instructions"]

logger = logging.getLogger("halfcascade.memory")

_RULES = RuleExtractor()


@dataclass(frozen=True, slots=True, kw_only=True)
class MemoryConfig:
    """Budgets (seconds) and sizes for memory in a session.

    Attributes:
        recall_limit: most memories in the instruction block.
        connect_budget: recall time allowed before the session connects.
        refresh_budget: recall time allowed for a refresh between turns.
        tool_budget: time each memory tool may take.
        max_block_chars: size cap of the memory block.
        context_turns: recent user utterances that form the refresh query.
        extract_timeout: time the optional LLM extractor may take per utterance.
        drain_timeout: time given to pending writes when the binding closes.
    """

    recall_limit: int = 8
    connect_budget: float = 0.5
    refresh_budget: float = 0.25
    tool_budget: float = 1.0
    max_block_chars: int = 2000
    context_turns: int = 2
    extract_timeout: float = 15.0
    drain_timeout: float = 5.0

    def __post_init__(self) -> None:
        budgets = (self.connect_budget, self.refresh_budget, self.tool_budget)
        if min(budgets) <= 0 or self.recall_limit < 1 or self.context_turns < 1:
            raise ConfigError("MemoryConfig: budgets must be > 0, recall_limit/context_turns >= 1")


async def prepare_instructions(
    prefix: str,
    store: MemoryStore,
    user_id: str,
    *,
    budget: float = 0.5,
    limit: int = 8,
    max_chars: int = 2000,
) -> str:
    """``prefix`` plus the user's memory block, recalled within ``budget`` seconds.

    Call it before building the agent, so the memories are in the instructions the realtime
    session connects with. Over budget or with the store down, it returns ``prefix`` alone.
    """
    memories = await _recall_within(store, user_id, "", limit=limit, budget=budget)
    return render_instructions(prefix, memories or [], max_chars=max_chars)


async def _recall_within(
    store: MemoryStore, user_id: str, query: str, *, limit: int, budget: float
) -> list[Memory] | None:
    """Recall within ``budget``; ``None`` when the store is too slow or unavailable."""
    try:
        async with asyncio.timeout(budget):
            return await store.recall(user_id, query, limit=limit)
    except (TimeoutError, StoreError) as exc:
        logger.warning("memory recall skipped", extra={"reason": type(exc).__name__})
        return None


class MemoryBinding:
    """One user's memory in one session: snapshot, background refresh, tools, extraction.

    Args:
        store: the memory store.
        user_id: whose memories; every read and write is scoped to it.
        config: budgets and sizes.
        writer: a shared write queue; by default the binding owns one on ``store``.
        extractor: facts from each user utterance (rules by default; ``None`` = off).
        llm_extractor: an optional second extractor run off the critical path, e.g.
            ``LLMExtractor(complete)``.

    ::

        memory = MemoryBinding(store, user_id="u1")
        agent = halfcascade.Agent(instructions=await memory.prepare(prefix), style=None,
                                  tools=memory.tools())
        await session.start(agent)
        async with memory.attach(session, agent):
            ...
    """

    def __init__(
        self,
        store: MemoryStore,
        *,
        user_id: str,
        config: MemoryConfig | None = None,
        writer: WriteQueue | None = None,
        extractor: Extractor | None = _RULES,
        llm_extractor: Extractor | None = None,
    ) -> None:
        self._store = store
        self._user_id = check_user_id(user_id)
        self._cfg = config or MemoryConfig()
        self._owns_writer = writer is None
        self._writer = writer or WriteQueue(store)
        self._extractor = extractor
        self._llm_extractor = llm_extractor
        self._prefix: str | None = None
        self._sent: str | None = None
        self._store_view: list[Memory] = []
        self._overlay: dict[str, Memory] = {}
        self._forgotten: list[str] = []
        self._heard: deque[str] = deque(maxlen=8)
        self._recent: deque[str] = deque(maxlen=self._cfg.context_turns)
        self._inbox: asyncio.Queue[str] = asyncio.Queue()
        self._llm_inbox: asyncio.Queue[str] = asyncio.Queue(maxsize=8)
        self._refresh_wanted = asyncio.Event()
        self._tasks: list[asyncio.Task[None]] = []
        self._session: AgentSession[Any] | None = None
        self._agent: Agent | None = None
        self._writer.subscribe(self._on_op)

    @property
    def user_id(self) -> str:
        """Whose memories this binding reads and writes."""
        return self._user_id

    @property
    def writer(self) -> WriteQueue:
        """The write queue (``await binding.writer.flush()`` waits for writes to land)."""
        return self._writer

    async def prepare(self, prefix: str | None = None) -> str:
        """Recall the user's memories within ``connect_budget``, before connecting.

        Returns ``prefix`` followed by the memory block (only the block without a prefix);
        ``halfcascade.Agent(memory=binding)`` composes the same text itself.
        """
        await self._writer.start()  # writes spooled by an earlier run land again
        found = await _recall_within(
            self._store,
            self._user_id,
            "",
            limit=self._cfg.recall_limit,
            budget=self._cfg.connect_budget,
        )
        self._store_view = found or []
        return self.compose(prefix or "")

    def compose(self, prefix: str) -> str:
        """``prefix`` then the memory block as recalled so far; the agent's instructions."""
        self._prefix = prefix
        self._sent = self._render()
        return self._sent

    def tools(self) -> list[llm.FunctionTool[Any, Any]]:
        """``recall_memory``, ``remember`` and ``forget`` for ``Agent(tools=...)``."""
        return memory_tools(
            self._store, self._user_id, writer=self._writer, budget=self._cfg.tool_budget
        )

    def attach(self, session: AgentSession[Any], agent: Agent) -> MemoryBinding:
        """Follow ``session``'s transcript and keep ``agent``'s memory block fresh.

        Returns the binding, an async context manager that closes it.
        """
        if self._session is not None:
            raise ConfigError("MemoryBinding.attach() was already called")
        self._session, self._agent = session, agent
        if self._prefix is None:
            current = agent.instructions
            if not isinstance(current, str):  # livekit Instructions: the spoken variant
                current = current.render(modality="audio")
            self._prefix, _ = split_instructions(current)
            self._sent = current
        session.on("user_input_transcribed", self._on_transcribed)
        session.on("conversation_item_added", self._on_item)
        session.on("agent_state_changed", self._on_state)
        self._tasks = [
            asyncio.create_task(self._extract_loop(), name="halfcascade.memory.extract"),
            asyncio.create_task(self._refresh_loop(), name="halfcascade.memory.refresh"),
        ]
        if self._llm_extractor is not None:
            self._tasks.append(
                asyncio.create_task(self._llm_loop(), name="halfcascade.memory.llm_extract")
            )
        return self

    async def __aenter__(self) -> MemoryBinding:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.aclose()

    async def refresh(self) -> bool:
        """Re-recall within ``refresh_budget`` and update the agent if the block changed.

        Returns whether instructions were sent. A slow store keeps the previous block.
        """
        cfg = self._cfg
        query = " ".join(self._recent)
        calls = [self._store.recall(self._user_id, "", limit=cfg.recall_limit)]
        if query:
            calls.insert(0, self._store.recall(self._user_id, query, limit=cfg.recall_limit))
        try:
            async with asyncio.timeout(cfg.refresh_budget):
                found = await asyncio.gather(*calls)
            self._store_view = _dedupe(m for batch in found for m in batch)
        except (TimeoutError, StoreError) as exc:
            logger.info(
                "memory refresh kept the previous block", extra={"reason": type(exc).__name__}
            )
        return await self._send(self._render())

    async def aclose(self) -> None:
        """Stop listening, extract what was heard last, let writes drain, cancel tasks."""
        if self._session is not None:
            self._session.off("user_input_transcribed", self._on_transcribed)
            self._session.off("conversation_item_added", self._on_item)
            self._session.off("agent_state_changed", self._on_state)
        for task in self._tasks:
            task.cancel()
        for task in self._tasks:
            with contextlib.suppress(asyncio.CancelledError):
                await task
        self._tasks = []
        while not self._inbox.empty():  # words heard just before close still count
            await self._extract(self._inbox.get_nowait())
        self._writer.unsubscribe(self._on_op)
        if self._owns_writer:
            await self._writer.aclose(drain_timeout=self._cfg.drain_timeout)

    # -- session events (sync callbacks: only queue work) --------------------------------

    def _on_transcribed(self, ev: UserInputTranscribedEvent) -> None:
        if ev.is_final:
            self._hear(ev.transcript)

    def _on_item(self, ev: ConversationItemAddedEvent) -> None:
        item = ev.item
        if isinstance(item, llm.ChatMessage) and item.role == "user" and item.text_content:
            self._hear(item.text_content)

    def _on_state(self, ev: AgentStateChangedEvent) -> None:
        if ev.new_state == "listening":
            self._refresh_wanted.set()

    def _hear(self, text: str) -> None:
        text = " ".join(text.split())
        if not text or text in self._heard:  # the transcript event and the chat item
            return
        self._heard.append(text)
        self._recent.append(text)
        self._inbox.put_nowait(text)

    def _on_op(self, user_id: str, op: MemoryOp) -> None:
        if user_id != self._user_id:
            return
        if isinstance(op, ForgetOp):
            self._forgotten.append(op.about)
            for slot, memory in list(self._overlay.items()):
                if matches_about(op.about, [memory.text, memory.key or ""]):
                    del self._overlay[slot]
        else:
            self._overlay[op.memory.key or op.memory.id] = op.memory
        self._refresh_wanted.set()

    # -- background work ------------------------------------------------------------------

    async def _extract_loop(self) -> None:
        while True:
            text = await self._inbox.get()
            await self._extract(text)
            if self._llm_extractor is not None:
                try:
                    self._llm_inbox.put_nowait(text)
                except asyncio.QueueFull:
                    logger.warning("memory LLM extractor is behind; utterance skipped")
            self._refresh_wanted.set()

    async def _extract(self, text: str) -> None:
        logger.debug("memory: extracting", extra={"lk.pii.utterance": text})
        if self._extractor is None:
            return
        try:
            ops = await self._extractor.extract(text)
            for op in ops:
                await self._writer.submit(self._user_id, op)
        except (StoreError, ConfigError) as exc:
            logger.warning("memory extraction failed", extra={"reason": type(exc).__name__})

    async def _llm_loop(self) -> None:
        assert self._llm_extractor is not None
        while True:
            text = await self._llm_inbox.get()
            try:
                async with asyncio.timeout(self._cfg.extract_timeout):
                    ops = await self._llm_extractor.extract(text)
                for op in ops:
                    await self._writer.submit(self._user_id, op)
            except Exception as exc:  # a flaky extractor must not end memory for the session
                logger.warning("memory LLM extraction failed", extra={"reason": type(exc).__name__})

    async def _refresh_loop(self) -> None:
        while True:
            await self._refresh_wanted.wait()
            self._refresh_wanted.clear()
            await self.refresh()

    def _render(self) -> str:
        memories = self._compose()
        return render_instructions(
            self._prefix or "", memories, max_chars=self._cfg.max_block_chars
        )

    def _compose(self) -> list[Memory]:
        stored = [
            m
            for m in self._store_view
            if not any(matches_about(a, [m.text, m.key or ""]) for a in self._forgotten)
        ]
        newest_first = sorted(self._overlay.values(), key=lambda m: -m.updated_at)
        chosen = _dedupe([*newest_first, *stored])[: self._cfg.recall_limit]
        # a stable order keeps the block byte-identical while nothing changes
        return sorted(chosen, key=lambda m: (m.key is None, m.key or "", m.text))

    async def _send(self, text: str) -> bool:
        if text == self._sent or self._agent is None:
            return False
        try:
            async with asyncio.timeout(1.0):
                await self._agent.update_instructions(text)
        except (TimeoutError, llm.RealtimeError, RuntimeError) as exc:
            logger.warning("memory block not sent", extra={"reason": type(exc).__name__})
            return False
        self._sent = text
        logger.debug("memory block sent", extra={"lk.pii.instructions": text})
        return True


def _dedupe(memories: Any) -> list[Memory]:
    seen: set[str] = set()
    out: list[Memory] = []
    for m in memories:
        slot = m.key or m.id
        if slot not in seen and m.id not in seen:
            seen.update((slot, m.id))
            out.append(m)
    return out


def attach(
    session: AgentSession[Any], agent: Agent, *, store: MemoryStore, user_id: str, **kwargs: Any
) -> MemoryBinding:
    """A :class:`MemoryBinding` attached to ``session`` and ``agent`` (``async with`` it)."""
    return MemoryBinding(store, user_id=user_id, **kwargs).attach(session, agent)
