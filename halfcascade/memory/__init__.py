"""Long-term memory for half-cascade companions, injected without stalling a reply.

::

    from halfcascade.memory import MemoryBinding, SQLiteMemoryStore

    store = SQLiteMemoryStore("memories.db")
    memory = MemoryBinding(store, user_id="user-42")
    agent = halfcascade.Agent(
        instructions=await memory.prepare(render_persona(persona)),  # before connecting
        style=None,
        tools=memory.tools(),                                       # recall/remember/forget
    )
    await session.start(agent)
    async with memory.attach(session, agent):                       # extract + refresh
        ...

``PostgresMemoryStore`` (``pip install asyncpg``) shares memories between workers.
"""

from __future__ import annotations

from .binding import MemoryBinding, MemoryConfig, attach, prepare_instructions
from .extract import Extractor, LLMExtractor, RuleExtractor
from .postgres import PostgresMemoryStore
from .render import (
    MEMORY_HEADER,
    quote_memory,
    render_instructions,
    render_memory_block,
    split_instructions,
)
from .sqlite import SQLiteMemoryStore
from .tools import memory_tools
from .types import Embedder, ForgetOp, Memory, MemoryOp, MemoryStore, RememberOp
from .writer import RetryPolicy, WriteQueue, forget_about

__all__ = [
    "MEMORY_HEADER",
    "Embedder",
    "Extractor",
    "ForgetOp",
    "LLMExtractor",
    "Memory",
    "MemoryBinding",
    "MemoryConfig",
    "MemoryOp",
    "MemoryStore",
    "PostgresMemoryStore",
    "RememberOp",
    "RetryPolicy",
    "RuleExtractor",
    "SQLiteMemoryStore",
    "WriteQueue",
    "attach",
    "forget_about",
    "memory_tools",
    "prepare_instructions",
    "quote_memory",
    "render_instructions",
    "render_memory_block",
    "split_instructions",
]
