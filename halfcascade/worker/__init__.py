"""Running halfcascade agents as LiveKit workers: dispatch without CreateRoom."""

from .dispatch import dispatch_token

__all__ = ["dispatch_token"]
