"""``open_stack`` runs the same half-cascade on either brain's stand-in."""

from __future__ import annotations

import pytest

from halfcascade.testing.gemini_live import GeminiLiveServer
from halfcascade.testing.openai_realtime import RealtimeServer
from halfcascade.testing.stack import open_stack

pytestmark = pytest.mark.timeout(120)


@pytest.mark.parametrize(
    ("brain", "server_type"), [("openai", RealtimeServer), ("google", GeminiLiveServer)]
)
async def test_the_stack_answers_on_either_brain(brain: str, server_type: type) -> None:
    async with open_stack(reply=lambda ctx: "Woof! Hello friend.", brain=brain) as stack:  # type: ignore[arg-type]
        assert isinstance(stack.realtime, server_type)
        await stack.say("Hello there.")
        segment = await stack.next_reply()
        assert segment.duration > 0.5
        assert stack.tts.contexts and "Woof! Hello friend." in stack.tts.contexts[0].text


async def test_an_unknown_brain_is_refused() -> None:
    with pytest.raises(ValueError, match="openai' or 'google"):
        async with open_stack(reply="Woof!", brain="claude"):  # type: ignore[arg-type]
            pass
