"""Phrase cache keys and the on-disk store: what invalidates, what survives, what is refused."""

from __future__ import annotations

import json
import logging
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from livekit.agents import tts as lk_tts
from livekit.plugins import elevenlabs, openai

from halfcascade import ConfigError
from halfcascade.speech.cache import CachedPhrase, PhraseCache, PhraseStore, trim_phrase, voice_key

pytestmark = pytest.mark.unit


def eleven(**kw: object) -> elevenlabs.TTS:
    args: dict[str, object] = {"api_key": "k1", "encoding": "pcm_24000", **kw}
    return elevenlabs.TTS(**args)  # type: ignore[arg-type]


def test_the_key_changes_with_everything_that_changes_the_audio() -> None:
    base = voice_key(eleven())
    assert voice_key(eleven()) == base
    assert voice_key(eleven(voice_id="other")) != base
    assert voice_key(eleven(model="eleven_flash_v2_5")) != base
    assert voice_key(eleven(encoding="pcm_16000")) != base
    assert voice_key(eleven(language="fr")) != base
    settings = elevenlabs.VoiceSettings(stability=0.2, similarity_boost=0.8)
    assert voice_key(eleven(voice_settings=settings)) != base
    # transport and credentials do not change the audio
    assert voice_key(eleven(api_key="k2", base_url="http://127.0.0.1:1/v1")) == base
    assert "k1" not in base.options


def test_the_key_follows_the_voice_that_serves_next() -> None:
    primary, backup = eleven(), openai.TTS(api_key="k", response_format="pcm")
    adapter = lk_tts.FallbackAdapter([primary, backup])
    assert voice_key(adapter) == voice_key(primary)
    adapter._status[0].available = False  # what a failover does
    assert voice_key(adapter) == voice_key(backup) != voice_key(primary)
    wrapped = lk_tts.StreamAdapter(tts=backup, sentence_tokenizer=None)  # type: ignore[arg-type]
    assert voice_key(wrapped) == voice_key(backup)
    primary.update_options(voice_id="changed")  # a voice change in place
    adapter._status[0].available = True
    assert voice_key(adapter) != voice_key(eleven())


def test_the_key_digest_is_the_same_in_another_process() -> None:
    code = (
        "from livekit.plugins import elevenlabs;"
        "from halfcascade.speech.cache import voice_key;"
        "print(voice_key(elevenlabs.TTS(api_key='zz', encoding='pcm_24000')).digest)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == voice_key(eleven()).digest


def phrase(text: str = "Woof!", n: int = 2400) -> CachedPhrase:
    pcm = (np.sin(np.arange(n) / 5) * 8000).astype(np.int16)
    return CachedPhrase(text=text, pcm=pcm.tobytes(), sample_rate=24000)


def test_store_round_trip_and_mismatches(tmp_path: Path) -> None:
    store = PhraseStore(tmp_path)
    key, other = voice_key(eleven()), voice_key(eleven(voice_id="x"))
    wav = store.save(key, "woof", phrase())
    assert store.load(key, "woof") == phrase()
    assert store.load(other, "woof") is None and store.load(key, "oh hi") is None
    assert not list(tmp_path.glob(".*tmp"))  # no temporary file left behind
    meta = json.loads(wav.with_suffix(".json").read_text())
    assert meta["voice"] == key.digest and "options" not in meta
    assert [e["text"] for e in store.entries()] == ["Woof!"]


def test_damaged_entries_are_ignored_with_a_warning(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    store = PhraseStore(tmp_path)
    key = voice_key(eleven())
    wav = store.save(key, "woof", phrase())
    data = bytearray(wav.read_bytes())
    data[-10] ^= 0xFF  # one flipped sample
    wav.write_bytes(bytes(data))
    with caplog.at_level(logging.WARNING, logger="halfcascade.speech.cache"):
        assert store.load(key, "woof") is None
    assert "ignored" in caplog.text
    wav.with_suffix(".json").write_text("{not json")
    assert store.load(key, "woof") is None
    store.save(key, "woof", phrase())  # the next warm-up rewrites it
    assert store.load(key, "woof") == phrase()


def test_frames_keep_the_audio_and_convert_rate_and_channels() -> None:
    p = phrase(n=24000)
    frames = p.frames(sample_rate=24000)
    assert sum(f.samples_per_channel for f in frames) == 24000
    assert b"".join(bytes(f.data) for f in frames) == p.pcm
    stereo = p.frames(sample_rate=48000, num_channels=2)
    assert all(f.num_channels == 2 and f.sample_rate == 48000 for f in stereo)
    assert abs(sum(f.duration for f in stereo) - 1.0) < 0.02


def test_trim_keeps_a_short_lead_and_the_pause_after() -> None:
    rate = 24000
    voice = (np.sin(np.arange(rate // 2) / 4) * 9000).astype(np.int16)
    pcm = np.concatenate([np.zeros(rate // 5, np.int16), voice, np.zeros(rate, np.int16)])
    out = trim_phrase(pcm, rate, lead=0.01, tail=0.3)
    lead = np.flatnonzero(np.abs(out) > 300)[0] / rate
    assert lead <= 0.011
    assert abs(len(out) / rate - (lead + 0.5 + 0.3)) < 0.02


def test_cache_options_are_checked() -> None:
    with pytest.raises(ConfigError, match="persist"):
        PhraseCache("/tmp/x", persist=False)
    with pytest.raises(ConfigError, match="concurrency"):
        PhraseCache(persist=False, concurrency=0)
