"""halfcascade: a realtime model listens and writes, your TTS speaks, your avatar moves.

Build a :class:`Session` from a brain and a voice, subclass :class:`Agent`, start it as
you would any livekit ``AgentSession``.
"""

from .agent import Agent, SpokenStyle, render_spoken_instructions
from .avatar import (
    AttachedAvatar,
    Avatar,
    LocalAvatar,
    NoAvatar,
    RunwayAvatar,
    TavusAvatar,
    attach_avatar,
)
from .brain import GoogleBrain, OpenAIBrain
from .errors import (
    ConfigError,
    HalfcascadeError,
    MissingCredentialsError,
    StoreError,
    UnsupportedModelError,
)
from .memory import (
    Memory,
    MemoryBinding,
    MemoryConfig,
    MemoryStore,
    PostgresMemoryStore,
    SQLiteMemoryStore,
)
from .persona import Persona, load_persona, render_persona
from .session import Session
from .speech import (
    ElevenLabsVoice,
    FirstPhraseTokenizer,
    GoogleVoice,
    OpenAIVoice,
    Phrasing,
)

__version__ = "0.1.0"

__all__ = [
    "Agent",
    "AttachedAvatar",
    "Avatar",
    "ConfigError",
    "ElevenLabsVoice",
    "FirstPhraseTokenizer",
    "GoogleBrain",
    "GoogleVoice",
    "HalfcascadeError",
    "LocalAvatar",
    "Memory",
    "MemoryBinding",
    "MemoryConfig",
    "MemoryStore",
    "MissingCredentialsError",
    "NoAvatar",
    "OpenAIBrain",
    "OpenAIVoice",
    "Persona",
    "Phrasing",
    "PostgresMemoryStore",
    "RunwayAvatar",
    "SQLiteMemoryStore",
    "Session",
    "SpokenStyle",
    "StoreError",
    "TavusAvatar",
    "UnsupportedModelError",
    "__version__",
    "attach_avatar",
    "load_persona",
    "render_persona",
    "render_spoken_instructions",
]
