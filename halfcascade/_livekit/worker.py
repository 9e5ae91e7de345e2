"""livekit-agents internals halfcascade.worker reads (1.8.9).

- ``JobContext._info`` (``RunningJobInfo``): the dispatch timeline livekit records for
  its own traces (``received_at``, ``accepted_at``, ``assigned_at``, ``launched_at``); no
  public accessor exists.
- ``AgentServer._preload_modules``: extended by :func:`add_preload_modules` so a server built
  by the user still preloads what halfcascade needs (the constructor is the only public way).
"""

from __future__ import annotations

from dataclasses import dataclass

from livekit.agents import AgentServer, JobContext

__all__ = ["DispatchTimes", "add_preload_modules", "dispatch_times"]


@dataclass(frozen=True, slots=True)
class DispatchTimes:
    """``time.time()`` stamps of a job's dispatch (0.0 when livekit did not record one)."""

    received_at: float
    accepted_at: float
    assigned_at: float
    launched_at: float


def dispatch_times(ctx: JobContext) -> DispatchTimes:
    """When the worker received, accepted, got assigned and launched ``ctx``'s job."""
    info = getattr(ctx, "_info", None)
    return DispatchTimes(
        received_at=float(getattr(info, "received_at", 0.0) or 0.0),
        accepted_at=float(getattr(info, "accepted_at", 0.0) or 0.0),
        assigned_at=float(getattr(info, "assigned_at", 0.0) or 0.0),
        launched_at=float(getattr(info, "launched_at", 0.0) or 0.0),
    )


def add_preload_modules(server: AgentServer, modules: list[str]) -> None:
    """Append ``modules`` to the server's forkserver preload list (before ``run()``)."""
    current: list[str] = getattr(server, "_preload_modules", None) or []
    server._preload_modules = list(dict.fromkeys([*current, *modules]))


def warm_ssl_context() -> None:
    """Build livekit's shared TLS context now (it parses the CA bundle: ~100-150 ms, which
    the first provider connection of a job would otherwise spend on the event loop)."""
    from livekit.agents.utils import http_context

    http_context._create_ssl_context()
