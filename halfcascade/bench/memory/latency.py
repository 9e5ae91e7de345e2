"""Memory latency: recall time by store size, and time to first audio with memory on/off.

::

    halfcascade bench memory --sizes 1000 10000 100000

1. **Recall**: one user with N synthetic memories (Zipf-distributed words, so some terms are
   common and most are rare) on SQLite and on a private PostgreSQL
   (:class:`~halfcascade.testing.postgres.TemporaryPostgres`); p50/p95 of ``recall`` for
   keyword queries and for the query-less snapshot used before connecting.
2. **TTFA**: the same scripted spoken conversation through two sessions against the local
   realtime and ElevenLabs servers, one with memory attached (snapshot, tools, extraction,
   background refresh on a store of ``--ttfa-memories``), one without, turns interleaved.
"""

from __future__ import annotations

import asyncio
import contextlib
import random
import statistics
import tempfile
import time
import uuid
from collections.abc import AsyncIterator, Callable, Sequence
from pathlib import Path
from typing import Any

from ...memory import Memory, MemoryBinding, MemoryStore, PostgresMemoryStore, SQLiteMemoryStore

__all__ = ["percentiles", "print_table", "recall_bench", "ttfa_bench"]

_QUERIES = 200
_LIMIT = 8
_SCRIPT = (
    "My dog is called Max.",
    "I love jazz music.",
    "What's my dog's name?",
    "I live in Porto.",
    "My favourite food is pizza.",
    "Tell me something fun.",
)


def _vocabulary(rng: random.Random, n: int = 5000) -> list[str]:
    syllables = [c + v for c in "bdfgklmnprstvz" for v in "aeiou"]
    words: set[str] = set()
    while len(words) < n:
        words.add("".join(rng.choice(syllables) for _ in range(rng.randint(2, 4))))
    return sorted(words)


class _Corpus:
    """Deterministic synthetic memories and queries with Zipf-like word frequencies."""

    def __init__(self, seed: int = 7) -> None:
        self._rng = random.Random(seed)
        self._words = _vocabulary(self._rng)
        self._weights = [1.0 / (rank + 1) for rank in range(len(self._words))]

    def _pick(self, k: int) -> list[str]:
        return self._rng.choices(self._words, weights=self._weights, k=k)

    def memories(self, n: int) -> list[tuple[str, str, str, float]]:
        rows = []
        for _ in range(n):
            text = "The user's " + " ".join(self._pick(self._rng.randint(5, 10))) + "."
            rows.append((uuid.uuid4().hex, "fact", text, time.time()))
        return rows

    def queries(self, n: int) -> list[str]:
        return ["what about my " + " ".join(self._pick(self._rng.randint(2, 4))) for _ in range(n)]


async def _seed(store: Any, user_id: str, rows: list[tuple[str, str, str, float]]) -> None:
    """Write ``rows`` through the public API, in batches."""
    memories = [Memory(id=mid, kind=kind, text=text, updated_at=at) for mid, kind, text, at in rows]  # type: ignore[arg-type]
    for i in range(0, len(memories), 5000):
        await store.remember_many(user_id, memories[i : i + 5000])


def percentiles(samples: Sequence[float]) -> tuple[float, float]:
    cuts = statistics.quantiles(samples, n=20, method="inclusive")
    return statistics.median(samples), cuts[18]


async def _time_recalls(store: MemoryStore, user_id: str, queries: list[str]) -> list[float]:
    out = []
    for query in queries:
        start = time.perf_counter()
        await store.recall(user_id, query, limit=_LIMIT)
        out.append(time.perf_counter() - start)
    return out


async def recall_bench(
    sizes: Sequence[int], *, postgres: bool = True, queries: int = _QUERIES
) -> list[dict[str, Any]]:
    """Recall p50/p95 (ms) per store and size; one row per (store, size, query kind)."""
    corpus = _Corpus()
    qs = corpus.queries(queries)
    rows: list[dict[str, Any]] = []
    async with _stores(postgres) as stores:
        have = 0
        for size in sorted(sizes):
            batch = corpus.memories(size - have)
            have = size
            for name, store, seed in stores:
                await seed(batch)
                await store.recall("bench", "warm up", limit=_LIMIT)
                for kind, query_set in (("keywords", qs), ("snapshot", [""] * len(qs))):
                    p50, p95 = percentiles(await _time_recalls(store, "bench", query_set))
                    rows.append(
                        {
                            "store": name,
                            "memories": size,
                            "query": kind,
                            "p50_ms": p50 * 1000,
                            "p95_ms": p95 * 1000,
                        }
                    )
    return rows


_Seeder = Callable[[list[tuple[str, str, str, float]]], Any]


@contextlib.asynccontextmanager
async def _stores(postgres: bool) -> AsyncIterator[list[tuple[str, MemoryStore, _Seeder]]]:
    with tempfile.TemporaryDirectory(prefix="halfcascade-bench-") as tmp:
        sqlite_store = SQLiteMemoryStore(Path(tmp) / "memories.db")

        async def seed_sqlite(batch: list[tuple[str, str, str, float]]) -> None:
            await _seed(sqlite_store, "bench", batch)

        stores: list[tuple[str, MemoryStore, _Seeder]] = [("sqlite", sqlite_store, seed_sqlite)]
        async with contextlib.AsyncExitStack() as stack:
            stack.push_async_callback(sqlite_store.aclose)
            if postgres:
                from ...testing.postgres import TemporaryPostgres

                pg = await stack.enter_async_context(TemporaryPostgres())
                pg_store = PostgresMemoryStore(pg.dsn, table="bench_memories")
                stack.push_async_callback(pg_store.aclose)

                async def seed_pg(batch: list[tuple[str, str, str, float]]) -> None:
                    await _seed(pg_store, "bench", batch)

                stores.append(("postgres", pg_store, seed_pg))
            yield stores


async def ttfa_bench(*, rounds: int = 2, memories: int = 10000) -> dict[str, list[float]]:
    """TTFA samples (seconds) of the scripted conversation with memory ``on`` and ``off``."""
    from livekit.agents.utils import http_context

    from ...testing.elevenlabs import ElevenLabsServer
    from ...testing.openai_realtime import RealtimeServer
    from ...testing.transcribe import ScriptedTranscriber
    from ...testing.voices import synthetic_voice

    transcriber = ScriptedTranscriber()
    samples: dict[str, list[float]] = {"off": [], "on": []}
    with tempfile.TemporaryDirectory(prefix="halfcascade-bench-") as tmp:
        store = SQLiteMemoryStore(Path(tmp) / "memories.db")
        await _seed(store, "bench", _Corpus().memories(memories))
        async with (
            http_context.open(),
            RealtimeServer(reply="Woof! Okay, got it!", ttft=0.3, transcriber=transcriber) as rt,
            ElevenLabsServer(ttfb=0.15, voice=synthetic_voice) as tts,
            _voice_session(rt.base_url, tts.base_url, None) as off,
            _voice_session(rt.base_url, tts.base_url, store) as on,
        ):
            for _ in range(rounds):
                for text in _SCRIPT:
                    for name, session in (("off", off), ("on", on)):
                        transcriber.push(text)
                        samples[name].append(await session(synthetic_voice(text, 24000)))
        await store.aclose()
    return samples


@contextlib.asynccontextmanager
async def _voice_session(
    realtime_url: str, tts_url: str, store: MemoryStore | None
) -> AsyncIterator[Callable[[Any], Any]]:
    from ... import Agent, ElevenLabsVoice, OpenAIBrain, Session
    from ...testing.audio_io import MicrophoneInput, SpeakerOutput

    prefix = "You are Biscuit, a playful puppy."
    memory = MemoryBinding(store, user_id="bench") if store is not None else None
    instructions = await memory.prepare(prefix) if memory else prefix
    agent = Agent(instructions=instructions, tools=memory.tools() if memory else [])
    session = Session(
        brain=OpenAIBrain(base_url=realtime_url, api_key="bench", turn_detection="server_vad"),
        voice=ElevenLabsVoice(base_url=tts_url, api_key="bench"),
    )
    mic, speaker = MicrophoneInput(), SpeakerOutput()
    session.input.audio, session.output.audio = mic, speaker

    async def turn(pcm: Any) -> float:
        index = len(speaker.segments)
        ended = await mic.say(pcm)
        first = await speaker.wait_for_segment(index)
        await speaker.wait_for_segment(index, finished=True)
        await asyncio.sleep(0.3)  # idle between turns, like a person
        return first.first_frame_at - ended

    await session.start(agent)
    try:
        if memory is None:
            yield turn
        else:
            async with memory.attach(session, agent):
                yield turn
    finally:
        await session.aclose()
        await speaker.aclose()


def print_table(title: str, rows: list[dict[str, Any]]) -> None:
    try:
        from rich.console import Console
        from rich.table import Table
    except ImportError:
        print(title)
        for row in rows:
            print("  " + "  ".join(f"{k}={_fmt(v)}" for k, v in row.items()))
        return
    table = Table(title=title)
    for column in rows[0]:
        table.add_column(column, justify="right")
    for row in rows:
        table.add_row(*(_fmt(v) for v in row.values()))
    Console(width=max(160, Console().width)).print(table)


def _fmt(value: Any) -> str:
    return f"{value:.2f}" if isinstance(value, float) else str(value)
