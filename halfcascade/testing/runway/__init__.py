"""A local Runway realtime-sessions API; its stand-in avatar joins the real room."""

from .server import AvatarBehaviour, AvatarRequest, RunwayServer

__all__ = ["AvatarBehaviour", "AvatarRequest", "RunwayServer"]
