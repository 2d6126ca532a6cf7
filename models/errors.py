"""Turn pydantic's validation errors into one line a person can act on."""

from __future__ import annotations

from collections.abc import Iterable, Sequence

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


class FieldErrors(ValueError):
    """Several problems a model validator found at once, each a (field path, message) pair.

    Its text is the first problem (and how many more), so a reader that shows one line still
    names a field; `describe_errors` lists them all.
    """

    def __init__(self, problems: Sequence[tuple[str, str]]) -> None:
        if not problems:
            raise ValueError("FieldErrors needs at least one problem")
        self.problems = list(problems)
        path, message = self.problems[0]
        more = f" (and {len(self.problems) - 1} more)" if len(self.problems) > 1 else ""
        super().__init__(f"{path}: {message}{more}")


def describe_errors(errors: Iterable[ErrorDetails]) -> list[tuple[str, str]]:
    """(field path, message) for every error (`ValidationError.errors()`), a validator's
    `FieldErrors` expanded into its problems."""
    described: list[tuple[str, str]] = []
    for error in errors:
        found = (error.get("ctx") or {}).get("error")
        if isinstance(found, FieldErrors):
            base = field_path(error["loc"])
            described += [
                (f"{base}.{path}" if base else path, message) for path, message in found.problems
            ]
        else:
            described.append(describe_error(error))
    return described
