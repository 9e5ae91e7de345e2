"""GoogleBrain's options: refused with a message that says what to fix."""

from __future__ import annotations

import pytest

from halfcascade import GoogleBrain
from halfcascade.errors import ConfigError

pytestmark = pytest.mark.unit


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"silence_ms": 50}, "silence_ms"),
        ({"input_chunk_ms": 25}, "input_chunk_ms"),
        ({"connect_retries": -1}, "connect_retries"),
        ({"base_url": "127.0.0.1:8443"}, "http\\(s\\) URL"),
    ],
)
def test_bad_options_are_refused(kwargs: dict[str, object], match: str) -> None:
    with pytest.raises(ConfigError, match=match):
        GoogleBrain(api_key="k", **kwargs)  # type: ignore[arg-type]


def test_credentials() -> None:
    assert GoogleBrain().missing_credentials() == ["GOOGLE_API_KEY"]
    assert GoogleBrain(api_key="k").missing_credentials() == []
    assert GoogleBrain(vertexai=True).missing_credentials() == ["GOOGLE_APPLICATION_CREDENTIALS"]


def test_build_sends_the_options_to_the_plugin() -> None:
    model = GoogleBrain(api_key="k", silence_ms=300, transcription=False).build()
    opts = model._opts  # type: ignore[attr-defined]
    assert opts.realtime_input_config.automatic_activity_detection.silence_duration_ms == 300
    assert opts.input_audio_transcription is None and opts.output_audio_transcription is None
    assert not model.capabilities.audio_output
