"""Two worker processes on one livekit-server, memory on one PostgreSQL (``-m room``).

LiveKit offers each dispatched room to an available worker; a worker full at
``HALFCASCADE_MAX_JOBS`` takes no more (the next worker gets the room), and a worker that
is stopped (SIGTERM: livekit drains it) takes no new room but finishes its own, while
every room dispatched meanwhile is served by the other one.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from _harness import User, WorkerProcess, reports, unavailable
from livekit import api

from halfcascade.testing import ElevenLabsServer, RealtimeServer
from halfcascade.testing.livekit_server import API_KEY, API_SECRET, LiveKitServer
from halfcascade.testing.postgres import TemporaryPostgres, postgres_unavailable_reason
from halfcascade.worker import AgentNotJoinedError, wait_for_agent

pytestmark = pytest.mark.room

USER = "u-scale"


@pytest.fixture
def postgres() -> Iterator[TemporaryPostgres]:
    if (reason := postgres_unavailable_reason()) is not None:
        unavailable(reason)
    with TemporaryPostgres(settings={"fsync": "off"}) as pg:
        yield pg


async def _serve(lk: LiveKitServer, rooms: list[str]) -> list[User]:
    """Users join ``rooms`` together; returns once every room's agent listens."""
    users = [User(lk, r, metadata={"user_id": USER}) for r in rooms]
    for u in users:  # a burst, staggered enough for each worker's availability answer
        await u.join()
    client = api.LiveKitAPI(lk.http_url, API_KEY, API_SECRET)
    try:
        await asyncio.gather(*(wait_for_agent(r, within=30, lkapi=client) for r in rooms))
    except AgentNotJoinedError as e:
        raise AssertionError(f"{e}\nlivekit-server said:\n{lk.log_tail(40)}") from None
    finally:
        await client.aclose()
    return users


async def test_full_and_draining_workers_pass_rooms_to_the_next(
    lk: LiveKitServer,
    tmp_path: Path,
    postgres: TemporaryPostgres,
    worker_env: Callable[..., dict[str, str]],
) -> None:
    async with RealtimeServer(reply="Hi!") as realtime, ElevenLabsServer() as tts:
        env = {**worker_env(realtime, tts), "HC_TEST_MEMORY_DSN": postgres.dsn, "HC_TEST_IDLE": "2"}
        a = WorkerProcess(lk, tmp_path / "a.log", env={**env, "HALFCASCADE_MAX_JOBS": "2"})
        b = WorkerProcess(lk, tmp_path / "b.log", env={**env, "HALFCASCADE_MAX_JOBS": "4"})
        first: list[User] = []
        second: list[User] = []
        try:
            await a.start()
            first = await _serve(lk, ["first-0", "first-1"])  # A alone: both on A, A full
            await b.start()
            # A is full: LiveKit offers these to B (or A refuses them and B gets them)
            first += await _serve(lk, ["first-2", "first-3"])
            await a.drain()  # SIGTERM: no new jobs on A, its running jobs go on
            await asyncio.sleep(1.0)
            # B runs 2 of 4: a load of 0.35, below livekit-server's target load of 0.7
            second = await _serve(lk, ["second-0", "second-1"])
            # A's sessions are still served while it drains
            client = api.LiveKitAPI(lk.http_url, API_KEY, API_SECRET)
            try:
                for u in first:
                    await wait_for_agent(u.room_name, within=5, lkapi=client)
            finally:
                await client.aclose()
        finally:
            for u in [*first, *second]:
                await u.leave()
            a_rc = await a.stop(within=30)
            await b.stop(within=30)
    jobs = {str(j["room"]): j for j in reports(tmp_path / "jobs.jsonl")}
    assert set(jobs) == {*(f"first-{i}" for i in range(4)), "second-0", "second-1"}
    workers = {room: j["worker_id"] for room, j in jobs.items()}
    assert workers["first-0"] == workers["first-1"] == a.worker_id, workers
    assert workers["first-2"] == workers["first-3"] == b.worker_id, workers  # A was full
    assert workers["second-0"] == workers["second-1"] == b.worker_id, workers  # A drained
    assert a_rc == 0  # A drained: it exited cleanly once its rooms ended
    # one PostgreSQL for both workers: the later rooms saw notes written on both
    pids = {str(j["worker_pid"]) for n, j in jobs.items() if n.startswith("first")}
    seen = " ".join(str(m) for n in ("second-0", "second-1") for m in jobs[n]["memories_seen"])
    assert len(pids) >= 2 and all(pid in seen for pid in pids), seen
