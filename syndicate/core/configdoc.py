"""Generate the configuration reference (docs/configuration.md) from the settings models.

Each key is declared once, in syndicate/core/config.py, with its default and description;
this renders them. ``python -m syndicate.core.configdoc > docs/configuration.md`` refreshes
the page and a test fails when the committed page and the models disagree.
"""

from __future__ import annotations

import copy
import types
import typing
from collections.abc import Iterator
from datetime import timedelta
from typing import Any, Literal

from pydantic import BaseModel
from pydantic.fields import FieldInfo
from pydantic_core import PydanticUndefined

from syndicate.core.config import Section, Settings

INTRO = """\
# Configuration reference

syndicate reads the file named by `--config`, else by `$SYNDICATE_CONFIG`, else the
nearest `config.toml` in the current folder or one of its parents (as git finds its
repository); when there is none, the error lists the folders it looked in.
Every key is listed below with its type, default and meaning; keys marked
*required* have no default. Unknown keys are errors, so a typo never passes silently:
`syndicate check` lists every problem with its key path (`digests[0].schedule`)
and, for a mistyped key, the nearest accepted one.

- Relative paths are resolved against the folder that holds `config.toml`.
- Secrets are never written in the file: keys ending in `_env` name an environment
  variable that holds the value (`password_env = "SMTP_PASSWORD"`).
- Durations accept `"90m"`, `"6h"`, `"7d"`, `"2w"` or a number of seconds.
- Cron expressions have five fields (`minute hour day month weekday`) and run in the
  zone named beside them; daylight-saving changes neither skip nor double a run.
- `[[feeds]]`, `[[hosts]]` and `[[digests]]` are arrays of tables: repeat the header
  once per item. Their keys are listed as `feeds.name`, and so on.

After editing the file of a running service, send it `SIGHUP` (`systemctl reload
syndicate`): the new file is validated first and a bad one is refused with the reason
in the log, keeping the running configuration.

This page is generated from `syndicate/core/config.py` by
`python -m syndicate.core.configdoc > docs/configuration.md`.
"""


def _type_name(annotation: Any) -> str:
    origin = typing.get_origin(annotation)
    args = typing.get_args(annotation)
    if origin is typing.Annotated:
        base = _type_name(args[0])
        meta = " ".join(type(m).__name__ for m in args[1:])
        if "BeforeValidator" in meta and args[0] is str:
            return "string"
        return base
    if origin in (types.UnionType, typing.Union):
        names = [_type_name(a) for a in args if a is not type(None)]
        return " or ".join(names) + (" (optional)" if type(None) in args else "")
    if origin is typing.Literal:
        return " \\| ".join(f'`"{a}"`' for a in args)
    if origin is list:
        return f"list of {_type_name(args[0])}"
    if origin is dict:
        return f"table of {_type_name(args[1])}"
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return "table"
    return {
        str: "string",
        int: "integer",
        float: "number",
        bool: "boolean",
        timedelta: "duration",
    }.get(annotation, getattr(annotation, "__name__", str(annotation)))


_BY_TYPE = object()  # the default of a union key that differs between types


def _default(field: FieldInfo) -> str:
    if field.default is _BY_TYPE:
        return "by type"
    if field.is_required():
        return "*required*"
    value = field.default_factory() if field.default_factory else field.default  # type: ignore[call-arg]
    if value is PydanticUndefined or value is None:
        return "none"
    if isinstance(value, BaseModel):
        return "(table)"
    if isinstance(value, timedelta):
        seconds = int(value.total_seconds())
        for unit, size in (("w", 604800), ("d", 86400), ("h", 3600), ("m", 60)):
            if seconds % size == 0:
                return f'`"{seconds // size}{unit}"`'
        return f"`{seconds}`"
    if isinstance(value, bool):
        return f"`{str(value).lower()}`"
    if isinstance(value, str):
        return f'`"{value}"`'
    return f"`{value!r}`".replace("'", '"')


def _model_of(annotation: Any) -> type[Section] | None:
    for candidate in (annotation, *typing.get_args(annotation)):
        inner = typing.get_args(candidate)
        for option in (candidate, *inner):
            if isinstance(option, type) and issubclass(option, Section):
                return option
    return None


def _members(annotation: Any) -> list[type[Section]]:
    """The tables of a tagged union (``[[hosts]]``: one model per ``type``), else []."""
    for candidate in (annotation, *typing.get_args(annotation)):
        if typing.get_origin(candidate) is typing.Annotated:
            candidate = typing.get_args(candidate)[0]
        options = [a for a in typing.get_args(candidate) if isinstance(a, type)]
        if len(options) > 1 and all(issubclass(a, Section) for a in options):
            return options
    return []


def _merged(members: list[type[Section]]) -> dict[str, FieldInfo]:
    """One row per key of a tagged union: the tag lists every value; a key only some
    types have, or with another default in some, says which in its meaning."""
    names: dict[str, list[tuple[str, FieldInfo]]] = {}
    for model in members:
        tag_field = next(
            n for n, f in model.model_fields.items() if typing.get_origin(f.annotation) is Literal
        )
        tag = typing.get_args(model.model_fields[tag_field].annotation)[0]
        for name, field in model.model_fields.items():
            names.setdefault(name, []).append((tag, field))
    merged: dict[str, FieldInfo] = {}
    all_tags = [tag for tag, _ in next(iter(names.values()))]
    for name, found in names.items():
        first = found[0][1]
        field = copy.copy(first)
        if typing.get_origin(first.annotation) is Literal:
            field.annotation = Literal[tuple(all_tags)]
        else:
            tags = [tag for tag, _ in found]
            defaults = {_default(f) for _, f in found}
            notes = [] if len(tags) == len(all_tags) else [f"Only {', '.join(tags)}."]
            if len(defaults) > 1:
                by_default: dict[str, list[str]] = {}
                for tag, info in found:
                    by_default.setdefault(_default(info), []).append(tag)
                notes.append(
                    "Default: "
                    + "; ".join(f"{', '.join(t)} {d}" for d, t in by_default.items())
                    + "."
                )
                field.default, field.default_factory = _BY_TYPE, None
            if notes:
                field.description = " ".join([first.description or "", *notes]).strip()
        merged[name] = field
    return merged


def keys(model: type[BaseModel] = Settings, prefix: str = "") -> Iterator[tuple[str, FieldInfo]]:
    """Every (dotted key path, field) of the settings, depth first."""
    for name, field in model.model_fields.items():
        if field.exclude:
            continue
        key = field.alias or name
        path = f"{prefix}{key}"
        yield path, field
        members = _members(field.annotation)
        if members:
            for sub, info in _merged(members).items():
                yield f"{path}.{sub}", info
            continue
        nested = _model_of(field.annotation)
        if nested is not None:
            yield from keys(nested, path + ".")


def render() -> str:
    lines = [INTRO]
    section = None
    for path, field in keys():
        nested = _model_of(field.annotation)
        top = path.split(".")[0]
        if "." not in path:
            if section is not None:
                lines.append("")
            header = f"[[{top}]]" if typing.get_origin(field.annotation) is list else f"[{top}]"
            lines += [f"## `{header}`", "", field.description or "", ""]
            lines += ["| key | type | default | meaning |", "|---|---|---|---|"]
            section = top
            continue
        kind = (
            "table"
            if nested is not None and "list" not in _type_name(field.annotation)
            else (_type_name(field.annotation))
        )
        lines.append(f"| `{path}` | {kind} | {_default(field)} | {field.description or ''} |")
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    print(render(), end="")
