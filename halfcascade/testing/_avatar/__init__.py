"""What the Tavus and Runway stand-ins share: the stand-in avatar and the server base."""

from .behaviour import AvatarBehaviour, AvatarRequest
from .server import JSON_BODY, AvatarServer, livekit_problem, token_claims
from .stand_in import StandInAvatar

__all__ = [
    "JSON_BODY",
    "AvatarBehaviour",
    "AvatarRequest",
    "AvatarServer",
    "StandInAvatar",
    "livekit_problem",
    "token_claims",
]
