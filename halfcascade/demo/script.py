"""What the demo says: two visits of the same user, and the offline brain's rule book.

The offline brain is the local OpenAI Realtime stand-in answering from a small rule book.
It knows nothing about the user except what the session's instructions carry: every name
or favourite it says back comes from the memory block halfcascade put there, so a reply
that names the user in the second visit is memory at work, not the script.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from ..testing.openai_realtime import ReplyContext

BRAINS = ("openai", "google")
"""The brains the demo runs on."""

__all__ = ["BRAINS", "SESSIONS", "USER_ID", "Visit", "rule_book"]

USER_ID = "demo-user"
"""Both visits are the same user: memories are scoped to this id."""


@dataclass(frozen=True, slots=True)
class Visit:
    """One session of the demo: a title and what the user says, in order."""

    title: str
    lines: tuple[str, ...]


SESSIONS: tuple[Visit, ...] = (
    Visit(
        "first visit",
        (
            "Hi Biscuit, my name is Sam.",
            "My favourite treat is peanut butter.",
            "I have to go now, see you tomorrow!",
        ),
    ),
    Visit(
        "the next day",
        (
            "Hi Biscuit, do you remember my name?",
            "What treat should I bring you?",
        ),
    ),
)

_NAME = re.compile(r"The user's name is ([^.\"\n]+)\.")
_TREAT = re.compile(r"The user's favorite treat is ([^.\"\n]+)\.")


def _remembered(pattern: re.Pattern[str], instructions: str) -> str | None:
    found = pattern.search(instructions)
    return found[1].strip() if found else None


def rule_book(ctx: ReplyContext) -> str:
    """The offline brain: keyword rules over the user's words, memory from the instructions
    (or, on Gemini, from the context turns a refresh adds).

    Replies open with one of Biscuit's openers, so the phrase cache plays them at once.
    """
    said = ctx.transcript.lower()
    # OpenAI gets memory refreshes as new instructions; Gemini as a model turn of context
    known = "\n".join(
        [ctx.instructions, *(str(i.get("text", "")) for i in ctx.items if i.get("role") != "user")]
    )
    name = _remembered(_NAME, known)
    treat = _remembered(_TREAT, known)
    if "remember my name" in said:
        return f"Woof! You're {name}, of course!" if name else "Hmm, I don't know yet. Tell me?"
    if "what treat" in said:
        return f"Ooh! {treat.capitalize()}, please!" if treat else "Hmm, surprise me!"
    if "my name is" in said:
        return "Oh, hi! I love new friends. Let's play fetch!"
    if "treat" in said:
        return "Peanut butter is the best thing ever!"
    if "see you" in said or "go now" in said:
        return f"Aw, bye {name}! Come back soon." if name else "Aw, bye! Come back soon."
    return "Woof? Say that again?"
