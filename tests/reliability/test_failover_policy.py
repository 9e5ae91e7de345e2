"""Failover deadlines and the resume point, without sockets."""

from __future__ import annotations

import numpy as np
import pytest
from livekit import rtc
from livekit.agents.types import TimedString

from halfcascade.errors import ConfigError
from halfcascade.speech import failover_lk
from halfcascade.speech.failover_health import FailoverPolicy, VoiceHealth
from halfcascade.speech.failover_stream import _Heard

pytestmark = pytest.mark.unit


def test_the_deadline_follows_the_measured_p95_plus_the_margin() -> None:
    health = VoiceHealth(FailoverPolicy(margin=0.4, initial_deadline=0.9))
    assert health.deadline == 0.9  # nothing measured yet
    for ttfb in (0.1, 0.1, 0.1, 0.1, 0.3):
        health.record_ttfb(ttfb)
    assert health.p95 is not None and 0.25 < health.p95 <= 0.3
    assert health.deadline == pytest.approx(health.p95 + 0.4)


def test_a_margin_over_one_second_is_refused_by_name() -> None:
    with pytest.raises(ConfigError, match="margin"):
        FailoverPolicy(margin=1.5)


def _frame(seconds: float, words: list[TimedString] | None = None) -> rtc.AudioFrame:
    n = int(24000 * seconds)
    frame = rtc.AudioFrame(np.zeros(n, np.int16).tobytes(), 24000, 1, n)
    if words:
        frame.userdata[failover_lk.TIMED_TRANSCRIPT] = words
    return frame


def test_with_word_timings_the_rest_starts_at_the_first_word_not_heard_in_full() -> None:
    heard = _Heard()
    words = [
        TimedString("I ", start_time=0.0, end_time=0.2),
        TimedString("found ", start_time=0.2, end_time=0.5),
        TimedString("a ", start_time=0.5, end_time=0.6),
        TimedString("ball.", start_time=0.6, end_time=1.0),
    ]
    heard.add(_frame(0.55, words))
    assert heard.rest_of("I found a ball.", 0.06) == "a ball."


def test_without_timings_the_estimate_rounds_down_so_no_word_is_lost() -> None:
    heard = _Heard()
    heard.add(_frame(0.5))
    rest = heard.rest_of("one two three four five six seven", 0.06)
    assert rest.endswith("seven") and len(rest.split()) >= 5
    assert _Heard().rest_of("untouched text", 0.06) == "untouched text"
