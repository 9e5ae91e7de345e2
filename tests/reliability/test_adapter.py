"""Every livekit internal the failover uses is still there (fails loudly on upgrade)."""

from __future__ import annotations

from halfcascade.speech import failover_lk


def test_livekit_still_has_what_the_failover_uses() -> None:
    failover_lk.check()
