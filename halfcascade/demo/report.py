"""The demo's latency report: each turn's stages against its floor, as a table and a chart.

Stages follow :class:`~halfcascade.latency.TurnTimeline`, from the user's end of speech:
the model's first text (the server VAD's decision included), the first phrase reaching
the TTS, the TTS's first audio (near zero when the opener played from the phrase cache)
and that audio reaching the avatar. The floor is the provider delays injected on the
turn (offline): what no pipeline can avoid. A cache hit can beat it.
"""

from __future__ import annotations

import html
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from .visit import DemoTurn

__all__ = ["STAGES", "stage_row", "table_rows", "write_html", "write_png"]

STAGES: tuple[tuple[str, str, str], ...] = (
    ("model first text", "speech_end_at", "first_text_at"),
    ("to TTS", "first_text_at", "first_tts_text_at"),
    ("TTS first audio", "first_tts_text_at", "first_tts_audio_at"),
    ("to avatar", "first_tts_audio_at", "first_audio_out_at"),
)
"""(label, from, to): the stages, as ``TurnTimeline`` fields."""

_COLORS = ("#4e79a7", "#b0b0b0", "#f28e2b", "#59a14f")


def stage_row(turn: DemoTurn) -> dict[str, Any]:
    """One turn as plain data (milliseconds; ``None`` where a stage did not happen)."""
    t = turn.timeline
    stages: dict[str, float | None] = {}
    for label, start, end in STAGES:
        a, b = getattr(t, start), getattr(t, end)
        stages[label] = None if a is None or b is None else round((b - a) * 1000, 1)
    ttfa = t.ttfa
    return {
        "visit": turn.visit,
        "turn": t.turn,
        "user": turn.said,
        "heard": turn.heard,
        "reply": turn.reply,
        "stages_ms": stages,
        "ttfa_ms": None if ttfa is None else round(ttfa * 1000, 1),
        "floor_ms": None if turn.floor is None else round(turn.floor * 1000, 1),
        "x_floor": None if ttfa is None or not turn.floor else round(ttfa / turn.floor, 2),
        "phrase_cache": t.phrase_cache,
        "memories": list(turn.memories),
    }


def table_rows(turns: Sequence[DemoTurn]) -> list[list[str]]:
    """The report table as text cells: header first."""
    header = ["visit", "user said", *[s[0] for s in STAGES], "TTFA", "floor", "x floor", "cache"]
    rows = [header]
    for turn in turns:
        r = stage_row(turn)
        rows.append(
            [
                str(r["visit"]),
                _short(r["user"]),
                *[_ms(v) for v in r["stages_ms"].values()],
                _ms(r["ttfa_ms"]),
                _ms(r["floor_ms"]),
                "-" if r["x_floor"] is None else f"{r['x_floor']:.2f}",
                r["phrase_cache"] or "off",
            ]
        )
    return rows


def write_png(turns: Sequence[DemoTurn], path: Path, *, title: str) -> Path:
    """A one-page chart: a stacked bar of stages per turn and its floor; returns ``path``."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(11, 1.6 + 0.7 * max(1, len(turns))))
    for y, turn in enumerate(reversed(turns)):
        left = 0.0
        for (label, _, _), color in zip(STAGES, _COLORS, strict=True):
            ms = stage_row(turn)["stages_ms"][label] or 0.0
            ax.barh(y, ms, left=left, color=color, label=label if y == 0 else None)
            left += ms
        if turn.floor is not None:
            f = turn.floor * 1000
            ax.plot([f, f], [y - 0.42, y + 0.42], color="black", linewidth=2.5)
        cache = " (cached opener)" if turn.timeline.phrase_cache == "hit" else ""
        ax.text(left + 8, y, f"{left:.0f} ms{cache}", va="center", fontsize=8)
    labels = [f"visit {t.visit}: {_short(t.said, 34)}" for t in reversed(turns)]
    ax.set_yticks(range(len(turns)), labels, fontsize=8)
    ax.set_xlabel("milliseconds after the user's end of speech; black line: the turn's floor")
    ax.set_title(f"halfcascade demo: time to first audio by stage\n{title}", fontsize=10)
    ax.legend(loc="lower right", fontsize=8)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path


def write_html(turns: Sequence[DemoTurn], path: Path, *, png: Path | None) -> Path:
    """The same table as a small HTML page (with the chart beside it); returns ``path``."""
    rows = table_rows(turns)
    head = "".join(f"<th>{html.escape(c)}</th>" for c in rows[0])
    body = "".join(
        "<tr>" + "".join(f"<td>{html.escape(c)}</td>" for c in row) + "</tr>" for row in rows[1:]
    )
    img = f'<p><img src="{html.escape(png.name)}" alt="latency chart"></p>' if png else ""
    path.write_text(
        "<!doctype html><meta charset=utf-8><title>halfcascade demo latency</title>"
        "<style>body{font-family:sans-serif}td,th{padding:2px 8px;text-align:right}"
        "td:nth-child(2){text-align:left}</style>"
        f"<h1>halfcascade demo: latency by turn</h1>{img}"
        f"<table><tr>{head}</tr>{body}</table>"
        "<p>Milliseconds after the user's end of speech. Floor: the provider delays injected "
        "on the turn. Cache: whether the opener played from the phrase cache.</p>\n"
    )
    return path


def _ms(value: float | None) -> str:
    return "-" if value is None else f"{value:.0f}"


def _short(text: str, n: int = 40) -> str:
    return text if len(text) <= n else text[: n - 1] + "…"
