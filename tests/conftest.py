"""Shared test set-up: offline, no provider keys leaking in from the developer's shell."""

from __future__ import annotations

import os
from collections.abc import Iterator

import pytest

from halfcascade.testing.conformance import recording

os.environ["HF_HUB_OFFLINE"] = "1"
os.environ["HF_DATASETS_OFFLINE"] = "1"

_PROVIDER_VARS = (
    "OPENAI_API_KEY",
    "OPENAI_BASE_URL",
    "ELEVEN_API_KEY",
    "GOOGLE_API_KEY",
    "GOOGLE_APPLICATION_CREDENTIALS",
    "TAVUS_API_KEY",
    "RUNWAYML_API_SECRET",
    "LIVEKIT_API_KEY",
    "LIVEKIT_API_SECRET",
    "LIVEKIT_URL",
)


@pytest.fixture(autouse=True)
def _no_provider_env(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in _PROVIDER_VARS:
        monkeypatch.delenv(name, raising=False)


@pytest.fixture(autouse=True)
def _stand_ins_conform(request: pytest.FixtureRequest) -> Iterator[None]:
    """Every message any stand-in sends during any test must pass the provider SDK's types."""
    with recording() as rec:
        yield
    if request.node.get_closest_marker("nonconforming") is None and (report := rec.report()):
        pytest.fail(report, pytrace=False)
