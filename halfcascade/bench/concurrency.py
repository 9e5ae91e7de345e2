"""Sessions per core: N simultaneous sessions in one worker process, against one session.

``halfcascade bench concurrency --sessions 1,10,25,50 --turns 20``

The stand-ins run in a child process (:mod:`halfcascade.bench.standins`), pinned to
another CPU than the worker, so the worker's CPU is the sessions' own; each load level runs
in a fresh worker process, so its memory and CPU figures are its own too. Each session is what
a worker runs per room: a ``halfcascade.Session`` with the real OpenAI Realtime and
ElevenLabs plugins, an ``Agent`` with the companion's openers on one shared phrase cache, a
paced microphone (20 ms frames, silence between turns) and a speaker. Sessions start their
turns at random offsets and pause 0.5-1.5 s between turns, as independent users do.

Per N: TTFA p50/p95 and its drift from the single session's, worker CPU per session (in
cores), RSS per session (after start, and its growth from turn 2 to the last turn), the
event loop's lag (how late a 50 ms timer fires: when it grows, every session's audio and
text wait in line), the full garbage collections with their longest pause (a full
collection stops every session at once) and the stand-in process's own CPU (near one core,
the stand-ins rather than the worker slow the turns down).

One worker process tops out at 50 sessions whatever its CPU: livekit's shared HTTP session
(``utils.http_context``) allows 50 connections per host, and each session holds one
websocket to the realtime model and one to the TTS, so session 51 times out connecting.

After a discarded one-session warm-up the worker runs ``gc.collect(); gc.freeze()`` as a
production worker should (``--no-gc-freeze`` to compare). The levels run in spawned
processes, which ``py-spy record --subprocesses`` does not follow: profile with
``py-spy record -p <pid of the level's worker>`` or by calling :func:`run_load` directly.
"""

from __future__ import annotations

import asyncio
import contextlib
import gc
import json
import multiprocessing
import os
import random
import resource
import statistics
import subprocess
import sys
import time
from collections.abc import AsyncIterator, Callable, Iterator, Sequence
from dataclasses import dataclass, field
from multiprocessing.connection import Connection
from typing import Any

import numpy as np
from livekit.agents import utils

from ..agent import Agent
from ..brain import OpenAIBrain
from ..session import Session
from ..speech import ElevenLabsVoice
from ..speech.cache import PhraseCache
from ..testing.audio_io import MicrophoneInput, SpeakerOutput
from ..testing.stack import API_KEY, trim_silence
from ..testing.voices import default_voice
from .pipelines import INSTRUCTIONS
from .script import OPENERS, TURNS

__all__ = ["LoadResult", "StandIns", "run_levels", "run_load", "standins", "summarize"]

_TURN_TIMEOUT = 30.0


@dataclass(slots=True)
class LoadResult:
    """One load level: ``sessions`` simultaneous sessions for ``turns`` turns each."""

    sessions: int
    turns: int
    ttfa: list[float] = field(default_factory=list)
    failed_turns: int = 0
    cpu_seconds: float = 0.0
    wall_seconds: float = 0.0
    rss_base: int = 0
    rss_started: int = 0
    rss_by_turn: dict[int, int] = field(default_factory=dict)
    loop_lag: list[float] = field(default_factory=list)
    gc_pauses: list[float] = field(default_factory=list)
    """Every garbage collection of the oldest generation during the turns (seconds)."""
    standins_cpu: float | None = None
    """The stand-in process's CPU use over the level, in cores: near 1.0 it, not the
    worker, is what slows the turns down."""

    @property
    def cpu_per_session(self) -> float:
        """Worker CPU per session, in cores (0.04 = 4 % of one core)."""
        return self.cpu_seconds / self.wall_seconds / self.sessions if self.wall_seconds else 0.0

    @property
    def rss_per_session(self) -> float:
        """Resident memory each session added at start, in MiB."""
        return (self.rss_started - self.rss_base) / self.sessions / 2**20

    def rss_growth_per_session(self, first: int = 2) -> float | None:
        """RSS growth per session from turn ``first`` to the last turn, in MiB."""
        if first not in self.rss_by_turn or self.turns not in self.rss_by_turn:
            return None
        return (self.rss_by_turn[self.turns] - self.rss_by_turn[first]) / self.sessions / 2**20

    @property
    def rss_growth_late_per_session(self) -> float | None:
        """RSS growth per session over the second half of the turns, in MiB: what is left
        once per-session buffers that fill up to a bound have filled (a leak keeps growing)."""
        return self.rss_growth_per_session(first=max(2, self.turns // 2))

    def to_json(self) -> dict[str, Any]:
        """The figures, JSON-ready (seconds, cores, MiB)."""
        return {
            "sessions": self.sessions,
            "turns": self.turns,
            "ttfa_p50": _q(self.ttfa, 0.5),
            "ttfa_p95": _q(self.ttfa, 0.95),
            "failed_turns": self.failed_turns,
            "cpu_per_session": self.cpu_per_session,
            "rss_per_session_mib": self.rss_per_session,
            "rss_growth_per_session_mib": self.rss_growth_per_session(),
            "rss_growth_late_per_session_mib": self.rss_growth_late_per_session,
            "rss_by_turn_mib": {t: v / 2**20 for t, v in sorted(self.rss_by_turn.items())},
            "loop_lag_p95": _q(self.loop_lag, 0.95),
            "loop_lag_max": max(self.loop_lag, default=0.0),
            "gc_full_collections": len(self.gc_pauses),
            "gc_full_pause_max": max(self.gc_pauses, default=0.0),
            "standins_cpu": self.standins_cpu,
            "ttfa": self.ttfa,
        }


def _q(values: Sequence[float], q: float) -> float | None:
    return float(np.percentile(values, q * 100)) if values else None


class _GcTimer:
    """A ``gc.callbacks`` hook timing full (oldest-generation) collections."""

    def __init__(self, pauses: list[float]) -> None:
        self._pauses = pauses
        self._started = 0.0

    def __call__(self, phase: str, info: dict[str, int]) -> None:
        if info.get("generation") != 2:
            return
        if phase == "start":
            self._started = time.perf_counter()
        else:
            self._pauses.append(time.perf_counter() - self._started)


def _rss() -> int:
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")


def _cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


@dataclass(frozen=True, slots=True)
class StandIns:
    """The running stand-in process: its URLs (``"realtime"``, ``"tts"``) and process id."""

    urls: dict[str, str]
    pid: int

    def cpu_seconds(self) -> float:
        """CPU time the stand-in process has used so far (user + system)."""
        with open(f"/proc/{self.pid}/stat") as f:
            fields = f.read().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


@contextlib.contextmanager
def standins(*, cpu: int | None, ttft: float, tts_ttfb: float) -> Iterator[StandIns]:
    """Start the stand-in process (pinned to ``cpu``); yields its URLs and pid."""
    cmd = [sys.executable, "-m", "halfcascade.bench.standins", "--ttft", str(ttft)]
    cmd += ["--tts-ttfb", str(tts_ttfb)]
    proc = subprocess.Popen(cmd, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    try:
        if cpu is not None:
            os.sched_setaffinity(proc.pid, {cpu})
        assert proc.stdout is not None
        line = proc.stdout.readline()
        if not line:
            raise RuntimeError("the stand-in process exited before it was ready")
        yield StandIns(urls=json.loads(line), pid=proc.pid)
    finally:
        if proc.stdin is not None:
            proc.stdin.close()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


@dataclass(slots=True)
class _Seat:
    session: Session
    mic: MicrophoneInput
    speaker: SpeakerOutput
    done: int = 0


@contextlib.asynccontextmanager
async def _seats(n: int, urls: dict[str, str], cache: PhraseCache) -> AsyncIterator[list[_Seat]]:
    seats: list[_Seat] = []
    try:
        for _ in range(n):
            session = Session(
                brain=OpenAIBrain(base_url=urls["realtime"], api_key=API_KEY),
                voice=ElevenLabsVoice(base_url=urls["tts"], api_key=API_KEY),
            )
            seat = _Seat(session, MicrophoneInput(), SpeakerOutput())
            session.input.audio, session.output.audio = seat.mic, seat.speaker
            seats.append(seat)
            agent = Agent(instructions=INSTRUCTIONS, openers=OPENERS, phrase_cache=cache)
            await session.start(agent)
            if agent.phrases is not None:
                await agent.phrases.wait_warm()
        yield seats
    finally:
        for seat in seats:
            await seat.session.aclose()
            await seat.speaker.aclose()


async def _converse(
    seat: _Seat, lines: list[np.ndarray], turns: int, out: LoadResult, rng: random.Random
) -> None:
    await asyncio.sleep(rng.uniform(0.0, 2.0))
    for i in range(turns):
        index = len(seat.speaker.segments)
        ended = await seat.mic.say(lines[i % len(lines)])
        try:
            async with asyncio.timeout(_TURN_TIMEOUT):
                seg = await seat.speaker.wait_for_segment(index, finished=True)
            out.ttfa.append(seg.first_frame_at - ended)
            seg.frames.clear()  # the test speaker keeps what it heard; a room track would not
        except TimeoutError:
            out.failed_turns += 1
        seat.done = i + 1
        await asyncio.sleep(rng.uniform(0.5, 1.5))


async def _watch(seats: list[_Seat], out: LoadResult, stop: asyncio.Event) -> None:
    """Sample the loop's lag every 50 ms and the RSS as the slowest session finishes turns."""
    period = 0.05
    while not stop.is_set():
        before = time.perf_counter()
        await asyncio.sleep(period)
        out.loop_lag.append(time.perf_counter() - before - period)
        slowest = min(s.done for s in seats)
        if slowest and slowest not in out.rss_by_turn:
            out.rss_by_turn[slowest] = _rss()  # no forced collection: it would stall turns


async def run_load(
    n: int, *, urls: dict[str, str], turns: int, lines: list[np.ndarray], seed: int = 7
) -> LoadResult:
    """``n`` sessions, ``turns`` turns each, at the same time; returns the figures."""
    out = LoadResult(sessions=n, turns=turns)
    cache = PhraseCache(persist=False)  # one per worker, as in production
    gc.collect()
    out.rss_base = _rss()
    async with utils.http_context.open(), _seats(n, urls, cache) as seats:
        gc.collect()
        out.rss_started = _rss()
        stop = asyncio.Event()
        watcher = asyncio.create_task(_watch(seats, out, stop))
        cpu0, wall0 = _cpu(), time.perf_counter()
        rng = random.Random(seed)
        timer = _GcTimer(out.gc_pauses)
        gc.callbacks.append(timer)
        try:
            async with asyncio.TaskGroup() as group:
                for seat in seats:
                    rng_i = random.Random(rng.random())
                    group.create_task(_converse(seat, lines, turns, out, rng_i))
        finally:
            gc.callbacks.remove(timer)
            out.cpu_seconds, out.wall_seconds = _cpu() - cpu0, time.perf_counter() - wall0
            stop.set()
            await watcher
    return out


def user_lines() -> list[np.ndarray]:
    """The scripted user lines as 24 kHz speech."""
    voice = default_voice()
    return [trim_silence(voice(line, 24000)) for line, _, _ in TURNS]


def summarize(results: Sequence[LoadResult]) -> list[dict[str, Any]]:
    """One row per load level, with the TTFA drift from the first (single-session) level."""
    base = results[0].ttfa if results else []
    base_p50 = statistics.median(base) if base else None
    rows = []
    for r in results:
        row = r.to_json()
        row.pop("ttfa")
        p50 = row["ttfa_p50"]
        row["ttfa_p50_drift"] = p50 / base_p50 - 1 if p50 is not None and base_p50 else None
        rows.append(row)
    return rows


async def _level(n: int, urls: dict[str, str], turns: int, *, freeze: bool) -> LoadResult:
    lines = user_lines()
    # a discarded warm-up: lazy imports, first connections and caches are not per session
    await run_load(1, urls=urls, turns=3, lines=lines)
    if freeze:
        # what a worker should do once warm: the ~240k objects of the imported libraries
        # move out of the collector's reach, so a full collection no longer walks them
        # (measured: 177 ms -> 28 ms per full collection at 25 sessions)
        gc.collect()
        gc.freeze()
    return await run_load(n, urls=urls, turns=turns, lines=lines)


def _level_process(
    n: int, urls: dict[str, str], turns: int, freeze: bool, cpu: int | None, conn: Connection
) -> None:
    """One load level in a fresh worker process (its RSS and CPU are the level's own)."""
    if cpu is not None:
        os.sched_setaffinity(0, {cpu})
    conn.send(asyncio.run(_level(n, urls, turns, freeze=freeze)))
    conn.close()


def run_levels(
    levels: Sequence[int],
    *,
    turns: int,
    cpu: int | None,
    standins_cpu: int | None,
    ttft: float = 0.4,
    tts_ttfb: float = 0.25,
    gc_freeze: bool = True,
    on_level: Callable[[LoadResult], None] | None = None,
) -> list[LoadResult]:
    """Run every load level (the first should be 1), each in a fresh worker process pinned
    to ``cpu``, against one stand-in process pinned to ``standins_cpu``.

    ``gc_freeze`` freezes the garbage collector's view of everything loaded before the
    sessions start (``gc.freeze()``), as a production worker should after its prewarm.
    """
    spawn = multiprocessing.get_context("spawn")
    results = []
    with standins(cpu=standins_cpu, ttft=ttft, tts_ttfb=tts_ttfb) as stand:
        urls = stand.urls
        for n in levels:
            cpu0, wall0 = stand.cpu_seconds(), time.perf_counter()
            receive, send = spawn.Pipe(duplex=False)
            worker = spawn.Process(
                target=_level_process, args=(n, urls, turns, gc_freeze, cpu, send)
            )
            worker.start()
            send.close()
            try:
                result: LoadResult = receive.recv()
            except EOFError:
                raise RuntimeError(f"the worker running {n} sessions died") from None
            finally:
                worker.join()
            result.standins_cpu = (stand.cpu_seconds() - cpu0) / (time.perf_counter() - wall0)
            results.append(result)
            if on_level is not None:
                on_level(result)
    return results
