"""Cached phrase audio in memory and on disk.

On disk a phrase is two files in one directory, named by a digest of (voice key digest,
normalized text): ``<digest>.wav`` (16-bit mono PCM) and ``<digest>.json`` (what it is: the
text, the voice's digest and description, sample count and a checksum of the PCM). Both
are written to a temporary file and renamed into place, the JSON last, so a phrase exists
exactly when its JSON does and several worker processes can fill the same directory at
once (the last rename wins; both wrote the same audio). Anything unreadable, mismatched or
failing its checksum is treated as absent and rewritten on the next warm-up.
"""

from __future__ import annotations

import contextlib
import hashlib
import io
import json
import logging
import os
import tempfile
import time
import wave
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
from livekit import rtc
from numpy.typing import NDArray

from .key import VoiceKey

__all__ = ["CachedPhrase", "PhraseStore", "default_cache_dir", "trim_phrase"]

logger = logging.getLogger("halfcascade.speech.cache")

_FORMAT = 1
_SILENCE_DBFS = -50.0


@dataclass(frozen=True, slots=True)
class CachedPhrase:
    """One phrase's audio: 16-bit mono PCM at ``sample_rate``."""

    text: str
    """The phrase as it was synthesised."""
    pcm: bytes
    sample_rate: int

    @property
    def duration(self) -> float:
        """Seconds of audio."""
        return len(self.pcm) / 2 / self.sample_rate

    def frames(
        self, *, sample_rate: int, num_channels: int = 1, frame_ms: int = 40
    ) -> list[rtc.AudioFrame]:
        """Fresh livekit frames of this audio at ``sample_rate`` and ``num_channels``."""
        pcm = np.frombuffer(self.pcm, dtype=np.int16)
        if sample_rate != self.sample_rate:
            pcm = _resample(pcm, self.sample_rate, sample_rate)
        if num_channels > 1:
            pcm = np.repeat(pcm, num_channels)
        spf = sample_rate * frame_ms // 1000
        step = spf * num_channels
        return [
            rtc.AudioFrame(
                pcm[i : i + step].tobytes(),
                sample_rate,
                num_channels,
                len(pcm[i : i + step]) // num_channels,
            )
            for i in range(0, len(pcm), step)
        ]


def _resample(pcm: NDArray[np.int16], rate_in: int, rate_out: int) -> NDArray[np.int16]:
    resampler = rtc.AudioResampler(input_rate=rate_in, output_rate=rate_out, num_channels=1)
    frames = [
        *resampler.push(rtc.AudioFrame(pcm.tobytes(), rate_in, 1, len(pcm))),
        *resampler.flush(),
    ]
    if not frames:
        return np.zeros(0, dtype=np.int16)
    return np.concatenate([np.frombuffer(f.data, dtype=np.int16) for f in frames])


def trim_phrase(
    pcm: NDArray[np.int16], sample_rate: int, *, lead: float = 0.01, tail: float = 0.4
) -> NDArray[np.int16]:
    """``pcm`` with at most ``lead`` seconds of silence before the voice and ``tail`` after.

    The lead is what the listener waits for and the avatar's mouth stays shut through; the
    tail is the pause the phrase's punctuation implies, kept up to ``tail``.
    """
    window = max(1, sample_rate // 100)  # 10 ms
    n = len(pcm) // window
    if n == 0:
        return pcm
    blocks = pcm[: n * window].astype(np.float32).reshape(n, window) / 32768.0
    rms = np.sqrt(np.mean(blocks * blocks, axis=1))
    loud = np.flatnonzero(20 * np.log10(rms + 1e-9) > _SILENCE_DBFS)
    if loud.size == 0:
        return pcm
    start = max(0, loud[0] * window - int(lead * sample_rate))
    end = min(len(pcm), (loud[-1] + 1) * window + int(tail * sample_rate))
    return pcm[start:end]


def default_cache_dir() -> Path:
    """``$HALFCASCADE_CACHE_DIR``, else ``$XDG_CACHE_HOME/halfcascade/phrases`` (``~/.cache``)."""
    if explicit := os.environ.get("HALFCASCADE_CACHE_DIR"):
        return Path(explicit)
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "halfcascade" / "phrases"


class PhraseStore:
    """The on-disk half of the cache (see the module notes). Blocking: call it in a thread.

    Args:
        directory: where the files live; created on the first write.
    """

    def __init__(self, directory: str | Path) -> None:
        self.directory = Path(directory).expanduser()

    def _stem(self, key: VoiceKey, normalized: str) -> Path:
        digest = hashlib.sha256(f"{_FORMAT}\n{key.digest}\n{normalized}".encode()).hexdigest()
        return self.directory / digest

    def load(self, key: VoiceKey, normalized: str) -> CachedPhrase | None:
        """The stored phrase, or ``None`` when absent or not usable."""
        stem = self._stem(key, normalized)
        try:
            meta = json.loads(stem.with_suffix(".json").read_text("utf-8"))
        except FileNotFoundError:
            return None
        except (OSError, ValueError):
            logger.warning("unreadable phrase cache entry ignored", extra={"path": str(stem)})
            return None
        try:
            return _read(stem.with_suffix(".wav"), meta, key, normalized)
        except (OSError, ValueError, KeyError, EOFError, wave.Error) as exc:
            logger.warning(
                "phrase cache entry ignored",
                extra={"path": str(stem), "reason": str(exc)},
            )
            return None

    def save(self, key: VoiceKey, normalized: str, phrase: CachedPhrase) -> Path:
        """Write ``phrase`` atomically; returns the WAV path."""
        self.directory.mkdir(parents=True, exist_ok=True)
        stem = self._stem(key, normalized)
        buf = io.BytesIO()
        with wave.open(buf, "wb") as wav:
            wav.setnchannels(1)
            wav.setsampwidth(2)
            wav.setframerate(phrase.sample_rate)
            wav.writeframes(phrase.pcm)
        meta = {
            "format": _FORMAT,
            "voice": key.digest,
            "voice_description": key.describe(),
            "normalized": normalized,
            "text": phrase.text,
            "sample_rate": phrase.sample_rate,
            "samples": len(phrase.pcm) // 2,
            "pcm_sha256": hashlib.sha256(phrase.pcm).hexdigest(),
            "created_at": time.time(),
        }
        _atomic_write(stem.with_suffix(".wav"), buf.getvalue())
        _atomic_write(stem.with_suffix(".json"), json.dumps(meta, indent=1).encode())
        return stem.with_suffix(".wav")

    def entries(self) -> list[dict[str, Any]]:
        """The metadata of every stored phrase (for listing)."""
        out = []
        for path in sorted(self.directory.glob("*.json")):
            with contextlib.suppress(OSError, ValueError):
                out.append(json.loads(path.read_text("utf-8")))
        return out


def _read(path: Path, meta: dict[str, Any], key: VoiceKey, normalized: str) -> CachedPhrase:
    if meta.get("format") != _FORMAT:
        raise ValueError(f"format {meta.get('format')!r}, expected {_FORMAT}")
    if meta["voice"] != key.digest or meta["normalized"] != normalized:
        raise ValueError("entry belongs to another voice or phrase")
    with wave.open(str(path), "rb") as wav:
        if (wav.getnchannels(), wav.getsampwidth()) != (1, 2):
            raise ValueError("expected 16-bit mono audio")
        rate = wav.getframerate()
        pcm = wav.readframes(wav.getnframes())
    if not pcm or rate != meta["sample_rate"] or len(pcm) // 2 != meta["samples"]:
        raise ValueError("audio does not match its description")
    if hashlib.sha256(pcm).hexdigest() != meta["pcm_sha256"]:
        raise ValueError("audio checksum mismatch")
    return CachedPhrase(text=str(meta["text"]), pcm=pcm, sample_rate=rate)


def _atomic_write(path: Path, data: bytes) -> None:
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise
