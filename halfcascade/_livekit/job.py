"""livekit-agents job-context internals used by halfcascade.testing (1.8.9)."""

from __future__ import annotations

from livekit.agents import JobContext

__all__ = ["set_job_token"]


def set_job_token(ctx: JobContext, token: str) -> None:
    """Give a fake job context the agent's room token (``JobContext._info.token``).

    ``fake_job_context()`` leaves it empty, and the avatar plugins read the agent's identity
    from its claims.
    """
    ctx._info.token = token
