"""Shared by every conformance test: a stand-in answers bad input the way the real service
does, never with a server-side traceback."""

from __future__ import annotations

import logging
from collections.abc import Iterator

import pytest


@pytest.fixture(autouse=True)
def _no_server_tracebacks(caplog: pytest.LogCaptureFixture) -> Iterator[None]:
    caplog.set_level(logging.WARNING)
    yield
    loud = [
        r
        for r in caplog.records
        if r.levelno >= logging.ERROR and r.name.startswith(("halfcascade.testing", "aiohttp"))
    ]
    assert not loud, [r.getMessage() for r in loud]
