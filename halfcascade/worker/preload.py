"""Preloading a worker so a job imports and parses nothing heavy.

A job that builds its first ``OpenAIBrain`` imports ``livekit.plugins.openai`` and the
``openai`` types (~1.3 s of blocked event loop on a small CPU); a persona file is parsed
per job. :func:`worker_server` (or :func:`preload_server` for a server you built) moves all
of that out of the job:

- the provider plugins and halfcascade itself are imported once in the worker and in
  livekit's forkserver, so every job process starts with them (copy-on-write);
- each idle job process, before it is handed a job, loads the persona and opens the phrase
  cache (livekit's ``setup_fnc``);
- at least one idle process is kept warm even in ``dev`` mode (livekit's dev default is
  none: "no warmed process available for job").

::

    server = worker_server(persona="biscuit.toml")

    @server.rtc_session(agent_name="biscuit")
    async def entrypoint(ctx: JobContext) -> None:
        ready = preloaded(ctx)          # .persona, .phrase_cache
"""

from __future__ import annotations

import importlib
import importlib.util
import logging
import os
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from livekit.agents import AgentServer, JobContext, JobProcess
from livekit.agents.worker import ServerEnvOption

from .._livekit.worker import add_preload_modules, warm_ssl_context
from ..errors import ConfigError
from ._warm import build_pydantic_models

__all__ = [
    "PROVIDER_MODULES",
    "Preloaded",
    "load_by_jobs",
    "preload_modules",
    "preload_server",
    "preloaded",
    "worker_server",
]

logger = logging.getLogger("halfcascade.worker")

#: What each provider's first use imports inside a job.
PROVIDER_MODULES: dict[str, tuple[str, ...]] = {
    "openai": (
        "livekit.plugins.openai",
        "openai.types.realtime",
        "halfcascade.brain._chunked",
    ),
    "elevenlabs": ("livekit.plugins.elevenlabs",),
    "google": ("livekit.plugins.google", "google.genai"),
    "tavus": ("livekit.plugins.tavus",),
    "runway": ("livekit.plugins.runway",),
    "local_avatar": ("halfcascade.avatar.local",),
    "postgres": ("asyncpg", "halfcascade.memory.postgres"),
}

_CORE = (
    "halfcascade",
    "halfcascade.session",
    "halfcascade.agent",
    "halfcascade.speech.cache",
    "halfcascade.worker.job",
    "numpy.fft",
    "numpy.ma",
    # livekit-agents imports these inside the first session's start
    "livekit.agents.llm.async_toolset",
    "livekit.agents.voice.tool_executor",
    "livekit.agents.simulation",
    "livekit.agents.voice.report",
)
_USERDATA_KEY = "halfcascade.preloaded"
PORT_ENV = "HALFCASCADE_WORKER_PORT"
MAX_JOBS_ENV = "HALFCASCADE_MAX_JOBS"
# livekit-server's default agents.target_load, and livekit-agents' production load_threshold
TARGET_LOAD = 0.7


@dataclass(slots=True)
class Preloaded:
    """What a job process prepared before it was handed a job.

    Attributes:
        persona: the persona loaded from the worker's persona file, if one was given.
        phrase_cache: the process's phrase cache, if one was asked for.
        seconds: how long the preparation took (in the idle process, not in the job).
        extra: whatever the user's own ``setup_fnc`` stored in ``proc.userdata``.
    """

    persona: Any = None
    phrase_cache: Any = None
    seconds: float = 0.0
    extra: dict[str, Any] = field(default_factory=dict)


def preload_modules(providers: Sequence[str], modules: Sequence[str] = ()) -> list[str]:
    """The modules to import ahead of jobs for ``providers`` (installed ones only)."""
    unknown = [p for p in providers if p not in PROVIDER_MODULES]
    if unknown:
        raise ConfigError(
            f"unknown provider(s) to preload: {', '.join(unknown)}; "
            f"accepted: {', '.join(sorted(PROVIDER_MODULES))}"
        )
    wanted = [*_CORE, *(m for p in providers for m in PROVIDER_MODULES[p]), *modules]
    return [m for m in dict.fromkeys(wanted) if _installed(m)]


def _installed(module: str) -> bool:
    try:
        return importlib.util.find_spec(module) is not None
    except (ImportError, ValueError):
        return False


def load_by_jobs(
    max_jobs: int, *, target_load: float = TARGET_LOAD
) -> Callable[[AgentServer], float]:
    """A ``load_fnc`` that reaches ``target_load`` when ``max_jobs`` jobs run.

    livekit's default load is the host's CPU use, which on a shared or small machine swings
    with other processes; a job count makes LiveKit's assignment predictable.

    The load is ``target_load * running / max_jobs``, in the units livekit-server uses:
    a server only claims a job while some available worker's load is below its
    ``agents.target_load`` (0.7 unless you configured it), so a job count scaled to
    1.0 would leave every job past 70 % of ``max_jobs`` undispatched, silently, when no
    other worker has room. Pair it with ``load_threshold=target_load`` (livekit's
    production default, 0.7): the worker marks itself full at exactly ``max_jobs``.

    livekit books a job it accepted but has not started as ``load_threshold /
    num_idle_processes`` while no job runs, so keep ``num_idle_processes >= 2`` for a worker
    to accept two jobs arriving together.

    Args:
        target_load: livekit-server's ``agents.target_load``, when you changed it.
    """
    if max_jobs < 1:
        raise ConfigError(f"load_by_jobs(max_jobs=...) must be >= 1, got {max_jobs}")
    if not 0 < target_load <= 1:
        raise ConfigError(
            f"load_by_jobs(target_load=...) must be in (0, 1] like livekit-server's "
            f"agents.target_load, got {target_load}"
        )

    def load(server: AgentServer) -> float:
        return target_load * min(1.0, len(server.active_jobs) / max_jobs)

    return load


def worker_server(
    *,
    providers: Sequence[str] = ("openai", "elevenlabs"),
    persona: str | Path | None = None,
    phrase_cache: bool | str | Path = False,
    modules: Sequence[str] = (),
    setup_fnc: Callable[[JobProcess], Any] | None = None,
    num_idle_processes: int | None = None,
    **kwargs: Any,
) -> AgentServer:
    """An ``AgentServer`` whose job processes start ready (see the module docs).

    Args:
        providers: which providers' modules to preload (keys of :data:`PROVIDER_MODULES`).
        persona: a persona file every job uses; loaded once per process.
        phrase_cache: ``True`` for a :class:`~halfcascade.speech.PhraseCache` in its default
            directory, a path for another directory, ``False`` for none.
        modules: more modules to import ahead of jobs (your agent's own heavy imports).
        setup_fnc: your own per-process setup, run after halfcascade's.
        num_idle_processes: warm processes kept ready; default: livekit's production
            default, and 1 (instead of 0) in ``dev`` mode.
        **kwargs: any other ``AgentServer`` argument. ``port`` (the health check) defaults
            to ``$HALFCASCADE_WORKER_PORT`` when set (``0``: any free port, for several
            workers on one machine), else livekit's 8081. ``load_fnc`` defaults to
            :func:`load_by_jobs` (with ``load_threshold`` at its target load, full at that
            many jobs) when ``$HALFCASCADE_MAX_JOBS``
            is set, else livekit's CPU load (on a shared host, other processes' CPU use
            then marks the worker full).
    """
    if num_idle_processes is not None and num_idle_processes < 1:
        raise ConfigError("num_idle_processes must be >= 1: a job needs a warm process")
    idle: int | ServerEnvOption[int] = (
        num_idle_processes
        if num_idle_processes is not None
        else ServerEnvOption(dev_default=1, prod_default=min(os.cpu_count() or 1, 4))
    )
    if "load_fnc" not in kwargs and (jobs := os.environ.get(MAX_JOBS_ENV)):
        if not jobs.isdigit() or int(jobs) < 1:
            raise ConfigError(f"{MAX_JOBS_ENV}={jobs!r} must be a whole number >= 1")
        kwargs["load_fnc"] = load_by_jobs(int(jobs))
        kwargs.setdefault("load_threshold", TARGET_LOAD)
    if "port" not in kwargs and (port := os.environ.get(PORT_ENV)):
        try:
            kwargs["port"] = int(port)
        except ValueError:
            raise ConfigError(f"{PORT_ENV}={port!r} must be a port number (0: any)") from None
    server = AgentServer(num_idle_processes=idle, **kwargs)
    return preload_server(
        server,
        providers=providers,
        persona=persona,
        phrase_cache=phrase_cache,
        modules=modules,
        setup_fnc=setup_fnc,
    )


def preload_server(
    server: AgentServer,
    *,
    providers: Sequence[str] = ("openai", "elevenlabs"),
    persona: str | Path | None = None,
    phrase_cache: bool | str | Path = False,
    modules: Sequence[str] = (),
    setup_fnc: Callable[[JobProcess], Any] | None = None,
) -> AgentServer:
    """Make an existing ``server`` preload like :func:`worker_server` (call before it runs).

    The modules are imported here too, in the worker's main process: livekit registers a
    plugin when it is imported, and preloads the registered ones into its forkserver.
    """
    persona_path = Path(persona) if persona is not None else None
    if persona_path is not None and not persona_path.is_file():
        raise ConfigError(f"persona file {persona_path} not found (pass an existing .toml file)")
    names = preload_modules(providers, modules)
    started = time.perf_counter()
    for name in names:
        importlib.import_module(name)
    warm_ssl_context()  # the worker's own loop builds it at start-up otherwise (~100 ms)
    logger.debug(
        "worker modules preloaded",
        extra={"modules": names, "seconds": round(time.perf_counter() - started, 3)},
    )
    add_preload_modules(server, names)
    user_setup = setup_fnc or server.setup_fnc
    server.setup_fnc = _Setup(names, persona_path, phrase_cache, user_setup)
    return server


@dataclass(frozen=True, slots=True)
class _Setup:
    """The per-process setup (picklable: livekit sends it to each job process)."""

    modules: list[str]
    persona: Path | None
    phrase_cache: bool | str | Path
    user: Callable[[JobProcess], Any] | None

    def __call__(self, proc: JobProcess) -> None:
        started = time.perf_counter()
        for name in self.modules:  # no-op under a forkserver; the imports under spawn
            importlib.import_module(name)
        warm_ssl_context()
        if "openai.types.realtime" in self.modules:
            build_pydantic_models("openai.types.realtime")
        ready = Preloaded()
        if self.persona is not None:
            from ..persona import load_persona

            ready.persona = load_persona(self.persona)
        if self.phrase_cache is not False:
            from ..speech.cache import PhraseCache

            directory = None if self.phrase_cache is True else self.phrase_cache
            ready.phrase_cache = PhraseCache(directory)
        if self.user is not None:
            self.user(proc)
        ready.extra = {k: v for k, v in proc.userdata.items() if k != _USERDATA_KEY}
        ready.seconds = time.perf_counter() - started
        proc.userdata[_USERDATA_KEY] = ready


def preloaded(ctx: JobContext | JobProcess) -> Preloaded:
    """What the job's process prepared (an empty :class:`Preloaded` without a preload)."""
    proc = ctx.proc if isinstance(ctx, JobContext) else ctx
    found = proc.userdata.get(_USERDATA_KEY)
    return found if isinstance(found, Preloaded) else Preloaded()
