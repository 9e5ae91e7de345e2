"""A local Runway realtime-sessions API; its stand-in avatar joins the real room."""

from .._avatar_servers import AvatarBehaviour, AvatarRequest, RunwayServer

__all__ = ["AvatarBehaviour", "AvatarRequest", "RunwayServer"]
