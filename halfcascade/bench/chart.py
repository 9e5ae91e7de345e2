"""A PNG of where each pipeline's time to first audio goes (median per stage)."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from .report import percentile
from .runner import BenchResult

__all__ = ["write_chart"]

_STAGES = (
    ("end of speech -> first text (cascade: STT final + LLM first token)", "#4c72b0"),
    ("first text -> first TTS audio (none for a cached opener)", "#dd8452"),
    ("the rest: tokens of the first phrase or opener, audio -> output", "#55a868"),
)


def write_chart(result: BenchResult, pipelines: Sequence[str], path: Path) -> Path:
    """Draw stacked per-stage medians and each pipeline's floor; return ``path``."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(9, 1.8 + 0.9 * len(pipelines)))
    for y, name in enumerate(pipelines):
        turns = result.of(name)
        first = percentile([t.first_text for t in turns if t.first_text is not None], 0.5)
        tts = percentile([t.tts_wait for t in turns if t.tts_wait is not None], 0.5)
        total = percentile([t.ttfa for t in turns], 0.5)
        left = 0.0
        for (label, color), width in zip(_STAGES, (first, tts, total - first - tts), strict=True):
            width = max(0.0, width * 1000)
            ax.barh(y, width, left=left, color=color, label=label if y == 0 else None)
            left += width
        floor = percentile([t.floor for t in turns], 0.5) * 1000
        ax.plot([floor, floor], [y - 0.4, y + 0.4], color="black", linewidth=2)
        ax.text(left + 15, y, f"{total * 1000:.0f} ms", va="center")
    ax.set_yticks(range(len(pipelines)), labels=list(pipelines))
    ax.set_xlabel("milliseconds after the user's end of speech (p50); black line: floor")
    ax.set_title(f"time to first audio by stage, profile {result.profile.name}")
    ax.legend(loc="upper center", bbox_to_anchor=(0.5, -0.22), ncol=2, fontsize="small")
    ax.set_xlim(0, ax.get_xlim()[1] * 1.1)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path
