"""The local avatar: a character animated from the agent's own audio, drawn with numpy.

- :class:`LocalAvatar`: the avatar choice for :func:`~halfcascade.avatar.attach_avatar`.
- :class:`LocalVideoGenerator`: the livekit ``VideoGenerator`` (use it with your own
  ``AvatarRunner``, e.g. in a separate avatar worker).
- :func:`default_character`, :func:`puppy_character`, :func:`load_character`: what it draws.
- :class:`AvatarPlayer`, :func:`render_clip`: room-less playback and offline rendering.
"""

from .avatar import LocalAvatar, LocalAvatarLink
from .character import Character, Eye, MouthSpec, default_character, load_character
from .features import MouthShape, MouthTracker
from .generator import LocalVideoGenerator
from .player import AvatarPlayer, PlayedAudio, PlayedVideo, render_clip
from .puppy import puppy_character
from .render import AvatarRenderer

__all__ = [
    "AvatarPlayer",
    "AvatarRenderer",
    "Character",
    "Eye",
    "LocalAvatar",
    "LocalAvatarLink",
    "LocalVideoGenerator",
    "MouthShape",
    "MouthSpec",
    "MouthTracker",
    "PlayedAudio",
    "PlayedVideo",
    "default_character",
    "load_character",
    "puppy_character",
    "render_clip",
]
