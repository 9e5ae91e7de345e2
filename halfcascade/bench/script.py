"""The scripted conversation every benchmark pipeline plays: a user and a puppy companion.

Replies are 3-8 words, as the companion apps this library is for ask for. Each reply has a
body and an opener that would fit it; :func:`script` opens a share of the replies with
their opener (70 % by default, the lines drawn with a fixed seed), so the phrase cache is
measured at a realistic hit rate, not at 100 %. Every pipeline plays the same replies.
"""

from __future__ import annotations

import random
from dataclasses import dataclass

__all__ = ["OPENERS", "TURNS", "ScriptedTurn", "script"]

#: Biscuit's signature openers (as in ``examples/personas/biscuit.toml``).
OPENERS: tuple[str, ...] = (
    "Woof!",
    "Yay!",
    "Ooh!",
    "Oh, hi!",
    "Hehe, yes!",
    "Yes, yes!",
    "Aw,",
    "Oh no!",
    "Okay!",
    "Hmm,",
)

#: (what the user says, the reply's body, an opener that fits it)
TURNS: tuple[tuple[str, str, str], ...] = (
    ("Hi Biscuit, are you awake?", "I'm up! Hi friend!", "Woof!"),
    ("Do you want to play fetch?", "Throw the ball, please!", "Yes, yes!"),
    ("Here it comes, catch it!", "Got it! That was fun.", "Yay!"),
    ("Are you hungry right now?", "Always hungry! Treats, please?", "Hehe, yes!"),
    ("What is your favourite food?", "Chicken, definitely chicken. Yum!", "Hmm,"),
    ("Do you like going to the park?", "I love the park so much!", "Ooh!"),
    ("It is raining outside today.", "Muddy paws again, I guess.", "Oh no!"),
    ("Shall we stay inside instead?", "Cozy blanket time then.", "Okay!"),
    ("Can you do a trick for me?", "Watch this, I can roll over!", "Ooh!"),
    ("That was amazing, good boy!", "Thank you! Tail wagging now.", "Yay!"),
    ("I had a long day at work.", "Come here, cuddles help.", "Aw,"),
    ("My boss was grumpy all day.", "Grumpy humans need puppies too.", "Oh no!"),
    ("You always cheer me up.", "That's my favourite job ever!", "Hehe, yes!"),
    ("Do you remember my name?", "Of course, you're my best friend.", "Woof!"),
    ("What should we do tomorrow?", "A long walk, maybe the beach?", "Hmm,"),
    ("Do you like the beach?", "Sand, waves, seagulls? I love it!", "Yes, yes!"),
    ("Are you scared of the vacuum?", "That monster is so loud.", "Oh no!"),
    ("I will protect you from it.", "My hero! Thank you so much.", "Aw,"),
    ("It is almost bedtime now.", "Sleepy puppy is ready.", "Okay!"),
    ("Good night Biscuit.", "Good night! Sweet dreams, friend.", "Aw,"),
    ("Wait, one more question.", "I'm listening. What is it?", "Oh, hi!"),
    ("Do you love me?", "More than all the treats!", "Woof!"),
)


@dataclass(frozen=True, slots=True)
class ScriptedTurn:
    """One line of the script: what the user says and what the model writes back."""

    line: str
    reply: str
    opener: str | None
    """The opener the reply starts with, or ``None``."""


def script(turns: int, *, opener_rate: float = 0.7, seed: int = 7) -> list[ScriptedTurn]:
    """``turns`` turns, cycling through :data:`TURNS`.

    Exactly ``round(opener_rate * n)`` of the first ``n = min(turns, len(TURNS))`` lines,
    drawn with ``seed``, open with their opener; a line keeps its reply when it comes round
    again.
    """
    n = min(turns, len(TURNS))
    chosen = set(random.Random(seed).sample(range(n), round(opener_rate * n)))
    out = []
    for i in range(turns):
        line, body, opener = TURNS[i % len(TURNS)]
        if i % len(TURNS) in chosen:
            out.append(ScriptedTurn(line, _opened(opener, body), opener))
        else:
            out.append(ScriptedTurn(line, body, None))
    return out


def _opened(opener: str, body: str) -> str:
    if opener.endswith(",") and not body.startswith(("I ", "I'")):
        body = body[0].lower() + body[1:]  # "Hmm, chicken..." rather than "Hmm, Chicken..."
    return f"{opener} {body}"
