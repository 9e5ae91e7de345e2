"""Turn timelines become OpenTelemetry spans at their real times when OTel is configured."""

from __future__ import annotations

import pytest
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

from halfcascade.latency import TurnTimeline
from halfcascade.latency.otel import record_turn

pytestmark = pytest.mark.unit


def test_a_turn_is_a_span_tree_with_stage_children() -> None:
    exporter = InMemorySpanExporter()
    provider = TracerProvider()
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    t0 = 1_800_000_000.0
    record_turn(
        TurnTimeline(
            turn=1,
            speech_end_at=t0,
            speech_end_source="server_vad_audio",
            first_text_at=t0 + 0.4,
            first_tts_text_at=t0 + 0.43,
            first_tts_audio_at=t0 + 0.68,
            first_audio_out_at=t0 + 0.69,
            playback_started_at=t0 + 0.7,
            ended_at=t0 + 2.0,
            interrupted=False,
        ),
        tracer=provider.get_tracer("test"),
    )
    spans = {s.name: s for s in exporter.get_finished_spans()}
    turn = spans["halfcascade.turn"]
    assert turn.start_time == int(t0 * 1e9)
    assert turn.attributes is not None and turn.attributes["halfcascade.ttfa_ms"] == 690.0
    tts = spans["halfcascade.tts_first_byte"]
    assert tts.parent is not None and tts.parent.span_id == turn.context.span_id
    assert (tts.end_time - tts.start_time) == pytest.approx(0.25e9, rel=1e-3)
