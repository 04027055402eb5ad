"""The keys a config table accepts, and the nearest one to a mistyped key.

Walks the settings models along an error's location (``digests[0].schedul``) to the
table it is in, then asks difflib for the closest accepted name: a typo is answered
with "did you mean 'schedule'?" rather than only "unknown key".
"""

from __future__ import annotations

import difflib
import types
import typing
from typing import Any

from pydantic import BaseModel


def _models_in(annotation: Any) -> list[type[BaseModel]]:
    """The BaseModel classes inside an annotation (``list[X]``, ``X | None``, ``dict[str, X]``)."""
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return [annotation]
    found: list[type[BaseModel]] = []
    origin = typing.get_origin(annotation)
    if origin is not None or isinstance(annotation, types.UnionType):
        for arg in typing.get_args(annotation):
            found.extend(_models_in(arg))
    return found


def _field_names(model: type[BaseModel]) -> dict[str, Any]:
    """Accepted key -> annotation; aliases (``from``) as written in the file."""
    names = {}
    for name, info in model.model_fields.items():
        if info.exclude:
            continue
        names[info.alias or name] = info.annotation
    return names


def table_keys(root: type[BaseModel], loc: tuple[Any, ...]) -> list[str]:
    """The keys accepted by the table that holds ``loc``'s last part."""
    model = root
    for part in loc[:-1]:
        if isinstance(part, int):
            continue  # an index into a list of tables: same model
        models = _models_in(_field_names(model).get(str(part)))
        if not models:
            return []
        model = models[0]
    return sorted(_field_names(model))


def nearest_key(root: type[BaseModel], loc: tuple[Any, ...]) -> str | None:
    """The accepted key closest to the unknown one at ``loc``, if any is close."""
    if not loc or isinstance(loc[-1], int):
        return None
    close = difflib.get_close_matches(str(loc[-1]), table_keys(root, loc), n=1, cutoff=0.6)
    return close[0] if close else None
