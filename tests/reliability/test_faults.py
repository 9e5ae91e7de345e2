"""The short fault and soak run CI does (``halfcascade bench soak`` is the long one).

Randomized barge-ins and every injected fault kind through a real session, audio-only and
with the local avatar: no lifecycle warning, no stuck or silent turn, every turn after a
realtime drop answered, no ERROR traceback for a recovered drop.
"""

from __future__ import annotations

import asyncio
import gc

import pytest

from halfcascade.testing.faults_run import FAULTS, FaultReport, WarningLog, run_faults

pytestmark = [pytest.mark.contract, pytest.mark.soak]

STEPS = 8  # CI's short run; `halfcascade bench soak` runs the counts of the issue


def check(report: FaultReport, log: WarningLog, name: str) -> None:
    assert report.turns == STEPS, name
    assert report.stuck == 0, f"{name}: {report.stuck} stuck turns"
    assert report.silent == 0, f"{name}: {report.silent} silent turns"
    assert report.answered_after_drop == report.turns_after_drop, name


@pytest.mark.timeout(600)
async def test_barge_ins_and_faults_leave_no_warning_no_stuck_or_silent_turn() -> None:
    with WarningLog() as log:
        audio, avatar = await asyncio.gather(
            run_faults(steps=STEPS, seed=12, faults=("barge_in", *FAULTS)),
            run_faults(steps=STEPS, seed=13, faults=("barge_in", *FAULTS), avatar=True),
        )
    check(audio, log, "audio only")
    check(avatar, log, "local avatar")
    assert dict(log.lifecycle()) == {}
    assert log.tracebacks() == 0, [r.getMessage() for r in log.records if r.exc_info]


@pytest.mark.timeout(300)
async def test_realtime_drops_are_all_answered_and_logged_without_traceback() -> None:
    with WarningLog() as log:
        report = await run_faults(steps=2, seed=3, faults=("realtime_drop",))
    assert report.turns_after_drop == 2 and report.answered_after_drop == 2
    assert log.tracebacks() == 0
    assert any("reconnecting" in r.getMessage() for r in log.records)


@pytest.mark.timeout(300)
async def test_a_stalled_realtime_socket_is_noticed_and_the_repeated_words_answered() -> None:
    # the socket stays open and silent both ways (half-open TCP): livekit alone never
    # notices; the watchdog probes, then shuts it down, and livekit reconnects
    with WarningLog() as log:
        report = await run_faults(steps=2, seed=4, faults=("realtime_stall",))
    assert report.turns_after_drop == 2 and report.answered_after_drop == 2
    assert len(report.stall_recovery_times) == 2 and report.stuck == 0
    assert log.counts()["realtime connection stalled, reconnecting"] == 2
    assert log.tracebacks() == 0


@pytest.mark.timeout(300)
async def test_failed_responses_leave_no_unretrieved_error_behind() -> None:
    # livekit sets a failed response's future to an error nobody awaits; collected, it
    # would log "Future exception was never retrieved" at ERROR with a traceback
    with WarningLog() as log:
        report = await run_faults(steps=3, seed=5, faults=("realtime_5xx",))
        gc.collect()
        await asyncio.sleep(0)
    assert report.turns == 3 and report.stuck == 0
    assert not [m for m in log.counts() if "never retrieved" in m]
    assert log.tracebacks() == 0


@pytest.mark.timeout(300)
async def test_sessions_that_come_and_go_on_the_same_stand_ins() -> None:
    with WarningLog() as log:
        report = await run_faults(steps=4, seed=6, faults=("plain", "barge_in"), session_turns=2)
    assert report.turns == 4 and report.sessions == 2
    assert report.stuck == report.silent == 0
    assert dict(log.lifecycle()) == {} and log.tracebacks() == 0
    with pytest.raises(ValueError, match="session_turns"):
        await run_faults(steps=1, seed=1, session_turns=0)
