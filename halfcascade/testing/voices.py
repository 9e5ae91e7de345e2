"""Offline speech for tests: real espeak-ng audio, or a fast speech-like synthetic signal.

A :data:`Voice` is any ``(text, sample_rate) -> int16 PCM`` callable. The test TTS servers
speak through one, so a stand-in provider returns real, non-silent audio whose length
follows the text:

- :func:`speak` runs the ``espeak-ng`` binary (Debian package ``espeak-ng``), resamples
  with livekit's own resampler and caches results; :func:`aspeak` runs it in a thread.
- :func:`synthetic_voice` needs no binary: a deterministic voiced buzz, ~60 ms per
  character, with a syllable envelope, a falling pitch contour (rising on questions) and
  silent pauses at punctuation. Good enough for VAD, level meters and avatars; not for ASR.

:func:`default_voice` picks espeak-ng when it is installed and the synthetic voice otherwise.
"""

from __future__ import annotations

import asyncio
import functools
import io
import re
import shutil
import subprocess
import wave
import zlib
from collections.abc import Callable
from typing import TypeAlias

import numpy as np
from livekit import rtc
from numpy.typing import NDArray

from ..errors import ConfigError, HalfcascadeError

__all__ = [
    "EspeakUnavailableError",
    "Voice",
    "aspeak",
    "default_voice",
    "espeak_available",
    "espeak_voice",
    "speak",
    "synthetic_voice",
]

#: A voice turns ``(text, sample_rate)`` into mono int16 PCM at that rate.
Voice: TypeAlias = Callable[[str, int], NDArray[np.int16]]

_ESPEAK = "espeak-ng"
_ESPEAK_TIMEOUT = 30.0
_CACHE_SIZE = 256


class EspeakUnavailableError(HalfcascadeError, RuntimeError):
    """espeak-ng is not installed; the message says which package to install."""


def espeak_available() -> bool:
    """Whether the ``espeak-ng`` binary is on ``PATH``."""
    return shutil.which(_ESPEAK) is not None


def speak(
    text: str, *, sample_rate: int = 24000, voice: str = "en-us", rate_wpm: int | None = None
) -> NDArray[np.int16]:
    """Speak ``text`` with espeak-ng; return mono int16 PCM at ``sample_rate``.

    Results are cached (LRU), so repeating a phrase costs nothing. ``rate_wpm`` is espeak's
    speaking rate in words per minute (its default is 175). Raises
    :class:`EspeakUnavailableError` when espeak-ng is missing and :class:`ConfigError` for an
    unknown ``voice``.
    """
    if sample_rate <= 0:
        raise ConfigError(f"sample_rate must be positive, got {sample_rate}")
    if not text.strip():
        return np.zeros(0, dtype=np.int16)
    pcm = _espeak_pcm(text, sample_rate, voice, rate_wpm)
    return np.frombuffer(pcm, dtype=np.int16).copy()


async def aspeak(
    text: str, *, sample_rate: int = 24000, voice: str = "en-us", rate_wpm: int | None = None
) -> NDArray[np.int16]:
    """:func:`speak` in a worker thread, so the event loop keeps running."""
    return await asyncio.to_thread(
        speak, text, sample_rate=sample_rate, voice=voice, rate_wpm=rate_wpm
    )


def espeak_voice(*, voice: str = "en-us", rate_wpm: int | None = None) -> Voice:
    """A :data:`Voice` that speaks with espeak-ng (see :func:`speak`)."""
    if not espeak_available():
        raise _missing_espeak()

    def _voice(text: str, sample_rate: int) -> NDArray[np.int16]:
        return speak(text, sample_rate=sample_rate, voice=voice, rate_wpm=rate_wpm)

    return _voice


def default_voice() -> Voice:
    """espeak-ng when it is installed, else :func:`synthetic_voice`."""
    return espeak_voice() if espeak_available() else synthetic_voice


def _missing_espeak() -> EspeakUnavailableError:
    return EspeakUnavailableError(
        "espeak-ng is not installed: install the Debian/Ubuntu package 'espeak-ng' "
        "(apt-get install espeak-ng), or use halfcascade.testing.synthetic_voice, "
        "which needs no binary"
    )


@functools.lru_cache(maxsize=_CACHE_SIZE)
def _espeak_pcm(text: str, sample_rate: int, voice: str, rate_wpm: int | None) -> bytes:
    exe = shutil.which(_ESPEAK)
    if exe is None:
        raise _missing_espeak()
    cmd = [exe, "-v", voice, "--stdout", "--stdin"]
    if rate_wpm is not None:
        cmd += ["-s", str(rate_wpm)]
    # text goes through stdin so a leading "-" is never read as an option
    proc = subprocess.run(
        cmd, input=text.encode(), capture_output=True, timeout=_ESPEAK_TIMEOUT, check=False
    )
    if proc.returncode != 0 or len(proc.stdout) <= 44:
        detail = proc.stderr.decode(errors="replace").strip() or f"exit code {proc.returncode}"
        raise ConfigError(f"espeak-ng failed for voice {voice!r}: {detail}")
    pcm, src_rate = _read_wav(proc.stdout)
    return _resample(pcm, src_rate, sample_rate).tobytes()


def _read_wav(data: bytes) -> tuple[NDArray[np.int16], int]:
    # espeak-ng --stdout writes a streaming header (bogus length): read blocks until EOF
    with wave.open(io.BytesIO(data), "rb") as wav:
        if wav.getsampwidth() != 2 or wav.getnchannels() != 1:
            raise RuntimeError("espeak-ng returned audio that is not 16-bit mono")
        rate = wav.getframerate()
        blocks = []
        while block := wav.readframes(65536):
            blocks.append(block)
    return np.frombuffer(b"".join(blocks), dtype=np.int16), rate


def _resample(pcm: NDArray[np.int16], src_rate: int, dst_rate: int) -> NDArray[np.int16]:
    if src_rate == dst_rate or len(pcm) == 0:
        return pcm
    resampler = rtc.AudioResampler(
        src_rate, dst_rate, num_channels=1, quality=rtc.AudioResamplerQuality.HIGH
    )
    frames = resampler.push(bytearray(pcm.tobytes()))
    frames += resampler.flush()
    parts = [np.frombuffer(f.data, dtype=np.int16) for f in frames]
    return np.concatenate(parts) if parts else np.zeros(0, dtype=np.int16)


# --- synthetic voice -------------------------------------------------------------------------

_CHAR_S = 0.060
_PAUSE_S = {",": 0.20, ";": 0.25, ":": 0.25, ".": 0.35, "!": 0.35, "?": 0.35, "\n": 0.35}
_TOKEN = re.compile(r"(\w+(?:'\w+)*)|(\s+)|(.)")
# (F1, F2) formants in Hz for the vowel that colours a syllable
_FORMANTS = {"a": (750, 1200), "e": (500, 1850), "i": (300, 2250), "o": (500, 900)}
_FORMANTS |= {"u": (350, 850), "y": (350, 2000)}
_NEUTRAL = (500, 1500)
_TOP_HZ = 4000.0  # telephone-ish band: enough to sound voiced, cheap to compute


def synthetic_voice(text: str, sample_rate: int = 24000) -> NDArray[np.int16]:
    """A deterministic speech-like signal for ``text``; needs no external binary.

    Each character lasts ~60 ms: letters are a voiced harmonic buzz shaped into syllables,
    spaces are short silences, and ``, ; : . ! ?`` are longer silent pauses (0.2-0.35 s).
    Pitch falls across the utterance and rises at a final ``?``. The same text and rate
    always give the same samples. It is also a :data:`Voice`.
    """
    if sample_rate <= 0:
        raise ConfigError(f"sample_rate must be positive, got {sample_rate}")
    plan = _plan(text)
    total = sum(round(dur * sample_rate) for _, dur in plan)
    if total == 0 or not any(word for word, _ in plan):
        return np.zeros(total, dtype=np.int16)
    env, f1, f2 = np.zeros(total), np.zeros(total), np.zeros(total)
    pos = 0
    for word, dur in plan:
        n = round(dur * sample_rate)
        if word:
            _shape_word(word, env[pos : pos + n], f1[pos : pos + n], f2[pos : pos + n])
        pos += n
    f0 = _pitch_contour(text, total, sample_rate)
    buzz = _harmonics(f0, f1, f2, sample_rate)
    rng = np.random.default_rng(zlib.crc32(text.encode()))
    signal = env * (buzz + 0.05 * rng.standard_normal(total))
    peak = float(np.max(np.abs(signal))) or 1.0
    return np.asarray(np.round(signal / peak * 0.6 * 32767), dtype=np.int16)


def _plan(text: str) -> list[tuple[str, float]]:
    """Split text into (word, seconds) runs; an empty word is a silence."""
    plan: list[tuple[str, float]] = []
    for m in _TOKEN.finditer(text):
        word, space, other = m.groups()
        if word:
            plan.append((word, _CHAR_S * len(word)))
        elif space:
            plan.append(("", _PAUSE_S["\n"] if "\n" in space else _CHAR_S))
        else:
            plan.append(("", _PAUSE_S.get(other, _CHAR_S)))
    return plan


def _shape_word(
    word: str, env: NDArray[np.float64], f1: NDArray[np.float64], f2: NDArray[np.float64]
) -> None:
    """Fill one word's envelope (a bump per syllable) and formant tracks in place."""
    vowels = re.findall(r"[aeiouy]", word.lower()) or [""]
    # roughly one syllable per vowel group, at most one per two letters
    groups = re.findall(r"[aeiouy]+", word.lower())
    n_syl = max(1, min(len(groups), len(word) // 2 or 1))
    for i, part in enumerate(np.array_split(np.arange(len(env)), n_syl)):
        if len(part) == 0:
            continue
        x = (np.arange(len(part)) + 0.5) / len(part)
        env[part] = np.sin(np.pi * x) ** 0.6
        vowel = vowels[min(i, len(vowels) - 1)]
        f1[part], f2[part] = _FORMANTS.get(vowel, _NEUTRAL)


def _pitch_contour(text: str, n: int, rate: int) -> NDArray[np.float64]:
    """Fundamental frequency per sample: declination, a slow wobble, a rise on questions."""
    progress = np.linspace(0.0, 1.0, n)
    seconds = np.arange(n) / rate
    phase = (zlib.crc32(text.encode()) % 628) / 100  # the wobble differs from text to text
    f0 = 145.0 - 35.0 * progress + 8.0 * np.sin(2 * np.pi * 2.0 * seconds + phase)
    if text.rstrip().endswith("?"):
        f0 += 60.0 * np.clip((progress - 0.8) / 0.2, 0.0, 1.0)
    return np.asarray(f0, dtype=np.float64)


def _harmonics(
    f0: NDArray[np.float64], f1: NDArray[np.float64], f2: NDArray[np.float64], rate: int
) -> NDArray[np.float64]:
    """A glottal-like buzz (harmonics falling as 1/k) shaped by two formant resonances."""
    phase = 2 * np.pi * np.cumsum(f0) / rate
    top = min(_TOP_HZ, 0.45 * rate)
    f0s, f1s, f2s = (a.astype(np.float32) for a in (f0, f1, f2))
    # sin(k*phase) by the Chebyshev recurrence: one multiply-add per harmonic, not a sin()
    two_cos = (2 * np.cos(phase)).astype(np.float32)
    prev, cur = np.zeros(len(f0), dtype=np.float32), np.sin(phase).astype(np.float32)
    out = np.zeros(len(f0), dtype=np.float32)
    for k in range(1, int(top // max(float(np.min(f0)), 1.0)) + 1):
        freq = k * f0s
        gain = 1.0 + 6.0 / (1.0 + ((freq - f1s) / 90.0) ** 2)
        gain += 3.0 / (1.0 + ((freq - f2s) / 130.0) ** 2)
        gain[freq >= top] = 0.0
        out += gain * (1.0 / k) * cur
        prev, cur = cur, two_cos * cur - prev
    return out.astype(np.float64)
