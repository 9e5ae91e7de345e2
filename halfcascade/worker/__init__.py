"""Running halfcascade agents as LiveKit workers.

- :func:`worker_server` / :func:`preload_server`: job processes that start with every heavy
  import done, the persona loaded and the phrase cache open; :func:`preloaded` reads them.
- :class:`JobStartup`: the start-up timeline from the worker receiving the job.
- :func:`dispatch_token`: the user's join token that also dispatches the agent;
  :func:`wait_for_agent`: your backend's check that the agent joined.
- :func:`room_options`: the user's audio handed on in 20 ms frames.
- :func:`run_app`: livekit's CLI with ``--offline`` (stand-ins in-process) and a clean exit
  on missing credentials.
- :func:`load_by_jobs`: a predictable ``load_fnc`` for LiveKit's job assignment.
"""

from .app import OFFLINE_ENV, offline_requested, run_app
from .dispatch import AgentNotJoinedError, dispatch_token, wait_for_agent
from .job import JobStartup
from .offline import OfflineStandIns, offline_reply
from .preload import (
    PROVIDER_MODULES,
    Preloaded,
    load_by_jobs,
    preload_modules,
    preload_server,
    preloaded,
    worker_server,
)
from .room import room_options

__all__ = [
    "OFFLINE_ENV",
    "PROVIDER_MODULES",
    "AgentNotJoinedError",
    "JobStartup",
    "OfflineStandIns",
    "Preloaded",
    "dispatch_token",
    "load_by_jobs",
    "offline_reply",
    "offline_requested",
    "preload_modules",
    "preload_server",
    "preloaded",
    "room_options",
    "run_app",
    "wait_for_agent",
    "worker_server",
]
