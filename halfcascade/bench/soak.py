"""``halfcascade bench soak``: many sessions, randomized barge-ins and faults, for minutes.

Each session is a real ``halfcascade.Session`` on local stand-ins behind fault proxies
(:mod:`halfcascade.testing.faults_run`); half of them speak through the local avatar. The
stand-ins run in processes of their own (one per 10 sessions), as providers do, so the RSS
sampled and the event loop measured are the sessions' (and the memory writer's, which keeps
writing to a temporary PostgreSQL restarted on a timer). The JSON report holds the issue's
figures and every target missed; the exit status is 1 on any miss::

    halfcascade bench soak --sessions 20 --minutes 10            # the soak target
    halfcascade bench soak --minutes 0 --barge-ins 1000 --faults-per-kind 200   # the counts
    halfcascade bench soak --minutes 0 --barge-ins 0 --faults-per-kind 0 --avatar-drops 200

Like a livekit job process (whose forkserver imports the agent's libraries, collects and
calls ``gc.freeze()`` before forking jobs), the soak freezes what its imports created before
the sessions start (``--no-gc-freeze`` leaves them in the collector's reach). The report's
``timeline`` gives TTFA, RSS and full collections minute by minute.

Timed turns are mostly plain ones: their TTFA is the drift figure
(:mod:`.soak_stats`: the p95 of the second half of the turns after the first minute over
the first half's, with a bootstrap interval), and a p95 needs many turns to mean anything.

RSS growth is measured from the end of the warm-up to the end of the run. The warm-up ends
when every session's bounded state is full: its realtime context window has been trimmed
once (``OpenAIBrain(context_items=...)``, 60 items, about five minutes of this soak's turns),
so livekit's two mirrors of the conversation and the event record are at their bounds too.
Growth after that is what a long session keeps adding (livekit's transcript,
``session.history``, which halfcascade leaves whole) and what leaks. Not before the first
minute (imports, first connections, caches), and not after half the run (growth is
measured over half of it at least). When the windows never fill, or sessions come and go
(``--session-turns``: each new one starts empty), the first minute (20 % of a shorter run).
``rss.warmup_until`` says which; ``--warmup`` sets it. ``rss.growth_after_first_minute``
is reported beside it, not judged: the windows still filling are in it.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import time
import uuid
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from ..testing.faults_host import StandInHost
from ..testing.faults_run import FAULTS, Fault, FaultReport, WarningLog, run_faults
from .soak_stats import MIN_PER_HALF, Drift, ttfa_drift
from .soak_timeline import GcPauses, timeline

__all__ = ["main"]

#: The issue's targets.
FAILOVER_MAX = 1.5  # s, fallback first audio after the reply's first text
DOWN_EXTRA_MAX = 0.050  # s, extra once the primary is marked down
#: Fewer turns with the primary already down than this and the extra is reported, not judged:
#: a median of a few turns cannot resolve 50 ms (a timed run has about 10; count mode, 100).
DOWN_MIN_TURNS = 30
RECOVERY_P95_MAX = 2.0  # s, realtime drop -> next reply audio
RSS_GROWTH_MAX = 0.05
TTFA_DRIFT_MAX = 0.05
SESSIONS_PER_HOST = 10


def main(argv: list[str]) -> int:
    """Run the soak; print (and optionally write) the JSON report; 1 on any missed target."""
    args = _parser().parse_args(argv)
    _check(args)
    sessions = args.minutes > 0 or args.barge_ins + args.faults_per_kind > 0
    result: dict[str, Any] = asyncio.run(_soak(args)) if sessions else {"regressions": []}
    if args.avatar_drops:  # remote avatars, in a real room, after the sessions
        from .soak_avatar import run_avatar_part

        result["avatar_drops"], missed = asyncio.run(run_avatar_part(args.avatar_drops, args.seed))
        result["regressions"] += missed
    text = json.dumps(result, indent=2, sort_keys=True)
    print(text)
    if args.out is not None:
        Path(args.out).write_text(text + "\n")
    return 1 if result["regressions"] else 0


def _check(args: argparse.Namespace) -> None:
    if args.sessions < 1:
        raise SystemExit("--sessions must be >= 1")
    if args.session_turns is not None and args.session_turns < 1:
        raise SystemExit("--session-turns must be >= 1")
    if args.context_items is not None and args.context_items < 4:
        raise SystemExit("--context-items must be >= 4")
    if args.avatar_drops < 0:
        raise SystemExit("--avatar-drops must be >= 0")
    if args.minutes <= 0 and (args.barge_ins < 0 or args.faults_per_kind < 0):
        raise SystemExit("--barge-ins and --faults-per-kind must be >= 0")
    if args.minutes <= 0 and args.barge_ins + args.faults_per_kind + args.avatar_drops == 0:
        raise SystemExit(
            "count mode (--minutes 0) needs --barge-ins, --faults-per-kind or --avatar-drops > 0"
        )


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="halfcascade bench soak", description=__doc__.split("\n")[0])
    p.add_argument("--sessions", type=int, default=20, help="concurrent sessions (20)")
    p.add_argument(
        "--minutes",
        type=float,
        default=10.0,
        help="run this long with random faults (10); 0 runs until the counts below are met",
    )
    p.add_argument("--barge-ins", type=int, default=1000, help="count mode: barge-ins (1000)")
    p.add_argument(
        "--faults-per-kind", type=int, default=200, help="count mode: faults of each kind (200)"
    )
    p.add_argument(
        "--avatar",
        choices=("off", "on", "both"),
        default="both",
        help="sessions with the local avatar: none, all, or half (both)",
    )
    p.add_argument(
        "--postgres-restart-every",
        type=float,
        default=30.0,
        help="seconds between PostgreSQL restarts under memory writes; 0 = off",
    )
    p.add_argument(
        "--warmup",
        type=float,
        default=None,
        help="seconds before the RSS baseline (default: once every session's context window "
        "is full, not before the first minute; see the module notes)",
    )
    p.add_argument(
        "--context-items",
        type=int,
        default=None,
        help="the sessions' OpenAIBrain(context_items=...) (its default, 60)",
    )
    p.add_argument(
        "--session-turns",
        type=int,
        default=None,
        help="end each session after this many turns and start a new one in its place "
        "(users coming and going; default: every session lasts the whole run)",
    )
    p.add_argument(
        "--no-gc-freeze",
        action="store_true",
        help="leave the imported libraries in the collector's reach (livekit's worker freezes "
        "them in its forkserver before any job starts; see the module notes)",
    )
    p.add_argument(
        "--avatar-drops",
        type=int,
        default=0,
        help="also drop each remote avatar (the Tavus and Runway stand-ins) this many times "
        "mid-reply in a real room, after the sessions (needs livekit-server; see soak_avatar)",
    )
    p.add_argument("--seed", type=int, default=1)
    p.add_argument("--out", default=None, help="also write the JSON report here")
    return p


@dataclass
class _Samples:
    rss: list[tuple[float, int]] = field(default_factory=list)
    memory: dict[str, Any] = field(default_factory=dict)
    stand_ins: list[dict[str, Any]] = field(default_factory=list)
    gc: GcPauses = field(default_factory=GcPauses)
    began: float = 0.0


async def _soak(args: argparse.Namespace) -> dict[str, Any]:
    began = time.perf_counter()
    until = began + args.minutes * 60 if args.minutes > 0 else None
    total = FaultReport()
    samples = _Samples(began=began)
    plans = _plans(args)
    stop = asyncio.Event()
    hosts = [StandInHost() for _ in range(-(-args.sessions // SESSIONS_PER_HOST))]
    if not args.no_gc_freeze:
        _freeze_imports()
    with WarningLog() as log, samples.gc:
        async with contextlib.AsyncExitStack() as stack:
            for host in hosts:
                await stack.enter_async_context(host)
            side = [asyncio.create_task(_sample_rss(samples, stop))]
            if args.postgres_restart_every > 0:
                side.append(asyncio.create_task(_memory_under_restarts(args, samples, stop)))
            reports = [FaultReport() for _ in plans]
            await asyncio.gather(
                *(
                    run_faults(
                        steps=10**9,
                        seed=args.seed * 1000 + i,
                        faults=plan.kinds,
                        deck=plan.deck,
                        avatar=plan.avatar,
                        until=until,
                        report=reports[i],
                        host=hosts[i % len(hosts)],
                        session_turns=args.session_turns,
                        context_items=args.context_items,
                    )
                    for i, plan in enumerate(plans)
                )
            )
            stop.set()
            await asyncio.gather(*side)
            samples.stand_ins = [await h.stats() for h in hosts]
    for r in reports:
        total.merge(r)
    elapsed = time.perf_counter() - began
    return _result(args, total, log, samples, elapsed, _warmup(args, reports, began, elapsed))


def _freeze_imports() -> None:
    """What livekit's worker does before any job (``livekit.agents.ipc._preload_freeze``):
    import what a session runs on, collect, and freeze, so a full collection no longer walks
    the libraries' objects (a soak process that skips it pauses every session for ~250 ms
    per full collection, which is not what a job process does)."""
    import gc

    from ..agent import Agent  # noqa: F401
    from ..avatar import LocalAvatar  # noqa: F401
    from ..brain import OpenAIBrain  # noqa: F401
    from ..session import Session  # noqa: F401
    from ..speech import ElevenLabsVoice, OpenAIVoice  # noqa: F401

    gc.collect()
    gc.freeze()


@dataclass(frozen=True, slots=True, kw_only=True)
class _Plan:
    """One session's share of the run."""

    avatar: bool
    kinds: tuple[Fault, ...] = ()
    """Timed mode: what each turn is drawn from."""
    deck: tuple[Fault, ...] | None = None
    """Count mode: exactly these turns, shuffled."""


def _plans(args: argparse.Namespace) -> list[_Plan]:
    """Per session: whether it has the avatar, and its turns."""

    def avatar(i: int) -> bool:
        return args.avatar == "on" or (args.avatar == "both" and i % 2 == 1)

    n = args.sessions
    if args.minutes > 0:
        # plain turns weigh most: their TTFA is the drift figure, and its p95 needs many
        # (about 1,100 in 10 minutes; a fault still hits some session every second or so)
        mixed: tuple[Fault, ...] = ("plain",) * 24 + ("barge_in",) * 4 + FAULTS
        return [_Plan(avatar=avatar(i), kinds=mixed) for i in range(n)]
    # count mode: every count is dealt out whole, card by card (decks differ by at most
    # one turn, and each kind splits evenly between the sessions with and without avatar)
    cards = [k for k, c in _wanted(args).items() for _ in range(c)]
    return [_Plan(avatar=avatar(i), deck=tuple(cards[i::n])) for i in range(n)]


def _wanted(args: argparse.Namespace) -> dict[Fault, int]:
    """Count mode: the turns of each kind the run must make (plain turns as many as each
    fault: their TTFA is the baseline of the failover figures)."""
    per_kind = args.faults_per_kind
    wanted: dict[Fault, int] = {"plain": per_kind, "barge_in": args.barge_ins}
    wanted.update(dict.fromkeys(FAULTS, per_kind))
    return wanted


@dataclass(frozen=True, slots=True)
class _Warmup:
    seconds: float
    until: str
    """What ended it: ``--warmup``, ``context windows full``, ``half the run`` (they filled
    later) or ``first minute``."""
    windows_full_s: float | None
    """When every session's context window was full (seconds into the run), if ever."""


def _warmup(
    args: argparse.Namespace, reports: list[FaultReport], began: float, elapsed: float
) -> _Warmup:
    """The RSS baseline's time (see the module notes); ``reports`` has one per session slot."""
    floor = _first_minute(elapsed)
    full = None
    if reports and all(r.windows_full_at for r in reports):
        full = max(min(r.windows_full_at) for r in reports) - began
    if args.warmup is not None:
        return _Warmup(args.warmup, "--warmup", full)
    if args.session_turns is not None:  # sessions keep starting empty: no steady bound
        return _Warmup(floor, "first minute", full)
    if full is not None and full > floor:
        if full > 0.5 * elapsed:  # growth is measured over half the run at least
            return _Warmup(0.5 * elapsed, "half the run", full)
        return _Warmup(full, "context windows full", full)
    return _Warmup(floor, "first minute", full)


def _rss() -> int:
    """This process's resident set size in bytes (Linux ``/proc``; peak RSS elsewhere)."""
    try:
        pages = int(Path("/proc/self/statm").read_text().split()[1])
        return pages * os.sysconf("SC_PAGE_SIZE")
    except (OSError, ValueError, IndexError):
        import resource

        return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024


async def _sample_rss(samples: _Samples, stop: asyncio.Event) -> None:
    while not stop.is_set():
        samples.rss.append((time.perf_counter(), _rss()))
        try:
            async with asyncio.timeout(2.0):
                await stop.wait()
        except TimeoutError:
            pass


async def _memory_under_restarts(
    args: argparse.Namespace, samples: _Samples, stop: asyncio.Event
) -> None:
    from ..memory import Memory, PostgresMemoryStore, RememberOp, RetryPolicy, WriteQueue
    from ..testing.postgres import TemporaryPostgres, postgres_unavailable_reason

    if (why := postgres_unavailable_reason()) is not None:
        samples.memory = {"skipped": why}
        return
    restarts = acked = 0
    async with TemporaryPostgres() as pg:
        store = PostgresMemoryStore(pg.dsn, table=f"soak_{uuid.uuid4().hex[:10]}", timeout=1.0)
        queue = WriteQueue(store, retry=RetryPolicy(first_delay=0.05, max_delay=0.5))
        next_restart = time.perf_counter() + args.postgres_restart_every
        try:
            while not stop.is_set():
                await queue.submit("soak", RememberOp(memory=Memory(text=f"Fact number {acked}.")))
                acked += 1
                if time.perf_counter() >= next_restart:
                    await pg.astop()
                    await asyncio.sleep(1.0)
                    await pg.astart()
                    restarts += 1
                    next_restart = time.perf_counter() + args.postgres_restart_every
                await asyncio.sleep(0.05)
            settled = await queue.flush(30)
            stored = await store.count("soak")
        finally:
            await queue.aclose()
            await store.aclose()
    samples.memory = {
        "restarts": restarts,
        "acknowledged": acked,
        "stored": stored,
        "lost": acked - stored,
        "settled": settled,
    }


def _p(values: list[float], q: float) -> float | None:
    return round(float(np.percentile(values, q)), 3) if values else None


def _result(
    args: argparse.Namespace,
    r: FaultReport,
    log: WarningLog,
    samples: _Samples,
    elapsed: float,
    warmup: _Warmup,
) -> dict[str, Any]:
    rss_growth, rss_rate = _rss_growth(samples, warmup.seconds)
    first_minute, _ = _rss_growth(samples, _first_minute(elapsed))
    turns = [(t - samples.began, v) for t, v in zip(r.ttfa_at, r.ttfa, strict=True)]
    drift = ttfa_drift(turns, after=_first_minute(elapsed), seed=args.seed)
    down_extra = None
    if r.down_delays and r.text_to_audio:
        down_extra = round(float(np.median(r.down_delays) - np.median(r.text_to_audio)), 3)
    lifecycle = log.lifecycle()
    miss: list[str] = []
    miss += [f"lifecycle warning x{n}: {m}" for m, n in lifecycle.items()]
    miss += [f"{r.stuck} stuck turns"] if r.stuck else []
    miss += [f"{r.silent} silent turns"] if r.silent else []
    if r.failover_delays and max(r.failover_delays) > FAILOVER_MAX:
        miss.append(f"failover delay max {max(r.failover_delays):.2f} s > {FAILOVER_MAX} s")
    if (
        down_extra is not None
        and len(r.down_delays) >= DOWN_MIN_TURNS
        and down_extra > DOWN_EXTRA_MAX
    ):
        miss.append(f"extra delay with the primary down {down_extra * 1000:.0f} ms > 50 ms")
    if (p95 := _p(r.recovery_times, 95)) is not None and p95 > RECOVERY_P95_MAX:
        miss.append(f"realtime drop -> audio p95 {p95} s > {RECOVERY_P95_MAX} s")
    if r.answered_after_drop < r.turns_after_drop:
        miss.append(f"{r.turns_after_drop - r.answered_after_drop} turns after a drop unanswered")
    if args.minutes > 0:  # the soak's targets (N sessions for M minutes)
        if rss_growth is None:
            miss.append("RSS growth not measured: the run is too short for a baseline")
        elif rss_growth > RSS_GROWTH_MAX:
            miss.append(f"RSS growth {rss_growth:.1%} > {RSS_GROWTH_MAX:.0%}")
        if drift is None:
            after = sum(t >= _first_minute(elapsed) for t, _ in turns)
            miss.append(
                f"TTFA drift not measured: {after} plain turns after the first minute, "
                f"{2 * MIN_PER_HALF} needed (run longer or with more sessions)"
            )
        elif drift.value > TTFA_DRIFT_MAX:
            miss.append(f"TTFA p95 drift {drift.value:.1%} > {TTFA_DRIFT_MAX:.0%}")
    else:  # count mode: every count met (RSS and drift are reported, not judged)
        miss += [
            f"{kind}: {r.faults[kind]} of {n} turns run"
            for kind, n in _wanted(args).items()
            if r.faults[kind] < n
        ]
    if samples.memory.get("lost"):
        miss.append(f"{samples.memory['lost']} acknowledged memory writes lost")
    return {
        "sessions": args.sessions,
        "session_turns": args.session_turns,
        "sessions_run": r.sessions,
        "seconds": round(elapsed, 1),
        "turns": r.turns,
        "faults": dict(Counter(r.faults)),
        "warnings": dict(log.counts()),
        "lifecycle_warnings": dict(lifecycle),
        "error_tracebacks": log.tracebacks(),
        "errors": log.error_details,
        "stuck_turns": r.stuck,
        "silent_turns": r.silent,
        "by_kind": {k: v for k, v in sorted(r.by_kind.items()) if v},
        "failover_delay": {
            "n": len(r.failover_delays),
            "p50": _p(r.failover_delays, 50),
            "max": round(max(r.failover_delays), 3) if r.failover_delays else None,
        },
        "primary_down_extra": down_extra,
        "primary_down_turns": len(r.down_delays),
        "recovery_time": {
            "n": len(r.recovery_times),
            "p50": _p(r.recovery_times, 50),
            "p95": _p(r.recovery_times, 95),
        },
        "stall_recovery_time": {
            "n": len(r.stall_recovery_times),
            "p50": _p(r.stall_recovery_times, 50),
            "max": round(max(r.stall_recovery_times), 3) if r.stall_recovery_times else None,
        },
        "turns_after_drop": {"answered": r.answered_after_drop, "total": r.turns_after_drop},
        "ttfa": {
            "n": len(r.ttfa),
            "p50": _p(r.ttfa, 50),
            "p95": _p(r.ttfa, 95),
            **_drift_fields(drift),
            "p95_drift_thirds": _drift_thirds([v for _, v in sorted(turns)]),
        },
        "rss": {
            "growth": _round(rss_growth, 4),
            "growth_after_first_minute": _round(first_minute, 4),
            "mb_per_minute": _round(rss_rate, 2),
            "warmup_s": round(warmup.seconds, 1),
            "warmup_until": warmup.until,
            "windows_full_s": None
            if warmup.windows_full_s is None
            else round(warmup.windows_full_s, 1),
            "max_mb": round(max(v for _, v in samples.rss) / 2**20, 1) if samples.rss else None,
        },
        "memory": samples.memory,
        "gc": samples.gc.summary(),
        "timeline": timeline(
            samples.began,
            list(zip(r.ttfa_at, r.ttfa, strict=True)),
            samples.rss,
            samples.gc.pauses,
        ),
        "stand_ins": {
            "processes": len(samples.stand_ins),
            "rss_mb": [round(s["rss"] / 2**20, 1) for s in samples.stand_ins],
            "errors_logged": sum(s["errors"] for s in samples.stand_ins),
        },
        "regressions": miss,
    }


def _rss_growth(samples: _Samples, warmup: float) -> tuple[float | None, float | None]:
    """RSS growth from the end of the warm-up to the end of the run: the fraction, and MB a
    minute (``None`` when the warm-up outlasted the run)."""
    if len(samples.rss) < 4:
        return None, None
    after = [(t, v) for t, v in samples.rss if t >= samples.began + warmup]
    if len(after) < 2:
        return None, None
    (t0, v0), (t1, v1) = after[0], after[-1]
    return (v1 - v0) / v0, (v1 - v0) / 2**20 / max(t1 - t0, 1e-9) * 60


def _round(value: float | None, digits: int) -> float | None:
    return None if value is None else round(value, digits)


def _first_minute(elapsed: float) -> float:
    """The first minute, or the first 20 % of a run shorter than five minutes."""
    return min(60.0, 0.2 * elapsed)


def _drift_fields(drift: Drift | None) -> dict[str, Any]:
    if drift is None:
        return {"p95_drift": None, "p95_drift_interval": None, "p95_drift_n": None}
    return {
        "p95_drift": drift.value,
        "p95_drift_interval": [drift.low, drift.high],
        "p95_drift_n": list(drift.n),
    }


def _drift_thirds(ttfa: list[float]) -> float | None:
    """The figure judged before the drift of :mod:`.soak_stats` (reported, not judged): the
    plain p95 of the last third of the turns over the middle third's, minus 1."""
    third = len(ttfa) // 3
    if third < 20:
        return None
    mid, last = ttfa[third : 2 * third], ttfa[2 * third :]
    return round(float(np.percentile(last, 95) / np.percentile(mid, 95) - 1), 4)
