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


def _tags(model: type[BaseModel]) -> set[str]:
    """The tag values of a union member: its single-valued ``Literal`` fields (``type``)."""
    tags = set()
    for info in model.model_fields.values():
        args = typing.get_args(info.annotation)
        if typing.get_origin(info.annotation) is typing.Literal and len(args) == 1:
            tags.add(str(args[0]))
    return tags


def untag(root: type[BaseModel], loc: tuple[Any, ...]) -> tuple[tuple[Any, ...], list[str]]:
    """``loc`` without the union tags pydantic puts in it (``hosts[0].s3.bucket`` is the
    key ``hosts[0].bucket`` of an S3 host), and the keys of the table holding its last part.

    A tagged union (``[[hosts]]`` keyed on ``type``) puts the chosen member's tag after
    the list index; the member it names is the table the key belongs to.
    """
    model: type[BaseModel] | None = root
    members: list[type[BaseModel]] = [root]
    holder: type[BaseModel] | None = root  # the table holding the latest key
    path: list[Any] = []
    for index, part in enumerate(loc):
        if model is None:  # below a key that holds no table: keep the rest as it is
            path.extend(loc[index:])
            holder = None
            break
        if isinstance(part, int):
            path.append(part)  # an index into a list of tables: same model
            continue
        chosen = next((m for m in members if len(members) > 1 and str(part) in _tags(m)), None)
        if chosen is not None:
            model, members, holder = chosen, [chosen], chosen
            continue
        path.append(part)
        holder = model
        members = _models_in(_field_names(model).get(str(part)))
        model = members[0] if members else None
    return tuple(path), sorted(_field_names(holder)) if holder is not None else []


def table_keys(root: type[BaseModel], loc: tuple[Any, ...]) -> list[str]:
    """The keys accepted by the table that holds ``loc``'s last part."""
    return untag(root, loc)[1]


def nearest_key(root: type[BaseModel], loc: tuple[Any, ...]) -> str | None:
    """The accepted key closest to the unknown one at ``loc``, if any is close."""
    if not loc or isinstance(loc[-1], int):
        return None
    close = difflib.get_close_matches(str(loc[-1]), table_keys(root, loc), n=1, cutoff=0.6)
    return close[0] if close else None
