"""Check a JSON value against an ``openai`` package type the way the Realtime API does.

The SDK's pydantic models accept unknown keys (``extra="allow"``) and its unions carry a
``PropertyInfo`` discriminator that pydantic ignores, so validating a client event with a
plain ``TypeAdapter`` both lets typos through and reports a wrong item as a dozen errors,
one per union member. The service answers one error per event, naming the parameter:

- ``unknown_parameter``: ``Unknown parameter: 'session.modalities'.``
- ``missing_required_parameter``: ``Missing required parameter: 'session.type'.``
- ``invalid_value``: ``Invalid value: 'smell'. Supported values are: 'text' and 'audio'.``
- ``invalid_type``: ``Invalid type for 'item.content': expected an array, but got a string
  instead.``

:func:`check` walks the SDK's own type annotations to produce exactly those, picking a
union member by its ``Literal`` fields (``type``, then ``role``) as the service does.
"""

from __future__ import annotations

import functools
import types
import typing
from collections.abc import Sequence
from typing import Any, Literal, Union, get_args, get_origin

from pydantic import BaseModel, TypeAdapter, ValidationError

__all__ = ["ClientError", "check", "describe", "invalid_value", "quote_list"]

_NONE = type(None)
_DISCRIMINATOR_ORDER = ("type", "role")


class ClientError(Exception):
    """A client event the service rejects, as its ``error`` event describes it."""

    def __init__(self, code: str, message: str, param: str | None = None) -> None:
        super().__init__(message)
        self.code, self.message, self.param = code, message, param


def quote_list(values: Sequence[Any]) -> str:
    """``'a'``, ``'a' and 'b'``, ``'a', 'b', and 'c'`` (the service's enumeration style)."""
    quoted = [f"'{v}'" for v in values]
    if len(quoted) <= 2:
        return " and ".join(quoted)
    return ", ".join(quoted[:-1]) + f", and {quoted[-1]}"


def invalid_value(param: str, value: Any, allowed: Sequence[Any]) -> ClientError:
    """``Invalid value: 'x'. Supported values are: ...`` for ``param``."""
    message = f"Invalid value: '{value}'. Supported values are: {quote_list(allowed)}."
    return ClientError("invalid_value", message, param)


def describe(value: Any) -> str:
    """The JSON type of a value, as the service names it in ``invalid_type`` errors."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, int):
        return "an integer"
    if isinstance(value, float):
        return "a decimal"
    if isinstance(value, str):
        return "a string"
    if isinstance(value, list):
        return "an array"
    return "an object"


def _join(path: str, key: str) -> str:
    return f"{path}.{key}" if path else key


def _invalid_type(path: str, expected: str, value: Any) -> ClientError:
    message = f"Invalid type for '{path}': expected {expected}, but got {describe(value)} instead."
    return ClientError("invalid_type", message, path)


def check(tp: Any, value: Any, path: str) -> None:
    """Raise :class:`ClientError` unless ``value`` fits the SDK type ``tp`` (no extra keys)."""
    origin, args = get_origin(tp), get_args(tp)
    if origin is typing.Annotated:
        check(args[0], value, path)
    elif origin in (Union, types.UnionType):
        _check_union(args, value, path)
    elif origin is Literal:
        if not _is_one_of(value, args):
            raise invalid_value(path, value, args)
    elif isinstance(tp, type) and issubclass(tp, BaseModel):
        _check_model(tp, value, path)
    elif origin in (list, tuple) or tp in (list, tuple):
        if not isinstance(value, list):
            raise _invalid_type(path, "an array", value)
        for i, item in enumerate(value):
            if args:
                check(args[0], item, f"{path}[{i}]")
    elif origin is dict or tp is dict:
        if not isinstance(value, dict):
            raise _invalid_type(path, "an object", value)
        for key, item in value.items():
            if len(args) == 2:
                check(args[1], item, _join(path, str(key)))
    else:
        _check_scalar(tp, value, path)


def _is_one_of(value: Any, allowed: Sequence[Any]) -> bool:
    # type-exact: JSON true is not the literal 1
    return any(value == a and type(value) is type(a) for a in allowed)


def _expected(tp: Any) -> str:
    names = {str: "a string", int: "an integer", float: "a decimal", bool: "a boolean"}
    if tp in names:
        return names[tp]
    origin = get_origin(tp)
    if origin in (list, tuple):
        return "an array"
    return "an object"


def _scalar_ok(tp: Any, value: Any) -> bool:
    if tp is Any or tp is object:
        return True
    if tp is bool:
        return isinstance(value, bool)
    if tp is int:
        return isinstance(value, int) and not isinstance(value, bool)
    if tp is float:
        return isinstance(value, int | float) and not isinstance(value, bool)
    if tp is str:
        return isinstance(value, str)
    return False


def _check_scalar(tp: Any, value: Any, path: str) -> None:
    if tp in (Any, object):
        return
    if tp is _NONE:
        if value is not None:
            raise _invalid_type(path, "null", value)
        return
    if tp in (str, int, float, bool):
        if not _scalar_ok(tp, value):
            raise _invalid_type(path, _expected(tp), value)
        return
    try:  # a shape a newer SDK introduced: let pydantic judge it
        TypeAdapter(tp).validate_python(value)
    except ValidationError as exc:
        reason = exc.errors()[0]["msg"]
        raise ClientError("invalid_value", f"Invalid value for '{path}': {reason}.", path) from None


def _flatten(args: tuple[Any, ...]) -> list[Any]:
    """Union members with nested unions (``Optional[Annotated[Union[...]]]``) spread out."""
    out: list[Any] = []
    for arg in args:
        arg = _unwrap(arg)
        if get_origin(arg) in (Union, types.UnionType):
            out += _flatten(get_args(arg))
        else:
            out.append(arg)
    return out


def _check_union(args: tuple[Any, ...], value: Any, path: str) -> None:
    flat = _flatten(args)
    members = [a for a in flat if a is not _NONE]
    if value is None:
        if _NONE in flat:
            return
        raise _invalid_type(path, " or ".join(dict.fromkeys(map(_expected, members))), value)
    models = [m for m in members if isinstance(m, type) and issubclass(m, BaseModel)]
    if isinstance(value, dict) and models:
        _check_model(_pick_model(models, value, path), value, path)
        return
    for shape, origins in ((list, (list, tuple)), (dict, (dict,))):
        same = [m for m in members if get_origin(m) in origins or m in origins]
        if isinstance(value, shape) and same:
            check(same[0], value, path)
            return
    literals = [v for m in members if get_origin(m) is Literal for v in get_args(m)]
    if any(_scalar_ok(m, value) for m in members) or _is_one_of(value, literals):
        return
    if literals and isinstance(value, str) and str not in members:
        raise invalid_value(path, value, literals)
    expected = " or ".join(dict.fromkeys(_expected(m) for m in members if m not in (Any, object)))
    raise _invalid_type(path, expected or "a value", value)


def _unwrap(tp: Any) -> Any:
    while get_origin(tp) is typing.Annotated:
        tp = get_args(tp)[0]
    return tp


@functools.lru_cache(maxsize=1024)
def _literal_values(model: type[BaseModel], field: str) -> tuple[Any, ...] | None:
    info = model.model_fields.get(field)
    if info is None:
        return None
    tp = _unwrap(info.annotation)
    if get_origin(tp) in (Union, types.UnionType):
        inner = [a for a in get_args(tp) if a is not _NONE]
        tp = _unwrap(inner[0]) if len(inner) == 1 else tp
    return get_args(tp) if get_origin(tp) is Literal else None


def _pick_model(models: list[type[BaseModel]], value: dict[str, Any], path: str) -> type[BaseModel]:
    """The union member the service would read ``value`` as, by its literal fields."""
    fields = [f for m in models for f in m.model_fields if _literal_values(m, f) is not None]
    order = sorted(
        dict.fromkeys(fields),
        key=lambda f: _DISCRIMINATOR_ORDER.index(f) if f in _DISCRIMINATOR_ORDER else 99,
    )
    candidates = list(models)
    for field in order:
        tagged = [m for m in candidates if _literal_values(m, field) is not None]
        if not tagged:
            continue
        if field not in value:
            if all(m.model_fields[field].is_required() for m in tagged):
                param = _join(path, field)
                raise ClientError(
                    "missing_required_parameter", f"Missing required parameter: '{param}'.", param
                )
            candidates = [m for m in candidates if not _required_literal(m, field)]
            continue
        matching = [m for m in tagged if _is_one_of(value[field], _literal_values(m, field) or ())]
        if not matching:
            allowed = dict.fromkeys(v for m in tagged for v in _literal_values(m, field) or ())
            raise invalid_value(_join(path, field), value[field], list(allowed))
        candidates = [m for m in candidates if m in matching or m not in tagged]
    return candidates[0]


def _required_literal(model: type[BaseModel], field: str) -> bool:
    info = model.model_fields.get(field)
    return info is not None and info.is_required() and _literal_values(model, field) is not None


def _check_model(model: type[BaseModel], value: Any, path: str) -> None:
    if not isinstance(value, dict):
        raise _invalid_type(path, "an object", value)
    fields = {(info.alias or name): info for name, info in model.model_fields.items()}
    for key in value:
        if key not in fields:
            param = _join(path, str(key))
            raise ClientError("unknown_parameter", f"Unknown parameter: '{param}'.", param)
    for key, info in fields.items():
        if key not in value and info.is_required():
            param = _join(path, key)
            raise ClientError(
                "missing_required_parameter", f"Missing required parameter: '{param}'.", param
            )
    for key, item in value.items():
        check(fields[key].annotation, item, _join(path, key))
