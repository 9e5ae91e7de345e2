"""The soak's remote-avatar drops: ``halfcascade bench soak --avatar-drops N``.

A remote avatar (Tavus, Runway) is a participant of a real room, so its drops need a real
``livekit-server`` and run apart from the sessions of the soak, after them: ``N`` trials
of :func:`halfcascade.testing.avatar_drops.run_avatar_drops` on each provider's stand-in
(the avatar leaves or is cut off by the server 0.1-1.5 s into a reply), then a tenth of
``N`` more on each (at least one) dropping the moment the avatar took the reply's first
audio, before it reports that playback started. Each trial is judged as the avatar tests
judge it: no stuck turn, no silent one, no lifecycle warning, the session fell back to
audio into the room and the next reply was heard; an avatar that never joined dropped
nothing, so it is a miss, not a pass. A part that cannot run (no server, a server that
fails) is a miss too, and the sessions' report is kept.
"""

from __future__ import annotations

from typing import Any, Literal

__all__ = ["run_avatar_part"]

Provider = Literal["tavus", "runway"]


def _parts(trials: int) -> list[tuple[str, Provider, int, bool]]:
    """``(name, provider, trials, before_start)`` for each run of drops."""
    before = max(1, trials // 10)
    return [
        ("tavus", "tavus", trials, False),
        ("runway", "runway", trials, False),
        ("tavus before start", "tavus", before, True),
        ("runway before start", "runway", before, True),
    ]


async def run_avatar_part(trials: int, seed: int) -> tuple[dict[str, Any], list[str]]:
    """The report's ``avatar_drops`` section, and the targets it missed."""
    from ..testing.avatar_drops import AvatarDropReport, run_avatar_drops
    from ..testing.livekit_server import LiveKitServer, find_server_binary

    if trials < 1:
        raise ValueError(f"avatar drops need trials >= 1, got {trials}")
    if find_server_binary() is None:
        why = (
            "livekit-server not found: set LIVEKIT_SERVER_BIN, or run `go install "
            "github.com/livekit/livekit-server/cmd/server@v1.13.5`"
        )
        return {"skipped": why}, [f"avatar drops not run: {why}"]
    reports: dict[str, AvatarDropReport] = {}
    try:
        async with LiveKitServer() as lk:
            for i, (name, provider, n, before_start) in enumerate(_parts(trials)):
                reports[name] = await run_avatar_drops(
                    lk,
                    trials=n,
                    seed=seed * 100 + i,
                    provider=provider,
                    before_start=before_start,
                )
    except Exception as e:  # the sessions' report must still be printed
        failed = f"{type(e).__name__}: {e}"
        section = {name: r.as_json() for name, r in reports.items()} | {"failed": failed}
        return section, [f"avatar drops failed: {failed}"]
    return {name: r.as_json() for name, r in reports.items()}, _missed(
        reports, {name: (n, before) for name, _, n, before in _parts(trials)}
    )


def _missed(reports: dict[str, Any], wanted: dict[str, tuple[int, bool]]) -> list[str]:
    miss: list[str] = []
    for name, r in reports.items():
        n, before_start = wanted[name]
        where = f"avatar drops ({name})"
        miss += [f"{where}: lifecycle warning x{c}: {m}" for m, c in r.lifecycle.items()]
        miss += [f"{where}: {r.stuck} stuck turns"] if r.stuck else []
        miss += [f"{where}: {r.silent} silent turns"] if r.silent else []
        if r.not_joined:
            miss.append(f"{where}: {r.not_joined} of {n} avatars never joined")
        if len(r.switch_times) < r.trials:
            miss.append(f"{where}: {r.trials - len(r.switch_times)} drops never fell back")
        if r.heard < r.trials:
            miss.append(f"{where}: {r.trials - r.heard} next replies not heard")
        if before_start and r.drops["before_start"] < r.trials:
            late = r.trials - r.drops["before_start"]
            miss.append(f"{where}: {late} drops came after the start report")
    return miss
