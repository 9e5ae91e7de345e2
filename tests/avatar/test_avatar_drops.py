"""Remote avatars dropping mid-reply, on a real livekit-server (``-m room``).

Issue 12: under avatar drops at random points there must be no stuck turn, no silent turn
and no livekit lifecycle warning. Each trial drops the stand-in avatar (a clean leave or a
server kick) while a reply streams through livekit's ``DataStreamAudioOutput``; the next
reply must reach a user participant through the audio-only fallback.
"""

from __future__ import annotations

import pytest

from halfcascade.testing.avatar_drops import AvatarDropReport, run_avatar_drops
from halfcascade.testing.livekit_server import LiveKitServer

pytestmark = pytest.mark.room


def _assert_clean(report: AvatarDropReport, trials: int) -> None:
    assert report.trials == trials, report.as_json()
    assert report.stuck == 0, report.as_json()
    assert report.silent == 0, report.as_json()
    assert report.heard == trials, report.as_json()
    assert len(report.switch_times) == trials, report.as_json()  # every drop fell back
    assert not report.lifecycle, report.as_json()
    # the one warning a drop should log, once per drop
    assert report.logged["avatar left the room; continuing audio-only"] == trials
    assert not [m for m in report.logged if "clear buffer" in m], report.as_json()


async def test_tavus_drops_at_random_points_never_stick_or_go_silent(lk: LiveKitServer) -> None:
    report = await run_avatar_drops(lk, trials=7, seed=12, provider="tavus")
    _assert_clean(report, 7)
    assert report.drops["leave"] and report.drops["kick"]


async def test_runway_drops_at_random_points_never_stick_or_go_silent(lk: LiveKitServer) -> None:
    report = await run_avatar_drops(lk, trials=3, seed=5, provider="runway")
    _assert_clean(report, 3)


async def test_drop_before_the_avatar_reports_playback_start(lk: LiveKitServer) -> None:
    # the avatar took the reply's first audio and vanished before saying it plays: the
    # guard's start must not wait for it, and the reply must still end
    report = await run_avatar_drops(lk, trials=2, seed=0, provider="tavus", before_start=True)
    _assert_clean(report, 2)
    assert report.drops == {"before_start": 2, "leave": 1, "kick": 1}


async def test_the_soak_drops_avatars_of_both_providers_and_judges_them(
    lk: LiveKitServer,
) -> None:
    """``halfcascade bench soak --avatar-drops N``: N drops on each provider, and a tenth of
    N (at least one) before the start report on each."""
    from halfcascade.bench.soak_avatar import run_avatar_part

    part, missed = await run_avatar_part(3, seed=4)
    assert missed == [], part
    assert {k: (v["provider"], v["trials"]) for k, v in part.items()} == {
        "tavus": ("tavus", 3),
        "runway": ("runway", 3),
        "tavus before start": ("tavus", 1),
        "runway before start": ("runway", 1),
    }
    assert part["runway before start"]["drops"]["before_start"] == 1
