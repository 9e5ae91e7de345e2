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

``PostgresMemoryStore`` (``pip install asyncpg``) shares memories between workers; both
stores rank alike (``Ranking``) and take batches (``remember_many``). ``StaticEmbedder``
(``pip install 'halfcascade[embeddings]'``) adds optional semantic similarity.
"""

from __future__ import annotations

from .binding import MemoryBinding, MemoryConfig, attach, prepare_instructions
from .embed import StaticEmbedder
from .extract import Extractor, LLMExtractor, RuleExtractor
from .postgres import PostgresMemoryStore
from .rank import Ranking
from .render import (
    MEMORY_HEADER,
    quote_memory,
    render_instructions,
    render_memory_block,
    split_instructions,
)
from .sqlite import SQLiteMemoryStore
from .tools import memory_tools
from .types import Embedder, ForgetOp, Memory, MemoryOp, MemoryStore, Recalled, RememberOp
from .writer import RetryPolicy, WriteQueue, WriteStatus, WriteTicket, forget_about

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
    "Ranking",
    "Recalled",
    "RememberOp",
    "RetryPolicy",
    "RuleExtractor",
    "SQLiteMemoryStore",
    "StaticEmbedder",
    "WriteQueue",
    "WriteStatus",
    "WriteTicket",
    "attach",
    "forget_about",
    "memory_tools",
    "prepare_instructions",
    "quote_memory",
    "render_instructions",
    "render_memory_block",
    "split_instructions",
]
