"""Deterministic companion conversations with evidence-annotated questions.

Each user talks with a companion over many sessions. Facts come up the way they do in a
conversation: the user mentions a topic, the companion asks, and the *answer* turn (the
evidence) often shares no word with the question asked later ("What has yoga been great
for?" / "My sleep is so much better since."). Besides these context questions there are
paraphrased ones (a question says "dog", the user said "puppy"), multi-fact questions
whose answer is spread over several sessions (with near-duplicate chatter about one of
the answers), temporal ones ("When did ... start the new job?", "What did ... do after the
concert?") and updated preferences (the newer statement is the evidence). Filler turns are
built from templates and reuse the facts' topic words, so every question has distractors.

Every turn is stored as one memory; a question's evidence are indices into the turns.
"""

from __future__ import annotations

import random
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from . import corpus_data as d

__all__ = ["Conversation", "Question", "Turn", "conversations"]

_DAY = 86400.0
_START = 1_672_531_200.0  # 2023-01-01


@dataclass(frozen=True, slots=True)
class Turn:
    """One utterance: who said it, what, when (seconds), in which session."""

    speaker: str
    text: str
    at: float
    session: int


@dataclass(frozen=True, slots=True)
class Question:
    """A question about the user and the turns that answer it (indices into the turns)."""

    text: str
    evidence: tuple[int, ...]
    kind: str


@dataclass(frozen=True, slots=True)
class Conversation:
    """A user's whole history with the companion and the questions asked about it."""

    user_id: str
    turns: tuple[Turn, ...]
    questions: tuple[Question, ...]
    speaker_prefix: bool

    def memory_text(self, index: int) -> str:
        """The text stored for turn ``index`` (``"Nora: ..."`` when speakers are named)."""
        turn = self.turns[index]
        return f"{turn.speaker}: {turn.text}" if self.speaker_prefix else turn.text


@dataclass(slots=True)
class _Pron:
    they: str
    their: str
    them: str


_PRONOUNS = (_Pron("she", "her", "her"), _Pron("he", "his", "him"), _Pron("they", "their", "them"))


class _Builder:
    """Lays out one conversation: episodes (facts) placed among filler, session by session."""

    def __init__(self, rng: random.Random, user_index: int, n_turns: int) -> None:
        self.rng = rng
        self.user = d.USER_NAMES[user_index % len(d.USER_NAMES)]
        self.companion = rng.choice(d.COMPANION_NAMES)
        self.pron = rng.choice(_PRONOUNS)
        self.n_turns = n_turns
        self.turns: list[Turn] = []
        self.questions: list[Question] = []
        self.session = 0
        self.at = _START + user_index * 3 * _DAY

    # -- low level -------------------------------------------------------------------

    def say(self, who: str, text: str) -> int:
        speaker = self.user if who == "u" else self.companion
        self.turns.append(Turn(speaker, text, self.at, self.session))
        self.at += self.rng.uniform(10, 90)
        return len(self.turns) - 1

    def ask(self, template: str, evidence: list[int], kind: str, **slots: str) -> None:
        text = template.format(
            u=self.user, they=self.pron.they, their=self.pron.their, them=self.pron.them, **slots
        )
        self.questions.append(Question(text, tuple(evidence), kind))

    def pick(self, options: tuple[str, ...]) -> str:
        return self.rng.choice(options)

    def follow_up(self, options: tuple[str, ...]) -> None:
        """The companion asks for more, or the user just goes on (a third of the time)."""
        if self.rng.random() < 0.67:
            self.say("c", self.pick(options))

    def new_session(self) -> None:
        self.session += 1
        self.at += self.rng.uniform(1, 12) * _DAY

    # -- filler ----------------------------------------------------------------------

    def filler(self) -> None:
        r = self.rng.random()
        if r < 0.35:
            self.say("u", self.pick(d.FILLER))
        elif r < 0.55:
            rel = self.pick(tuple(x[0] for x in d.RELATIVES))
            _, act = self.rng.choice(d.ACTIVITIES)
            line = self.pick(
                (
                    f"My {rel} wants to try {act} too.",
                    f"My {rel} was asking about you.",
                    f"Saw my {rel} today, we got coffee.",
                    f"I keep meaning to get back into {act}.",
                    f"No {act} this week, too busy.",
                    f"There's a {act} meetup near the station.",
                    f"Watched a documentary about {act}.",
                )
            )
            self.say("u", line)
        elif r < 0.65:
            self.say("u", f"[shares a photo of {self.pick(d.PHOTOS)}]")
            self.say("c", self.pick(("Gorgeous!", "Look at that!", "Love this.", "Ha, amazing.")))
            return
        elif r < 0.75:
            pet, _ = self.rng.choice(d.PETS)
            self.say("u", f"A {pet} at the park today made me so happy.")
        else:
            self.say("u", self.pick(d.FILLER))
        self.say("c", self.pick(d.COMPANION_ACKS))

    # -- episodes: each lays out its turns and asks its question(s) --------------------

    def activity(self, phrase: str, act: str, benefit: str) -> None:
        intro = self.say("u", phrase + self.pick((".", " lately.", ", it's been a while coming.")))
        if self.rng.random() < 0.3:  # the easy case: topic and answer in one turn
            self.turns[intro] = Turn(
                self.user, f"{phrase}. {benefit}", self.turns[intro].at, self.session
            )
            self.ask(self.pick(d.ACTIVITY_QUESTIONS), [intro], "single", activity=act)
            return
        self.follow_up(d.ACTIVITY_FOLLOWUPS)
        answer = self.say("u", benefit)
        self.ask(self.pick(d.ACTIVITY_QUESTIONS), [answer], "context", activity=act)

    def pet(self, pet: tuple[str, tuple[str, ...]], name: str) -> None:
        said, asked = pet
        self.say("u", self.pick((f"We adopted a {said}!", f"Big news: we got a {said}.")))
        if self.rng.random() < 0.3:
            self.say("c", self.pick(d.COMPANION_ACKS))
        self.say("c", self.pick(d.PET_FOLLOWUPS))
        answer = self.say("u", self.pick(d.PET_ANSWERS).format(name=name))
        kind = "context" if said in asked else "paraphrase"
        self.ask(self.pick(d.PET_QUESTIONS), [answer], kind, pet=self.pick(asked))

    def trip(self, trip: tuple[str, str], place: str) -> None:
        said, asked = trip
        self.say("u", self.pick(d.TRIP_INTROS).format(trip=said))
        self.follow_up(d.TRIP_FOLLOWUPS)
        answer = self.say("u", place)
        kind = "context" if said == asked else "paraphrase"
        self.ask(self.pick(d.TRIP_QUESTIONS), [answer], kind, trip=asked)

    def gift(self, rel: tuple[str, tuple[str, ...]], occasion: str, gift: str) -> None:
        said, asked = rel
        self.say("u", self.pick(d.GIFT_INTROS).format(rel=said, occasion=occasion))
        self.follow_up(d.GIFT_FOLLOWUPS)
        answer = self.say("u", gift)
        kind = "context" if said in asked[:1] else "paraphrase"
        self.ask(
            self.pick(d.GIFT_QUESTIONS), [answer], kind, rel=self.pick(asked), occasion=occasion
        )

    def direct(
        self, told: str, question: str, rel: tuple[str, tuple[str, ...]], value: str
    ) -> None:
        said, asked = rel
        if self.rng.random() < 0.3:
            self.say("c", self.pick(("How's the family?", "Any news from home?")))
        evidence = self.say("u", told.format(rel=said, v=value))
        self.say("c", self.pick(d.COMPANION_ACKS))
        kind = "direct" if said == asked[0] else "paraphrase"
        self.ask(question, [evidence], kind, rel=self.pick(asked))

    def milestone(self, told: str, question: str) -> None:
        if self.rng.random() < 0.4:
            self.say("c", "Anything new with you?")
        evidence = self.say("u", told.format(when=self.pick(d.WHEN)))
        self.say("c", self.pick(("Congratulations!", "Whoa, that's huge!", "How exciting!")))
        self.ask(question, [evidence], "temporal")

    def after(self, event: str, answer: str) -> None:
        self.say("u", event)
        self.say("c", self.pick(d.AFTER_FOLLOWUPS))
        evidence = self.say("u", answer)
        noun = event.split(" was ")[0].split(" finally ")[0].replace("The ", "").replace("My ", "")
        noun = noun.replace("We finished the ", "").split(" happened")[0].lower()
        self.ask(self.pick(d.AFTER_QUESTIONS), [evidence], "temporal", event=noun)


def _plan(b: _Builder) -> list[tuple[str, tuple[object, ...]]]:
    """The user's facts, each once: (episode, arguments), in a random order."""
    rng = b.rng
    plan: list[tuple[str, tuple[object, ...]]] = []
    acts = rng.sample(d.ACTIVITIES, 8)
    for (phrase, act), benefit in zip(acts, rng.sample(d.BENEFITS, 8), strict=True):
        plan.append(("activity", (phrase, act, benefit)))
    for pet, name in zip(rng.sample(d.PETS, 3), rng.sample(d.PET_NAMES, 3), strict=True):
        plan.append(("pet", (pet, name)))
    for trip, place in zip(rng.sample(d.TRIPS, 4), rng.sample(d.PLACES, 4), strict=True):
        plan.append(("trip", (trip, place)))
    rels = rng.sample(d.RELATIVES, 4)
    for rel, gift in zip(rels, rng.sample(d.GIFTS, 4), strict=True):
        plan.append(("gift", (rel, rng.choice(d.OCCASIONS), gift)))
    for rel in rng.sample(d.RELATIVES, 6):
        told, question, values = rng.choice(d.DIRECT)
        plan.append(("direct", (told, question, rel, rng.choice(values))))
    for told, question in rng.sample(d.MILESTONES, 5):
        plan.append(("milestone", (told, question)))
    for event, answer in zip(
        rng.sample(d.AFTER_EVENTS, 4), rng.sample(d.AFTER_ANSWERS, 4), strict=True
    ):
        plan.append(("after", (event, answer)))
    rng.shuffle(plan)
    return plan


def _multi_items(b: _Builder) -> list[tuple[int, str, str]]:
    """Multi-fact goals: (goal index, companion question, answer) to spread over sessions."""
    items = []
    for goal in b.rng.sample(range(len(d.GOALS)), 3):
        prompts, _, answers = d.GOALS[goal]
        for a in b.rng.sample(answers, b.rng.randint(3, 4)):
            items.append((goal, b.rng.choice(prompts), a))
    b.rng.shuffle(items)
    return items


def _build(seed: int, user_index: int, n_turns: int) -> Conversation:
    rng = random.Random(f"{seed}:{user_index}:{n_turns}")
    b = _Builder(rng, user_index, n_turns)
    plan = _plan(b)
    multi = _multi_items(b)
    changes = rng.sample(d.CHANGES, 2)
    # spread episodes over the whole history: each gets a turn position to start at
    events: list[tuple[str, Any]] = [(kind, args) for kind, args in plan]
    events += [("multi", item) for item in multi]
    events += [("change_old", c) for c in changes]
    slots = sorted(rng.sample(range(max(n_turns - 8, len(events) * 8)), len(events)))
    rng.shuffle(events)
    # updates must come after the statement they replace
    old = [i for i, e in enumerate(events) if e[0] == "change_old"]
    for i in old:
        events.append(("change_new", events[i][1]))
    slots += sorted(rng.sample(range(slots[-1] + 1, slots[-1] + 8 * len(old) + 2), len(old)))
    goal_evidence: dict[int, list[int]] = {}
    change_state: dict[str, tuple[str, str]] = {}
    session_end = rng.randint(12, 40)
    for slot, (kind, args) in zip(slots, events, strict=True):
        while len(b.turns) < slot:
            if len(b.turns) >= session_end:
                b.new_session()
                session_end = len(b.turns) + rng.randint(12, 40)
            b.filler()
        if kind == "multi":
            goal, cq, answer = args
            b.say("c", cq)
            goal_evidence.setdefault(goal, []).append(b.say("u", answer))
            if len(goal_evidence[goal]) == 1:  # chatter that repeats the first answer
                for _ in range(rng.randint(2, 4)):
                    b.say("u", f"{answer.rstrip('.!')} again, like I said.")
                    b.say("c", b.pick(d.COMPANION_ACKS))
        elif kind in ("change_old", "change_new"):
            old_t, new_t, what, values = args
            a, c = change_state.setdefault(what, tuple(rng.sample(values, 2)))
            if kind == "change_old":
                b.say("u", old_t.format(a=a))
            else:
                if rng.random() < 0.5:
                    new_t = f"My {what} now? {new_t}"
                ev = b.say("u", new_t.format(b=c))
                b.ask(f"What is {{u}}'s {what} these days?", [ev], "update")
            b.say("c", b.pick(d.COMPANION_ACKS))
        else:
            getattr(b, kind)(*args)
    while len(b.turns) < n_turns:
        if len(b.turns) >= session_end:
            b.new_session()
            session_end = len(b.turns) + rng.randint(12, 40)
        b.filler()
    for goal, evidence in goal_evidence.items():
        b.ask(d.GOALS[goal][1], evidence, "multi")
    return Conversation(
        user_id=f"user-{user_index}",
        turns=tuple(b.turns[:n_turns]),
        questions=tuple(q for q in b.questions if max(q.evidence) < n_turns),
        speaker_prefix=user_index % 2 == 0,
    )


def conversations(users: int, turns: int, *, seed: int = 13) -> Iterator[Conversation]:
    """``users`` conversations of about ``turns`` turns each (deterministic for a seed)."""
    for index in range(users):
        yield _build(seed, index, turns)
