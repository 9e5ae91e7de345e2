"""The fault and soak suite: ``-m soak`` runs the short version CI runs."""

from __future__ import annotations

import pytest


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "soak: randomized barge-ins and faults (short CI version)")
