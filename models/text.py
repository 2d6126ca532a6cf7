"""Text screened once, at the edge: every string of every input, before anything reads it.

- Valid Unicode scalar values only: a lone UTF-16 surrogate (JSON can spell one, `"\\ud800"`)
  cannot be stored or logged as UTF-8, so it is refused, not passed along to break a read.
- No NUL anywhere (PostgreSQL text cannot hold one) and no other control characters, but
  tabs and line breaks in free text (a reason, a name, a note).
- Identifiers are NFC-normalized (the same name typed on two keyboards is one id) and hold no
  control or invisible format characters (bidirectional overrides, zero-width joiners).
- Unknown keys are named (the first few) and counted, and the check stops there: a body of
  70,000 unknown keys costs one set difference, not 70,000 error entries.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Iterable, Mapping
from typing import Any

FREE_TEXT_CONTROLS = frozenset("\t\n\r")
MAX_NAMED_UNKNOWN = 5
MAX_SHOWN_CHARACTERS = 40  # of a key named in an error: the sender knows the rest


def shown(key: object, limit: int = MAX_SHOWN_CHARACTERS) -> str:
    """A key as an error message may quote it: printable as UTF-8 (a lone surrogate becomes
    `\\ud800`) and cut short, so a 100,000-character key costs an answer 40 characters."""
    if not isinstance(key, str):
        return "?"
    text = key if len(key) <= limit else key[:limit] + "..."
    return text.encode("utf-8", "backslashreplace").decode("utf-8")


def _problem(text: str, *, free_text: bool) -> str | None:
    for char in text:
        code = ord(char)
        if 0xD800 <= code <= 0xDFFF:
            return "contains an invalid character (a lone UTF-16 surrogate)"
        if code == 0:
            return "contains a NUL character"
        if (code < 32 or 0x7F <= code < 0xA0) and not (free_text and char in FREE_TEXT_CONTROLS):
            return f"contains a control character (U+{code:04X})"
    return None


def screen(value: Any, path: str, *, free_text: bool = False) -> None:
    """Raise ValueError('path: what is wrong') for the first bad string in `value` (strings,
    and the keys and values of lists and objects, however nested)."""
    if isinstance(value, str):
        problem = _problem(value, free_text=free_text)
        if problem:
            raise ValueError(f"{path}: {problem}" if path else problem)
    elif isinstance(value, Mapping):
        for key, item in value.items():
            where = f"{path}.{shown(key)}" if path else shown(key)
            screen(key, where, free_text=False)
            screen(item, where, free_text=free_text)
    elif isinstance(value, list | tuple):
        for index, item in enumerate(value):
            screen(item, f"{path}[{index}]", free_text=free_text)


def screen_keys(known: Iterable[str], data: Mapping[Any, Any]) -> None:
    """Raise ValueError naming the first few unknown keys and counting the rest."""
    unknown = [key for key in data if key not in known]
    if not unknown:
        return
    first_few = unknown[:MAX_NAMED_UNKNOWN]
    named = ", ".join(f"'{shown(key)}'" for key in first_few)
    more = len(unknown) - MAX_NAMED_UNKNOWN
    suffix = f" and {more} more" if more > 0 else ""
    first = shown(unknown[0]) if isinstance(unknown[0], str) else "body"
    if len(unknown) == 1:
        raise ValueError(f"{first}: unknown field")
    raise ValueError(f"{first}: unknown fields {named}{suffix}")


def clean_identifier(value: str) -> str:
    """NFC-normalized, with no control or invisible format character."""
    text = unicodedata.normalize("NFC", value)
    for char in text:
        if unicodedata.category(char) in {"Cc", "Cf", "Cs", "Co", "Cn"}:
            raise ValueError(f"contains a control or invisible character (U+{ord(char):04X})")
    return text
