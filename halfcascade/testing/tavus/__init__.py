"""A local Tavus conversations API; its stand-in avatar joins the real room."""

from .server import AvatarBehaviour, AvatarRequest, TavusServer

__all__ = ["AvatarBehaviour", "AvatarRequest", "TavusServer"]
