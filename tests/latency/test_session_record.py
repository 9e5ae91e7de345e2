"""A long session's event record does not grow by one usage copy per metric."""

from __future__ import annotations

import pytest
from livekit.agents.voice.events import SessionUsageUpdatedEvent

from halfcascade.testing import open_stack

pytestmark = [pytest.mark.contract, pytest.mark.timeout(120)]


async def test_only_the_latest_usage_update_is_recorded() -> None:
    updates: list[SessionUsageUpdatedEvent] = []
    async with open_stack(reply=lambda ctx: "Woof! Hello there.") as stack:
        assert stack.session is not None
        stack.session.on("session_usage_updated", updates.append)
        for _ in range(3):
            await stack.say("Hello Biscuit.")
            await stack.next_reply()
        recorded = [
            e for e in stack.session._recorded_events if isinstance(e, SessionUsageUpdatedEvent)
        ]
    assert len(updates) > 3  # livekit sent one per metric, listeners saw every one
    assert recorded == [updates[-1]]  # the report keeps the latest, cumulative one
