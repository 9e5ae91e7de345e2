"""Load a persona TOML file, with errors that name the file, the field and the fix.

::

    name = "Biscuit"
    character = "puppy"
    traits = ["playful", "loyal"]
    reply_length = { min_words = 3, max_words = 8 }

    [voice]
    provider = "elevenlabs"
    voice_id = "hpp4J3VqNfWAUOO0d1Us"
"""

from __future__ import annotations

import difflib
import tomllib
import types
import typing
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ValidationError
from pydantic_core import ErrorDetails

from ..errors import ConfigError
from .model import Persona

__all__ = ["load_persona", "parse_persona"]


def load_persona(path: str | Path) -> Persona:
    """Read and validate the persona file at ``path``.

    Raises:
        ConfigError: naming the file, every wrong field and what is expected there.
    """
    file = Path(path)
    try:
        raw = file.read_bytes()
    except OSError as exc:
        raise ConfigError(f"{file}: cannot read persona file ({exc.strerror})") from exc
    try:
        data = tomllib.loads(raw.decode("utf-8"))
    except (UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
        raise ConfigError(f"{file}: not valid TOML: {exc}") from exc
    return parse_persona(data, source=str(file), base_dir=file.parent)


def parse_persona(
    data: dict[str, Any], *, source: str = "<persona>", base_dir: Path | None = None
) -> Persona:
    """Validate an already parsed persona table; ``source`` names it in errors.

    A relative ``avatar.image`` is resolved against ``base_dir``.
    """
    try:
        persona = Persona.model_validate(data)
    except ValidationError as exc:
        problems = [_describe(err) for err in exc.errors()]
        raise ConfigError(f"{source}: invalid persona:\n" + "\n".join(problems)) from None
    avatar = persona.avatar
    if base_dir is not None and avatar is not None and avatar.image is not None:
        image = (base_dir / avatar.image).resolve()
        if not image.is_file():
            raise ConfigError(
                f"{source}: invalid persona:\n  - field 'avatar.image': expected an existing "
                f"image file, got {str(avatar.image)!r} (looked for {image})"
            )
        persona = persona.model_copy(update={"avatar": avatar.model_copy(update={"image": image})})
    return persona


def _describe(err: ErrorDetails) -> str:
    loc = [str(part) for part in err["loc"]]
    model, path = _walk(loc[:-1]) if loc else (Persona, [])
    field = ".".join([*path, loc[-1]]) if loc else "(top level)"
    kind = err["type"]
    if kind == "extra_forbidden":
        valid = sorted(model.model_fields) if model else []
        close = difflib.get_close_matches(loc[-1], valid, n=1, cutoff=0.5)
        hint = f"did you mean {close[0]!r}? " if close else ""
        return f"  - unknown field {field!r}: {hint}expected one of {', '.join(valid)}"
    if kind == "missing":
        return f"  - field {field!r} is required"
    ctx = err.get("ctx", {})
    if kind in ("union_tag_invalid", "union_tag_not_found"):
        tags = ctx.get("expected_tags", "")
        return f"  - field '{field}.provider': expected one of {tags} (got {ctx.get('tag')!r})"
    got = err.get("input")
    shown = f" (got {got!r})" if not isinstance(got, dict | list) else ""
    if kind == "value_error":
        return f"  - field {field!r}: {err['msg'].removeprefix('Value error, ')}{shown}"
    expected = _EXPECTED.get(kind) or _EXPECTED.get(field) or _expectation(err["msg"])
    return f"  - field {field!r}: expected {expected}{shown}"


_EXPECTED = {
    "tuple_type": "a list of strings",
    "list_type": "a list",
    "int_type": "an integer",
    "float_type": "a number",
    "string_type": "a string",
    "bool_type": "true or false",
    "model_type": "a table",
    "language": 'a BCP-47 language tag such as "en" or "fr-CA"',
}


def _expectation(msg: str) -> str:
    # pydantic says "Input should be greater than 1"; the file's author reads "expected ..."
    msg = msg.removeprefix("Input should be ")
    return f"a value {msg}" if msg.startswith(("greater", "less")) else msg


def _walk(loc: list[str]) -> tuple[type[BaseModel] | None, list[str]]:
    """The model at ``loc`` and the human path to it (union tags dropped)."""
    model: type[BaseModel] | None = Persona
    path: list[str] = []
    pending: list[type[BaseModel]] = []
    for part in loc:
        if pending:  # a discriminated union: this part is the tag
            model = next((m for m in pending if part in _tags(m)), None)
            pending = []
            continue
        if model is None or part not in model.model_fields:
            return None, [*path, part]
        path.append(part)
        found = _models_in(model.model_fields[part].annotation)
        if len(found) == 1:
            model = found[0]
        else:
            model, pending = None, found
    return model, path


def _models_in(annotation: Any) -> list[type[BaseModel]]:
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return [annotation]
    origin = typing.get_origin(annotation)
    if origin in (typing.Union, types.UnionType, typing.Annotated):
        return [m for arg in typing.get_args(annotation) for m in _models_in(arg)]
    return []


def _tags(model: type[BaseModel]) -> tuple[str, ...]:
    field = model.model_fields.get("provider")
    return typing.get_args(field.annotation) if field is not None else ()
