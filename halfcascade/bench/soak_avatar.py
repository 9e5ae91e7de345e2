"""The soak's remote-avatar drops: ``halfcascade bench soak --avatar-drops N``.

A remote avatar (Tavus, Runway) is a participant of a real room, so its drops need a real
``livekit-server`` and run apart from the sessions of the soak, after them: ``N`` trials
of :func:`halfcascade.testing.avatar_drops.run_avatar_drops`, half on the Tavus stand-in and
half on the Runway one (the avatar leaves or is cut off by the server 0.1-1.5 s into a
reply), then a tenth of ``N`` more (at least one) dropping the moment the avatar took the
reply's first audio, before it reports that playback started. Each must end with no stuck
turn, no silent one and no lifecycle warning, and every avatar must have joined (a trial
whose avatar never joined drops nothing: it is a miss, not a pass).
"""

from __future__ import annotations

from typing import Any, Literal

__all__ = ["run_avatar_part"]


async def run_avatar_part(trials: int, seed: int) -> tuple[dict[str, Any], list[str]]:
    """The report's ``avatar_drops`` section, and the targets it missed."""
    from ..testing.avatar_drops import AvatarDropReport, run_avatar_drops
    from ..testing.livekit_server import LiveKitServer, find_server_binary

    if find_server_binary() is None:
        why = (
            "livekit-server not found: set LIVEKIT_SERVER_BIN, or run `go install "
            "github.com/livekit/livekit-server/cmd/server@v1.13.5`"
        )
        return {"skipped": why}, [f"avatar drops not run: {why}"]
    if trials < 1:
        raise ValueError(f"avatar drops need trials >= 1, got {trials}")
    wanted = {
        "tavus": trials - trials // 2,
        "runway": trials // 2,
        "before_start": max(1, trials // 10),
    }
    reports: dict[str, AvatarDropReport] = {}
    async with LiveKitServer() as lk:
        for i, (name, n) in enumerate(wanted.items()):
            if n == 0:
                continue
            provider: Literal["tavus", "runway"] = "runway" if name == "runway" else "tavus"
            reports[name] = await run_avatar_drops(
                lk,
                trials=n,
                seed=seed * 100 + i,
                provider=provider,
                before_start=name == "before_start",
            )
    miss: list[str] = []
    for name, r in reports.items():
        where = f"avatar drops ({name})"
        miss += [f"{where}: lifecycle warning x{n}: {m}" for m, n in r.lifecycle.items()]
        miss += [f"{where}: {r.stuck} stuck turns"] if r.stuck else []
        miss += [f"{where}: {r.silent} silent turns"] if r.silent else []
        if (short := wanted[name] - r.trials) > 0:
            miss.append(f"{where}: {short} of {wanted[name]} avatars never joined")
    return {name: r.as_json() for name, r in reports.items()}, miss
