"""The JSON decoding of typed cell contexts (runner.model.CellContext.from_dict): a
parsed JSON value rebuilt as the type hint says, nested dataclasses, tuples and mapping
values included."""

from __future__ import annotations

import types
from collections.abc import Mapping
from dataclasses import fields, is_dataclass
from functools import cache
from typing import Any, Union, get_args, get_origin, get_type_hints

_field_types = cache(get_type_hints)  # per dataclass: its fields' types, resolved


def decoded(hint: Any, value: Any) -> Any:
    """A parsed JSON value as the type ``hint`` says (see :meth:`CellContext.from_dict`)."""
    if value is None:
        return None
    origin = get_origin(hint)
    if origin is Union or origin is types.UnionType:
        options = [a for a in get_args(hint) if a is not type(None)]
        return decoded(options[0], value) if len(options) == 1 else value
    if origin is dict or origin is Mapping:
        _key, of = get_args(hint) or (Any, Any)
        return {k: decoded(of, v) for k, v in value.items()}
    if origin is tuple:
        args = get_args(hint)
        if len(args) == 2 and args[1] is Ellipsis:
            return tuple(decoded(args[0], v) for v in value)
        return tuple(decoded(a, v) for a, v in zip(args, value, strict=True))
    if isinstance(hint, type) and is_dataclass(hint):
        hints = _field_types(hint)
        return hint(**{f.name: decoded(hints[f.name], value[f.name]) for f in fields(hint) if f.init and f.name in value})
    return value
