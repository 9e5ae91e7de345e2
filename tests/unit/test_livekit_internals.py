"""Every livekit private name halfcascade touches still exists (fails loudly on upgrade)."""

from __future__ import annotations

import re
from pathlib import Path

from halfcascade._livekit import INTERNALS, Internal, check


def test_every_livekit_internal_halfcascade_uses_still_exists() -> None:
    assert check() == []


def test_a_renamed_internal_is_reported() -> None:
    gone = Internal("livekit.agents:AgentSession", "_renamed_in_a_future_release", "here")
    assert not gone.present()
    assert not Internal("livekit.agents:NoSuchClass", "_x", "here").present()


def test_every_module_named_as_a_user_exists() -> None:
    root = Path(__file__).resolve().parents[2]
    for entry in INTERNALS:
        path = root / (entry.used_by.replace(".", "/") + ".py")
        package = root / entry.used_by.replace(".", "/") / "__init__.py"
        assert path.is_file() or package.is_file(), entry
        text = (path if path.is_file() else package).read_text()
        assert re.search(rf"\b{re.escape(entry.name)}\b", text), entry
