"""Turn timelines as OpenTelemetry spans (a no-op unless a tracer provider is set).

livekit already traces with OpenTelemetry; configure a provider (for example
``opentelemetry.sdk.trace.TracerProvider`` with an OTLP exporter) and every turn appears
as a ``halfcascade.turn`` span with one child span per stage.
"""

from __future__ import annotations

from opentelemetry import trace

from .timeline import TurnTimeline

__all__ = ["record_turn"]

_tracer = trace.get_tracer("halfcascade")


def _ns(seconds: float) -> int:
    return int(seconds * 1e9)


def record_turn(timeline: TurnTimeline, *, tracer: trace.Tracer | None = None) -> None:
    """Emit ``timeline`` as a span tree with its real start and end times.

    ``tracer`` defaults to the global provider's ``halfcascade`` tracer.
    """
    tracer = tracer or _tracer
    start = timeline.speech_end_at or timeline.first_text_at or timeline.ended_at
    attrs: dict[str, str | bool | int | float] = {
        "halfcascade.turn": timeline.turn,
        "halfcascade.interrupted": timeline.interrupted,
        "halfcascade.speech_end_source": timeline.speech_end_source,
    }
    if timeline.phrase_cache is not None:
        attrs["halfcascade.phrase_cache"] = timeline.phrase_cache
    names = ("speech_end_to_first_text", "tts_ttfb", "ttfa", "playback_delay", "total")
    for name in (*names, "cache_saved"):
        if (value := getattr(timeline, name)) is not None:
            attrs[f"halfcascade.{name}_ms"] = round(value * 1000, 1)
    parent = tracer.start_span("halfcascade.turn", start_time=_ns(start), attributes=attrs)
    ctx = trace.set_span_in_context(parent)
    stages = (
        ("speech_end_to_first_text", timeline.speech_end_at, timeline.first_text_at),
        ("text_to_tts", timeline.first_text_at, timeline.first_tts_text_at),
        ("tts_first_byte", timeline.first_tts_text_at, timeline.first_tts_audio_at),
        ("audio_to_output", timeline.first_tts_audio_at, timeline.first_audio_out_at),
        ("avatar_playback_start", timeline.first_audio_out_at, timeline.playback_started_at),
    )
    for name, a, b in stages:
        if a is not None and b is not None and b >= a:
            span = tracer.start_span(f"halfcascade.{name}", context=ctx, start_time=_ns(a))
            span.end(end_time=_ns(b))
    parent.end(end_time=_ns(max(timeline.ended_at, start)))
