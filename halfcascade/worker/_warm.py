"""Per-process warm-up of lazy work a job would otherwise do on its event loop."""

from __future__ import annotations

import inspect
import sys

__all__ = ["build_pydantic_models"]


def build_pydantic_models(prefix: str) -> int:
    """Build the validators of every pydantic model in the loaded modules under ``prefix``.

    The ``openai`` types defer building them to the first instance; livekit's realtime
    plugin makes its first ``session.update`` when a job's session starts, and that first
    build blocked the job's loop for 130-210 ms. Returns how many models were built.
    """
    import pydantic
    import pydantic_core

    built = 0
    for name in [m for m in sys.modules if m == prefix or m.startswith(prefix + ".")]:
        module = sys.modules.get(name)
        for obj in list(vars(module).values()) if module is not None else []:
            if (
                inspect.isclass(obj)
                and issubclass(obj, pydantic.BaseModel)
                and obj.__module__ == name
                and not isinstance(obj.__pydantic_validator__, pydantic_core.SchemaValidator)
            ):
                obj.model_rebuild(force=True)
                built += 1
    return built
