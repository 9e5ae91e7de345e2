"""Check what the stand-ins send against the providers' own published types.

A stand-in that sends something the real service never would turns a green test into a
production failure, so every stand-in reports each message it emits through :func:`emit`.
Inside :func:`recording` (the project's test suite wraps every test in one), those
messages are kept and afterwards validated by the provider's schema module: the ``openai``
package's Realtime event models, the ``elevenlabs`` SDK's message types, and so on. Outside
a recording, :func:`emit` is one truthiness check.

Use it in your own suite::

    from halfcascade.testing.conformance import recording

    @pytest.fixture(autouse=True)
    def _conformance():
        with recording() as rec:
            yield
        assert not rec.violations(), rec.report()

Each provider's validator lives next to its stand-in (``halfcascade.testing.<provider>.schema``
with a ``validate(kind, payload)`` function that raises on a message its SDK rejects) and
is imported only when a recording is checked, so a user without that SDK pays nothing.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any, Literal

__all__ = ["Emitted", "Provider", "Recording", "Violation", "emit", "recording"]

#: The stand-ins that report what they send; each names a ``schema`` module below.
Provider = Literal[
    "openai_realtime", "elevenlabs", "openai_tts", "tavus", "runway", "gemini_live", "google_tts"
]

_SCHEMA_MODULES: dict[str, str] = {
    "openai_realtime": "halfcascade.testing.openai_realtime.schema",
    "elevenlabs": "halfcascade.testing.elevenlabs.schema",
    "openai_tts": "halfcascade.testing.openai_tts.schema",
    "tavus": "halfcascade.testing.tavus.schema",
    "runway": "halfcascade.testing.runway.schema",
    "gemini_live": "halfcascade.testing.gemini_live.schema",
    "google_tts": "halfcascade.testing.google_tts.schema",
}
_PREVIEW = 300  # characters of an offending payload shown in a report


@dataclass(frozen=True, slots=True)
class Emitted:
    """One message a stand-in sent.

    ``kind`` is the provider's own name for the message family (for example
    ``"server_event"`` for a Realtime websocket event, ``"http_error"`` for a JSON error
    body); the provider's schema module decides how each kind is validated.
    """

    provider: Provider
    kind: str
    payload: Any


@dataclass(frozen=True, slots=True)
class Violation:
    """A message the provider's SDK types reject, with the reason."""

    emitted: Emitted
    reason: str

    def __str__(self) -> str:
        body = repr(self.emitted.payload)
        if len(body) > _PREVIEW:
            body = body[:_PREVIEW] + "..."
        return f"{self.emitted.provider}/{self.emitted.kind}: {self.reason}\n    {body}"


@dataclass(slots=True)
class Recording:
    """Messages emitted while a :func:`recording` was open."""

    emitted: list[Emitted] = field(default_factory=list)

    def violations(self) -> list[Violation]:
        """Validate every message with its provider's schema; return the rejected ones."""
        found: list[Violation] = []
        validators: dict[str, Callable[[str, Any], None]] = {}
        for item in self.emitted:
            validate = validators.get(item.provider)
            if validate is None:
                module = importlib.import_module(_SCHEMA_MODULES[item.provider])
                validate = validators[item.provider] = module.validate
            try:
                validate(item.kind, item.payload)
            except Exception as exc:  # any rejection is reported, whatever the SDK raises
                found.append(Violation(item, f"{type(exc).__name__}: {exc}"))
        return found

    def report(self) -> str:
        """A readable list of the violations (empty when there are none)."""
        bad = self.violations()
        if not bad:
            return ""
        lines = [f"{len(bad)} of {len(self.emitted)} stand-in messages fail the SDK types:"]
        lines += [str(v) for v in bad[:20]]
        if len(bad) > 20:
            lines.append(f"... and {len(bad) - 20} more")
        return "\n".join(lines)


_active: list[Recording] = []


def emit(provider: Provider, kind: str, payload: Any) -> None:
    """Report a message a stand-in sends (a no-op unless a recording is open)."""
    if _active:
        item = Emitted(provider, kind, payload)
        for rec in _active:
            rec.emitted.append(item)


@contextmanager
def recording() -> Iterator[Recording]:
    """Keep every message the stand-ins emit until the block ends."""
    rec = Recording()
    _active.append(rec)
    try:
        yield rec
    finally:
        _active.remove(rec)
