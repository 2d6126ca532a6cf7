"""Reading scenario files: YAML (libyaml where installed) or JSON, errors naming the field."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import yaml

from models.scenario import Scenario, ScenarioError, parse_scenario


def load_scenario(path: str | Path) -> Scenario:
    """Read a scenario from YAML or JSON (by extension; YAML otherwise)."""
    return read_scenario(path)[1]


def read_scenario(path: str | Path) -> tuple[dict[str, Any], Scenario]:
    """The file's data as written, and the validated scenario with `trace` and `history`
    resolved against the file's directory."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as error:
        raise ScenarioError(f"{path}: cannot read ({error.strerror or error})") from None
    except UnicodeDecodeError:
        raise ScenarioError(f"{path}: not UTF-8 text") from None
    try:
        data = json.loads(text) if path.suffix.lower() == ".json" else yaml.load(text, _Loader)
    except (json.JSONDecodeError, yaml.YAMLError) as error:
        raise ScenarioError(f"{path}: not valid {_format_name(path)} ({_syntax(error)})") from None
    scenario = parse_scenario(data, source=str(path))
    assert isinstance(data, dict)  # parse_scenario refuses anything else
    # A trace or history is named relative to the scenario that uses it, wherever the CLI runs.
    relative = {
        name: str(path.parent / value)
        for name in ("trace", "history")
        if (value := getattr(scenario, name)) is not None and not Path(value).is_absolute()
    }
    return data, scenario.model_copy(update=relative) if relative else scenario


class _Loader(getattr(yaml, "CSafeLoader", yaml.SafeLoader)):  # type: ignore[misc]
    """Safe YAML (libyaml's parser where installed: a national scenario loads 5x faster)
    without 1.1's base-60 integers, so `start: 22:00` stays the text "22:00" (the safe
    loader would read it as 1320, while `08:00` stays text)."""


_Loader.yaml_implicit_resolvers = {
    first: [(tag, rule) for tag, rule in rules if tag != "tag:yaml.org,2002:int"]
    for first, rules in yaml.SafeLoader.yaml_implicit_resolvers.items()
}
_Loader.add_implicit_resolver(
    "tag:yaml.org,2002:int",
    re.compile(r"^(?:[-+]?0b[0-1_]+|[-+]?0[0-7_]+|[-+]?(?:0|[1-9][0-9_]*)|[-+]?0x[0-9a-fA-F_]+)$"),
    list("-+0123456789"),
)


def _format_name(path: Path) -> str:
    return "JSON" if path.suffix.lower() == ".json" else "YAML"


def _syntax(error: Exception) -> str:
    """Where the syntax broke and how: "line 3, column 7: could not find expected ':'"."""
    if isinstance(error, json.JSONDecodeError):
        return f"line {error.lineno}, column {error.colno}: {error.msg}"
    if isinstance(error, yaml.MarkedYAMLError) and error.problem_mark is not None:
        mark = error.problem_mark  # zero-based in PyYAML
        text = f"line {mark.line + 1}, column {mark.column + 1}: {error.problem or 'syntax error'}"
        context = error.context_mark
        if error.context and context is not None and context.line != mark.line:
            # An unclosed bracket is noticed lines later; say where it opened.
            text += f" ({error.context} at line {context.line + 1}, column {context.column + 1})"
        return text
    text = str(error).strip()
    return text.splitlines()[0] if text else type(error).__name__
