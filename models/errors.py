"""Turn pydantic's validation errors into one line a person can act on."""

from __future__ import annotations

from collections.abc import Sequence

from pydantic import ValidationError
from pydantic_core import ErrorDetails


def field_path(location: Sequence[int | str]) -> str:
    """('studies', 3, 'due_at') -> 'studies[3].due_at'."""
    path = ""
    for part in location:
        if isinstance(part, int):
            path += f"[{part}]"
        elif "[" in part or "." in part or part.startswith("function-"):
            # pydantic names wrapper validators by their function; they are not fields.
            continue
        else:
            path += f".{part}" if path else part
    return path


def _message(error: ErrorDetails) -> str:
    kind = error["type"]
    context = error.get("ctx") or {}
    if kind == "missing":
        return "required field is missing"
    if kind == "extra_forbidden":
        return "unknown field"
    if kind == "enum":
        return f"must be one of {context.get('expected', '')}".replace("'", "")
    if kind == "value_error":
        return str(context.get("error", error["msg"]))
    if kind in {"float_type", "int_type", "float_parsing"}:
        return "must be a number"
    if kind == "bool_type":
        return "must be true or false"
    if kind in {"string_type"}:
        return "must be a string"
    if kind in {"list_type"}:
        return "must be a list"
    if kind in {"model_type", "model_attributes_type", "dict_type"}:
        return "must be an object"
    if kind == "greater_than":
        return f"must be greater than {context.get('gt')}"
    if kind == "greater_than_equal":
        return f"must be at least {context.get('ge')}"
    if kind == "less_than_equal":
        return f"must be at most {context.get('le')}"
    if kind == "finite_number":
        return "must be a finite number"
    return str(error["msg"])


def describe_first_error(exc: ValidationError, root: str = "") -> str:
    """One line: the field path and what is wrong with it."""
    path, message = describe_error(exc.errors()[0])
    if root:
        path = f"{root}.{path}" if path else root
    return f"{path}: {message}" if path else message


def describe_error(error: ErrorDetails) -> tuple[str, str]:
    """(field path, message) for one pydantic error."""
    path = field_path(error["loc"])
    message = _message(error)
    # Model-level validators name their own field ("studies[3].assigned_to: ...").
    if kind_is_model_level(error) and ": " in message:
        inner_path, _, inner_message = message.partition(": ")
        path = f"{path}.{inner_path}" if path else inner_path
        message = inner_message
    return path, message


def kind_is_model_level(error: ErrorDetails) -> bool:
    return error["type"] == "value_error" and not any(
        isinstance(part, str) and part not in {"__root__"} and not part.startswith("function-")
        for part in error["loc"][-1:]
    )
