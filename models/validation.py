"""Validate a document and report every problem at once, named as the user wrote it.

pydantic reports a misspelled field twice over and from the wrong end: `per_huor` is an
unknown field, and `per_hour` is then "required field is missing". Here unknown keys are found
first, by walking the document beside the model (each with the closest field name the model
accepts, from difflib), and taken out before pydantic validates the rest; a missing field that
an unknown key's suggestion explains is not reported again. Paths follow the document: a
tagged union's tag (`events[0].absence.from`) is not part of what the user wrote. A sound
document is validated once, as before: only a wrong one is walked.
"""

from __future__ import annotations

import difflib
import types
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Annotated, Any, TypeVar, Union, get_args, get_origin

from pydantic import BaseModel, ValidationError
from pydantic.fields import FieldInfo
from pydantic_core import ErrorDetails

from models.errors import describe_errors, field_path

__all__ = [
    "MAX_LISTED_PROBLEMS",
    "InvalidDocument",
    "UnknownField",
    "format_problems",
    "unknown_fields",
    "validate_document",
]

MAX_LISTED_PROBLEMS = 20
Location = tuple[int | str, ...]
Model = TypeVar("Model", bound=BaseModel)


class InvalidDocument(ValueError):
    """Every problem found in a document, as (field path, message) pairs in document order."""

    def __init__(self, problems: Sequence[tuple[str, str]]) -> None:
        self.problems = list(problems)
        super().__init__(format_problems("", self.problems))


@dataclass(frozen=True)
class UnknownField:
    """A key the model at `location` does not accept, and the accepted name closest to it."""

    location: Location
    key: str
    suggestion: str | None

    @property
    def path(self) -> str:
        return field_path((*self.location, self.key))

    @property
    def message(self) -> str:
        hint = f" (did you mean {self.suggestion}?)" if self.suggestion else ""
        return f"unknown field{hint}"


def format_problems(
    source: str, problems: Sequence[tuple[str, str]], limit: int = MAX_LISTED_PROBLEMS
) -> str:
    """One line per problem, `source: path: message`, at most `limit`, then how many more."""
    prefix = f"{source}: " if source else ""
    lines = [
        f"{prefix}{path}: {message}" if path else f"{prefix}{message}"
        for path, message in problems[:limit]
    ]
    if len(problems) > limit:
        lines.append(f"{prefix}and {len(problems) - limit} more problems")
    return "\n".join(lines)


# --- walking a document beside its model ------------------------------------------------------


def _accepted(model: type[BaseModel]) -> dict[str, FieldInfo]:
    """The keys a document may spell for each field: its alias, or its name where no alias
    is set (or where the model populates by name too)."""
    by_name = bool(model.model_config.get("populate_by_name"))
    keys: dict[str, FieldInfo] = {}
    for name, info in model.model_fields.items():
        alias = info.validation_alias if isinstance(info.validation_alias, str) else info.alias
        if alias:
            keys[alias] = info
        if not alias or by_name:
            keys[name] = info
    return keys


def _unwrap(annotation: Any) -> tuple[Any, str | None]:
    """The type under `Annotated`, and a union discriminator named in its metadata."""
    discriminator = None
    while get_origin(annotation) is Annotated:
        annotation, *metadata = get_args(annotation)
        for item in metadata:
            if isinstance(item, FieldInfo) and isinstance(item.discriminator, str):
                discriminator = item.discriminator
    return annotation, discriminator


def _is_model(annotation: Any) -> bool:
    return isinstance(annotation, type) and issubclass(annotation, BaseModel)


def _tag_matches(model: type[BaseModel], discriminator: str, tag: Any) -> bool:
    info = model.model_fields.get(discriminator)
    return info is not None and tag in get_args(info.annotation)


def _union_member(members: list[Any], value: Any, discriminator: str | None) -> Any:
    """The member a value would validate as, where that is plain; None when in doubt."""
    if isinstance(value, dict):
        models = [member for member in members if _is_model(_unwrap(member)[0])]
        if discriminator is not None:
            tag = value.get(discriminator)
            models = [m for m in models if _tag_matches(_unwrap(m)[0], discriminator, tag)]
        return models[0] if len(models) == 1 else None
    if isinstance(value, list):
        lists = [member for member in members if get_origin(_unwrap(member)[0]) in (list, tuple)]
        return lists[0] if len(lists) == 1 else None
    return None


def _walk(
    annotation: Any, value: Any, location: Location, found: list[UnknownField], tag: str | None
) -> None:
    annotation, discriminator = _unwrap(annotation)
    discriminator = discriminator or tag
    origin = get_origin(annotation)
    if _is_model(annotation):
        _walk_model(annotation, value, location, found)
    elif origin in (Union, types.UnionType):
        member = _union_member(
            [a for a in get_args(annotation) if a is not type(None)], value, discriminator
        )
        if member is not None:
            _walk(member, value, location, found, discriminator)
    elif origin in (list, tuple, set, frozenset) and isinstance(value, list):
        item = get_args(annotation)[0] if get_args(annotation) else Any
        for index, entry in enumerate(value):
            _walk(item, entry, (*location, index), found, None)
    elif origin is dict and isinstance(value, dict) and len(get_args(annotation)) == 2:
        for key, entry in value.items():
            _walk(get_args(annotation)[1], entry, (*location, str(key)), found, None)


def _walk_model(
    model: type[BaseModel], value: Any, location: Location, found: list[UnknownField]
) -> None:
    if not isinstance(value, dict):
        return  # a shorthand ("CA" for a license) or a type error pydantic will name
    accepted = _accepted(model)
    forbids = model.model_config.get("extra") == "forbid"
    for key, entry in value.items():
        info = accepted.get(key) if isinstance(key, str) else None
        if info is not None:
            tag = info.discriminator if isinstance(info.discriminator, str) else None
            _walk(info.annotation, entry, (*location, key), found, tag)
        elif forbids:
            close = difflib.get_close_matches(str(key), sorted(accepted), n=1, cutoff=0.6)
            found.append(UnknownField(location, str(key), close[0] if close else None))


def unknown_fields(model: type[BaseModel], data: Any) -> list[UnknownField]:
    """Every key of `data` that `model` (or a model nested in it) does not accept."""
    found: list[UnknownField] = []
    _walk_model(model, data, (), found)
    return found


def _without(data: Any, unknown: list[UnknownField]) -> Any:
    """A copy of `data` without the unknown keys (the original is left as it was)."""
    drop: dict[Location, set[str]] = {}
    for field in unknown:
        drop.setdefault(field.location, set()).add(field.key)

    def copy(value: Any, location: Location) -> Any:
        if isinstance(value, dict):
            gone = drop.get(location, set())
            return {k: copy(v, (*location, str(k))) for k, v in value.items() if str(k) not in gone}
        if isinstance(value, list):
            return [copy(v, (*location, i)) for i, v in enumerate(value)]
        return value

    return copy(data, ())


# --- pydantic's errors, located in the document ------------------------------------------------


def _is_tag(part: str, node: dict[Any, Any]) -> bool:
    """A location part that is no key of the object but one of its string values: the tag
    pydantic names a tagged union's branch by."""
    return part not in node and part in {v for v in node.values() if isinstance(v, str)}


def _in_document(location: Sequence[int | str], data: Any) -> Location:
    """The error's location with what the document does not spell left out: a tagged union
    names its branch by the tag's value (`events[0].absence.from`), which is no key."""
    kept: list[int | str] = []
    node = data
    for part in location:
        if isinstance(node, dict) and isinstance(part, str) and _is_tag(part, node):
            continue
        kept.append(part)
        if isinstance(node, dict):
            node = node.get(part)
        elif isinstance(node, list) and isinstance(part, int) and 0 <= part < len(node):
            node = node[part]
        else:
            node = None
    return tuple(kept)


def _order(location: Location, data: Any) -> tuple[int, ...]:
    """Where a location is in the document: keys in the order written, then missing ones."""
    position: list[int] = []
    node = data
    for part in location:
        if isinstance(node, dict):
            keys = [str(k) for k in node]
            position.append(keys.index(str(part)) if str(part) in keys else len(keys))
            node = node.get(part)
        elif isinstance(node, list) and isinstance(part, int):
            position.append(part)
            node = node[part] if 0 <= part < len(node) else None
        else:
            position.append(0)
            node = None
    return tuple(position)


def _explained(error: ErrorDetails, location: Location, unknown: list[UnknownField]) -> bool:
    """A missing field that a misspelled key beside it was close to: said once, as the key."""
    return error["type"] == "missing" and any(
        field.suggestion is not None and (*field.location, field.suggestion) == location
        for field in unknown
    )


def validate_document(model: type[Model], data: Any) -> Model:
    """`model.model_validate(data)`, or InvalidDocument naming every problem in it."""
    try:
        return model.model_validate(data)
    except ValidationError:
        pass  # the document is walked only when it is wrong: a sound one costs nothing more
    unknown = unknown_fields(model, data)
    located: list[tuple[tuple[int, ...], str, str]] = [
        (_order((*field.location, field.key), data), field.path, field.message) for field in unknown
    ]
    try:
        model.model_validate(_without(data, unknown) if unknown else data)
    except ValidationError as error:
        for details in error.errors():
            location = _in_document(details["loc"], data)
            if _explained(details, location, unknown):
                continue
            order = _order(location, data)
            for path, message in describe_errors([{**details, "loc": location}]):
                located.append((order, path, message))
    located.sort(key=lambda entry: entry[0])
    raise InvalidDocument([(path, message) for _, path, message in located])
