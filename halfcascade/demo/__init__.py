"""``halfcascade demo``: the whole product in one command.

Biscuit (``examples/personas/biscuit.toml``) meets the same user twice. The first visit's
facts are written to SQLite memory and refreshed into the instructions between turns; the
second visit starts with them recalled. Openers play from the phrase cache, the local
avatar animates every reply, and the run writes an MP4 (avatar video with the
conversation's audio), a latency report (PNG and HTML) and prints the same table.

Offline by default (the local stand-ins in :mod:`halfcascade.testing`, no keys);
``live=True`` runs the same script on OpenAI Realtime and ElevenLabs.
"""

from .recording import AvRecorder, Interval
from .report import stage_row, table_rows
from .run import DemoConfig, DemoResult, default_persona_path, run_demo, total_steps
from .script import SESSIONS, USER_ID, Visit, rule_book
from .visit import DemoEvent, DemoTurn

__all__ = [
    "SESSIONS",
    "USER_ID",
    "AvRecorder",
    "DemoConfig",
    "DemoEvent",
    "DemoResult",
    "DemoTurn",
    "Interval",
    "Visit",
    "default_persona_path",
    "rule_book",
    "run_demo",
    "stage_row",
    "table_rows",
    "total_steps",
]
