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
import reprlib
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

_MAX_PROBLEMS = 20  # a file of garbage is reported by its first problems, not all of them
_SNIPPET_CHARS = 80  # an echoed value or name is cut to this (a file may hold 100 kB)
_repr = reprlib.Repr()
_repr.maxstring = _repr.maxother = _SNIPPET_CHARS
_repr.maxlist = _repr.maxtuple = _repr.maxdict = 4


def _snippet(value: object) -> str:
    """``repr(value)`` cut to about 80 characters, for echoing user input in errors."""
    return _repr.repr(value)


def _name(part: str) -> str:
    """A field name from the file, cut to about 80 characters."""
    return part if len(part) <= _SNIPPET_CHARS else _snippet(part)[1:-1]


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
        raise ConfigError(f"{file}: not valid TOML: {_cut(str(exc))}") from exc
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
        errors = exc.errors()
        problems = [_describe(err) for err in errors[:_MAX_PROBLEMS]]
        if len(errors) > _MAX_PROBLEMS:
            problems.append(f"  - ... and {len(errors) - _MAX_PROBLEMS} more")
        raise ConfigError(f"{source}: invalid persona:\n" + "\n".join(problems)) from None
    avatar = persona.avatar
    if base_dir is not None and avatar is not None and avatar.image is not None:
        image = (base_dir / avatar.image).resolve()
        if not _is_file(image):
            raise ConfigError(
                f"{source}: invalid persona:\n  - field 'avatar.image': expected an existing "
                f"image file, got {_snippet(str(avatar.image))} (looked for {_snippet(str(image))})"
            )
        persona = persona.model_copy(update={"avatar": avatar.model_copy(update={"image": image})})
    return persona


def _is_file(path: Path) -> bool:
    try:
        return path.is_file()
    except OSError:  # e.g. a name too long for the file system
        return False


def _describe(err: ErrorDetails) -> str:
    loc = [str(part) for part in err["loc"]]
    model, path = _walk(loc[:-1]) if loc else (Persona, [])
    field = ".".join(_name(p) for p in [*path, loc[-1]]) if loc else "(top level)"
    kind = err["type"]
    if kind == "extra_forbidden":
        valid = sorted(model.model_fields) if model else []
        close = difflib.get_close_matches(_name(loc[-1]), valid, n=1, cutoff=0.5)
        hint = f"did you mean {close[0]!r}? " if close else ""
        return f"  - unknown field {field!r}: {hint}expected one of {', '.join(valid)}"
    if kind == "missing":
        return f"  - field {field!r} is required"
    ctx = err.get("ctx", {})
    if kind in ("union_tag_invalid", "union_tag_not_found"):
        tags = ctx.get("expected_tags", "")
        tag = _snippet(ctx.get("tag"))
        return f"  - field '{field}.provider': expected one of {tags} (got {tag})"
    got = err.get("input")
    shown = f" (got {_snippet(got)})" if not isinstance(got, dict | list) else ""
    if kind == "value_error":
        msg = err["msg"].removeprefix("Value error, ")
        return f"  - field {field!r}: {_cut(msg)}{shown}"
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


def _cut(msg: str, limit: int = 4 * _SNIPPET_CHARS) -> str:
    """A validator's message, cut in case it quotes the input at length."""
    return msg if len(msg) <= limit else f"{msg[: limit - 3]}..."


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
