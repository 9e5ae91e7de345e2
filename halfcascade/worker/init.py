"""``halfcascade init``: a starter project from the shipped examples and personas.

The examples and personas are package data (``halfcascade/examples`` in the wheel; the
repository's ``examples/`` in a source checkout), so a pip user gets the same files the
repository runs in its tests::

    init_project("my-agent", example="local_avatar")
    # my-agent/agent.py, my-agent/personas/*.toml, my-agent/.env.example, README.md
"""

from __future__ import annotations

import importlib.resources
import shutil
from pathlib import Path

from ..errors import ConfigError

__all__ = ["examples_dir", "init_project", "list_examples"]

_ENV_EXAMPLE = """\
# Live providers (leave empty and run with --offline to use the local stand-ins)
OPENAI_API_KEY=
ELEVEN_API_KEY=
GOOGLE_API_KEY=
LIVEKIT_URL=
LIVEKIT_API_KEY=
LIVEKIT_API_SECRET=
# Endpoints (optional: proxies, regions, stand-ins)
# OPENAI_BASE_URL=
# OPENAI_TTS_BASE_URL=
# ELEVEN_BASE_URL=
# GOOGLE_GEMINI_BASE_URL=
# Several workers on one machine / capacity by job count (optional)
# HALFCASCADE_WORKER_PORT=0
# HALFCASCADE_MAX_JOBS=4
# Memory shared by every worker (optional; SQLite otherwise)
# HALFCASCADE_MEMORY_DSN=postgresql://...
"""

_README = """\
# {name}

A halfcascade agent, started from the `{example}` example.

    python agent.py console --offline    # talk to it now, on local stand-ins
    python agent.py dev --offline        # in a room, with a local livekit-server
    python agent.py start                # live: fill in .env.example's variables first

Personas live in `personas/` (see the halfcascade docs for every field).
"""


def examples_dir() -> Path:
    """Where the shipped examples are (package data, else the source checkout's)."""
    packaged = importlib.resources.files("halfcascade") / "examples"
    if packaged.is_dir():
        return Path(str(packaged))
    checkout = Path(__file__).resolve().parents[2] / "examples"
    if checkout.is_dir():
        return checkout
    raise ConfigError(
        "the halfcascade examples are missing from this installation; reinstall halfcascade"
    )


def list_examples() -> list[str]:
    """The example names ``init_project`` accepts."""
    return sorted(p.stem for p in examples_dir().glob("*.py") if not p.stem.startswith("_"))


def init_project(
    directory: str | Path, *, example: str = "companion_worker", force: bool = False
) -> list[Path]:
    """Write a starter project into ``directory``; returns the files written.

    Args:
        example: which example becomes ``agent.py`` (see :func:`list_examples`).
        force: overwrite files that already exist (otherwise they are an error).

    Raises:
        ConfigError: for an unknown example, or files that exist without ``force``.
    """
    source = examples_dir()
    names = list_examples()
    if example not in names:
        raise ConfigError(f"unknown example {example!r}; choose one of: {', '.join(names)}")
    target = Path(directory)
    plan: dict[Path, Path | str] = {target / "agent.py": source / f"{example}.py"}
    for persona in sorted((source / "personas").glob("*")):
        if persona.is_file():
            plan[target / "personas" / persona.name] = persona
    plan[target / ".env.example"] = _ENV_EXAMPLE
    plan[target / "README.md"] = _README.format(name=target.resolve().name, example=example)
    existing = [p for p in plan if p.exists()]
    if existing and not force:
        raise ConfigError(
            f"{', '.join(str(p) for p in existing)} already exist: choose an empty directory "
            "or pass force=True (--force)"
        )
    for path, content in plan.items():
        path.parent.mkdir(parents=True, exist_ok=True)
        if isinstance(content, Path):
            shutil.copyfile(content, path)
        else:
            path.write_text(content)
    return list(plan)
