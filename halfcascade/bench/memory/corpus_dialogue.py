"""A second, independent evaluation corpus: two friends catching up over many sessions.

``corpus.py`` writes companion conversations whose answers avoid the question's words on
purpose. This generator is written apart from it (and from the ranker) in the style of
LoCoMo: two people, both speaking, many dated sessions of long chatty turns; news is told
in one turn, the friend's reply repeats its topic words ("Iceland?! Jealous. What did you
get up to?"), details follow in turns that may or may not share a word with the question
asked later; topics come back in later sessions (distractors with the same words).

Question kinds, each answered by annotated turns:

- ``single``: one turn answers; the question shares words with it, or (a detail told
  after the news) none;
- ``multi``: the answer is spread over several sessions ("Which places has ... visited?");
- ``temporal``: "When did ...?" about the turn that told the news;
- ``open``: an inference from what was said ("Would ... enjoy a ceramics workshop?").

Both speakers' turns are stored for one user id, one memory per turn; the first of each
two conversations stores ``"Name: text"``, the other the bare text.
"""

from __future__ import annotations

import random
from collections.abc import Callable, Iterator
from functools import partial
from typing import Any

from . import corpus_dialogue_data as d
from .corpus import Conversation, Question, Turn

__all__ = ["dialogues"]

_DAY = 86400.0
_START = 1_683_000_000.0  # May 2023


class _Talk:
    """One conversation being written: turns, questions, the session clock."""

    def __init__(self, rng: random.Random, index: int) -> None:
        self.rng = rng
        first = (2 * index) % len(d.PEOPLE)
        self.names = (d.PEOPLE[first], d.PEOPLE[first + 1])
        self.turns: list[Turn] = []
        self.questions: list[Question] = []
        self.session = 0
        self.at = _START + index * _DAY
        self.multi: dict[tuple[int, str], list[int]] = {}

    def say(self, who: int, text: str) -> int:
        self.turns.append(Turn(self.names[who], text.format(o=self.names[1 - who]), self.at,
                               self.session))  # fmt: skip
        self.at += self.rng.uniform(20, 150)
        return len(self.turns) - 1

    def ask(self, text: str, evidence: list[int], kind: str, who: int) -> None:
        self.questions.append(Question(text.format(p=self.names[who]), tuple(evidence), kind))

    def pick(self, options: tuple[str, ...]) -> str:
        return self.rng.choice(options)

    def chance(self, p: float) -> bool:
        return self.rng.random() < p

    def new_session(self) -> None:
        self.session += 1
        self.at += self.rng.uniform(2, 20) * _DAY

    def small_talk(self) -> None:
        """A turn of chit-chat, or a friend's reaction to it."""
        who = self.rng.randrange(2)
        r = self.rng.random()
        if r < 0.4:
            self.say(who, self.pick(d.CHATTER))
        elif r < 0.7:
            self.say(who, self.pick(d.REACTIONS))
        else:
            self.say(who, f"{self.pick(d.REACTIONS)} {self.pick(d.CHATTER)}")


def _pron(who: int) -> tuple[str, str]:
    return ("she", "her") if who == 0 else ("he", "his")


def _hobby(t: _Talk, who: int, h: tuple[str, ...], later: list[Callable[[], None]]) -> None:
    noun, gerund, place, made, inference, benefit = h
    other, when = 1 - who, t.pick(d.WHEN)
    intro = t.say(who, t.pick((
        f"Guess what, I finally started {gerund}! I joined a group at {place} {when}.",
        f"So I've gotten really into {noun} lately. My first session at {place} was {when}.",
        f"Okay random update: I signed up for {noun} at {place} {when} and I'm hooked.",
    )))  # fmt: skip
    t.say(other, t.pick((
        f"No way, {noun}?! That's so cool, {{o}}. How did the first time go?",
        f"Oh I love that you're doing {noun}! I always wanted to try it. Is it hard?",
        f"{noun.capitalize()}, wow! Look at you trying new things. What got you into it?",
    )))  # fmt: skip
    detail = t.say(who, benefit)
    if t.chance(0.6):
        t.say(other, t.pick(d.REACTIONS))
    shown = t.say(who, f"[shares a photo of {made}] And look, {made}! Not bad for a beginner.")
    t.say(other, t.pick(("Stop, that's amazing!", "Wow, frame that immediately.")))
    t.ask(f"When did {{p}} start {gerund}?", [intro], "temporal", who)
    t.ask(f"Where does {{p}} go for {noun}?", [intro], "single", who)
    t.ask(f"What does {{p}} say {noun} has done for {_pron(who)[1]} life?", [detail], "single",
          who)  # fmt: skip
    t.ask(f"What did {{p}} show {t.names[other]} from {noun}?", [shown], "single", who)
    t.ask(inference, [intro, detail], "open", who)
    t.multi.setdefault((who, "hobby"), []).append(intro)
    later.append(lambda: _again(t, who, (
        f"Had another {noun} session {{w}}, still loving it.",
        f"I skipped {noun} {{w}} and honestly I missed it.",
        f"Back at {place} {{w}}, a new person joined and I got to show them around.",
        f"{gerund.capitalize()} is still my happy place, even after a long week.",
    )))  # fmt: skip


def _again(t: _Talk, who: int, texts: tuple[str, ...]) -> None:
    """An old topic comes back, in one of a few ways."""
    t.say(who, t.pick(texts).format(w=t.pick(d.WHEN)))
    t.say(1 - who, t.pick(d.REACTIONS))


def _pet(t: _Talk, who: int, pet: tuple[object, ...], later: list[Callable[[], None]]) -> None:
    kind, names, look, did = pet
    assert isinstance(kind, str) and isinstance(names, tuple) and isinstance(did, str)
    name, other = t.pick(names), 1 - who
    when = t.pick(d.WHEN)
    intro = t.say(who, t.pick((
        f"We adopted a {kind} {when}! {name}, {look}, total chaos.",
        f"Meet {name}, our new {kind}! Brought {name} home from the shelter {when}.",
        f"So there's a {kind} in my life now: {name}, {look}. Picked up {when}.",
    )))  # fmt: skip
    t.say(other, f"Oh my gosh, {name}! I need pictures of this {kind} immediately.")
    trouble = t.say(who, f"Ha, sure. Fair warning: {name} already {did}.")
    t.say(other, t.pick(d.REACTIONS))
    t.ask(f"What is the name of {{p}}'s {kind}?", [intro], "single", who)
    t.ask(f"When did {{p}} get a {kind}?", [intro], "temporal", who)
    t.ask(f"What mischief has {{p}}'s {kind} gotten into?", [trouble], "single", who)
    t.multi.setdefault((who, "pet"), []).append(intro)
    later.append(lambda: _again(t, who, (
        f"{name} says hi, by the way. Asleep on my feet again.",
        f"Took {name} to the vet {{w}}, all healthy, just a bit chubby.",
        f"{name} has a new favorite toy, a squeaky carrot. It's driving me nuts.",
    )))  # fmt: skip


def _family(t: _Talk, who: int, fam: tuple[object, ...]) -> None:
    rel, past, base, detail, question, fills = fam
    assert isinstance(detail, str) and isinstance(question, str) and isinstance(fills, tuple)
    other = 1 - who
    when = t.pick(d.WHEN)
    intro = t.say(who, t.pick((
        f"Big family news: my {rel} {past} {when}!",
        f"So, update from home, my {rel} {past} {when}. Still processing it.",
        f"You won't believe it, my {rel} {past} {when}!",
    )))  # fmt: skip
    t.say(other, f"What?! Tell your {rel} congrats from me. How is everyone?")
    told = t.say(who, detail.format(n=t.pick(fills)))
    t.say(other, t.pick(d.REACTIONS))
    t.ask(f"When did {{p}}'s {rel} {base}?", [intro], "temporal", who)
    t.ask(f"What family news did {{p}} share about {_pron(who)[1]} {rel}?", [intro], "single", who)
    t.ask(question, [told], "single", who)
    t.multi.setdefault((who, "family"), []).append(intro)


def _trip(t: _Talk, who: int, trip: tuple[str, str, str], later: list[Callable[[], None]]) -> None:
    place, length, did = trip
    other = 1 - who
    intro = t.say(who, t.pick((
        f"We just got back from {length} in {place}, I'm still unpacking.",
        f"Finally took that vacation! {length.capitalize()} in {place}, it was a dream.",
        f"Hi from the airport, flying home after {length} in {place}.",
    )))  # fmt: skip
    t.say(other, f"{place}?! So jealous. What did you get up to?")
    told = t.say(who, did)
    t.say(other, t.pick(d.REACTIONS))
    t.ask(f"When did {{p}} travel to {place}?", [intro], "temporal", who)
    t.ask(f"How long was {{p}}'s stay in {place}?", [intro], "single", who)
    t.ask(f"What did {{p}} do on the trip to {place}?", [told], "single", who)
    t.multi.setdefault((who, "trip"), []).append(intro)
    later.append(lambda: _again(t, who, (
        f"I keep looking at photos from {place}, I miss it.",
        f"Someone at work is going to {place} next month, I gave them a whole list.",
        f"Made a photo book of the {place} trip {{w}}, it came out so nice.",
    )))  # fmt: skip


def _concert(t: _Talk, who: int, show: tuple[str, str]) -> None:
    band, moment = show
    when = t.pick(d.WHEN)
    intro = t.say(who, t.pick((
        f"I went to see {band} {when}, best night in ages.",
        f"Got last-minute tickets for {band} {when} and my ears are still ringing!",
    )))  # fmt: skip
    t.say(1 - who, f"Ahh, {band}! Was it as good as you hoped?")
    told = t.say(who, f"Even better, {moment}.")
    t.ask(f"When did {{p}} see {band} live?", [intro], "temporal", who)
    t.ask(f"Which band did {{p}} get to see {when}?", [intro], "single", who)
    t.ask(f"What was the highlight of the {band} show for {{p}}?", [told], "single", who)


def _job(t: _Talk, who: int, job: tuple[str, str, str, str], first: int) -> None:
    _old, new, workplace, detail = job
    intro = t.say(who, f"So I have news: I got promoted to {new} at {workplace}!")
    t.say(1 - who, "Congratulations!! That's huge. What does it mean day to day?")
    told = t.say(who, f"Well, {detail}, which is exciting and terrifying.")
    t.ask("What position was {p} promoted to?", [intro], "single", who)
    t.ask("How did {p}'s work change after the promotion?", [told], "single", who)
    t.ask("What did {p} do for a living before?", [first], "single", who)


def _book(t: _Talk, who: int, book: tuple[str, str]) -> None:
    title, about = book
    intro = t.say(who, t.pick((
        f"I'm reading '{title}' right now and I can't put it down.",
        f"My sister lent me '{title}' and I stayed up until 2 am with it.",
        f"Book club picked '{title}' this month, I'm halfway through.",
    )))  # fmt: skip
    t.say(1 - who, "Ooh, what's it about? I need something new.")
    told = t.say(who, f"It's about {about}. You'd love it.")
    t.ask(f"What is the book {{p}} recommended to {t.names[1 - who]} about?", [told], "single",
          who)  # fmt: skip
    t.ask("Which book did {p} get really into?", [intro], "single", who)
    t.multi.setdefault((who, "book"), []).append(intro)


_MULTI = {
    "hobby": "What activities has {p} taken up?",
    "pet": "What pets does {p} have?",
    "family": "What happened in {p}'s family?",
    "trip": "Which places has {p} traveled to?",
    "book": "What books has {p} read?",
}


def _split(t: _Talk) -> tuple[dict[str, list[Any]], dict[str, list[Any]]]:
    """Each friend's own facts: no trip, pet, book... is told by both (answers stay unique)."""
    sources: dict[str, tuple[tuple[Any, ...], int]] = {
        "hobby": (d.HOBBIES, 4), "pet": (d.PETS, 2), "family": (d.FAMILY, 3),
        "trip": (d.TRIPS, 4), "concert": (d.CONCERTS, 2), "book": (d.BOOKS, 3), "job": (d.JOBS, 1),
    }  # fmt: skip
    a: dict[str, list[Any]] = {}
    b: dict[str, list[Any]] = {}
    for what, (items, n) in sources.items():
        both = t.rng.sample(items, min(2 * n, len(items)))
        a[what], b[what] = both[: len(both) // 2], both[len(both) // 2 :]
    return a, b


def _episodes(
    t: _Talk, who: int, own: tuple[dict[str, list[Any]], ...], later: list[Callable[[], None]]
) -> list[Callable[[], None]]:
    job = own[who]["job"][0]
    out: list[Callable[[], None]] = []
    out += [partial(_hobby, t, who, h, later) for h in own[who]["hobby"]]
    out += [partial(_pet, t, who, p, later) for p in own[who]["pet"]]
    out += [partial(_family, t, who, f) for f in own[who]["family"]]
    out += [partial(_trip, t, who, x, later) for x in own[who]["trip"]]
    out += [partial(_concert, t, who, c) for c in own[who]["concert"]]
    out += [partial(_book, t, who, b) for b in own[who]["book"]]
    first: list[int] = []
    out.insert(0, lambda: first.append(t.say(who, f"Long day at {job[2]}, being a {job[0]} is "
                                                  "exhausting sometimes.")))  # fmt: skip
    out.append(lambda: _job(t, who, job, first[0]))
    return out


def _build(seed: int, index: int, n_turns: int) -> Conversation:
    t = _Talk(random.Random(f"dialogue:{seed}:{index}:{n_turns}"), index)
    later: list[Callable[[], None]] = []
    own = _split(t)
    plans = [_episodes(t, who, own, later) for who in (0, 1)]
    for plan in plans:  # the old job comes first, the promotion last; the rest in any order
        middle = plan[1:-1]
        t.rng.shuffle(middle)
        plan[1:-1] = middle
    news = [e for pair in zip(*plans, strict=True) for e in pair]
    # news is spread over the history, with chit-chat around it (sessions of ~22 turns)
    slots = sorted(t.rng.sample(range(max(n_turns * 3 // 4, 8 * len(news))), len(news)))
    for slot, episode in zip(slots, news, strict=True):
        _until(t, slot, later)
        episode()
    _until(t, n_turns, later)
    for (who, what), evidence in t.multi.items():
        if len(evidence) > 1:
            t.ask(_MULTI[what], evidence, "multi", who)
    return Conversation(
        user_id=f"friends-{index}",
        turns=tuple(t.turns[:n_turns]),
        questions=tuple(q for q in t.questions if max(q.evidence) < n_turns),
        speaker_prefix=index % 2 == 0,
    )


def _until(t: _Talk, slot: int, later: list[Callable[[], None]]) -> None:
    """Chit-chat (and sessions) until the history is ``slot`` turns long."""
    while len(t.turns) < slot:
        if t.chance(1 / 22):  # a session ends, the next begins days later
            t.say(t.rng.randrange(2), t.pick(d.CLOSERS))
            t.new_session()
            who = t.rng.randrange(2)
            t.say(who, t.pick(d.OPENERS))
            t.say(1 - who, t.pick(d.CHATTER))
        elif later and t.chance(0.08):  # an old topic comes back
            t.rng.choice(later)()
        else:
            t.small_talk()


def dialogues(users: int, turns: int, *, seed: int = 13) -> Iterator[Conversation]:
    """``users`` two-friend conversations of about ``turns`` turns (deterministic)."""
    for index in range(users):
        yield _build(seed, index, turns)
