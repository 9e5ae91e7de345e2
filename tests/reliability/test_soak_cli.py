"""``halfcascade bench soak`` end to end, short: the report a user gets, as a process.

Count mode on two sessions (one with the local avatar), the stand-ins in their own process,
memory writes to a PostgreSQL restarted under them. Run as a subprocess: the soak freezes
the collector's view of the imports (``gc.freeze()``, as livekit's worker does), which must
not leak into the test process.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from halfcascade.testing.faults_run import FAULTS

pytestmark = [pytest.mark.contract, pytest.mark.soak]


@pytest.mark.timeout(400)
def test_a_short_soak_reports_every_figure_and_passes_its_targets(tmp_path: Path) -> None:
    out = tmp_path / "soak.json"
    args = ["--sessions", "2", "--minutes", "0", "--barge-ins", "4", "--faults-per-kind", "1"]
    # a small context window fills within the run: the RSS baseline waits for it
    args += ["--postgres-restart-every", "15", "--context-items", "4", "--seed", "5"]
    env = {**os.environ, "HF_HUB_OFFLINE": "1"}
    cmd = [sys.executable, "-m", "halfcascade.cli", "bench", "soak", *args, "--out", str(out)]
    proc = subprocess.run(cmd, capture_output=True, text=True, env=env, timeout=380)
    report = json.loads(out.read_text())
    assert proc.returncode == 0, (report["regressions"], proc.stderr[-2000:])
    assert report["regressions"] == []
    # count mode: every count met exactly, dealt out between the sessions
    assert report["sessions_run"] == 2
    assert report["faults"] == {"barge_in": 4, "plain": 1} | dict.fromkeys(FAULTS, 1)
    assert sum(report["faults"].values()) == report["turns"]
    assert report["stuck_turns"] == report["silent_turns"] == 0
    assert report["lifecycle_warnings"] == {} and report["error_tracebacks"] == 0
    # the PostgreSQL under the memory writes was restarted and lost nothing acknowledged
    memory = report["memory"]
    assert memory["restarts"] >= 1 and memory["acknowledged"] > 0 and memory["lost"] == 0
    # the collector's pauses and the minute-by-minute timeline are in the report
    assert set(report["gc"]) == {"gen0", "gen1", "gen2"} and report["gc"]["gen0"]["n"] > 0
    timeline = report["timeline"]
    assert timeline and sum(row["turns"] for row in timeline) == report["ttfa"]["n"]
    assert all(row["rss_mb"] is None or row["rss_mb"] > 50 for row in timeline)
    # both sessions' context windows (4 items) filled and were seen to: the RSS baseline
    rss = report["rss"]
    assert rss["windows_full_s"] is not None and 0 < rss["windows_full_s"] < report["seconds"]
    assert rss["warmup_until"] in ("context windows full", "first minute", "half the run")
    assert report["stand_ins"]["processes"] == 1 and report["stand_ins"]["errors_logged"] == 0
