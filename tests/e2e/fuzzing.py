"""Requests built from an OpenAPI schema and seasoned with the nastiest input.

`Fuzzer` walks an operation's JSON schemas (objects, arrays, strings with their formats and
patterns, bounded numbers, enums, nullables) and draws values that mostly conform, so cases
reach past validation into the handlers, and at a rate drawn per case breaks them: lone
surrogates, NUL and other C0 controls, bidi and invisible format characters, combining marks,
4-byte characters, strings of 100,000 characters, numbers at and just past their bounds, NaN
and infinities (bare and as strings), wrong types, missing and unknown keys. On top of that a
case may carry thousands of unknown keys (up to a body of just over 1 MiB), nesting deep enough
to trouble a recursive parser, bytes that are not JSON, or a body of the wrong shape.

Bodies are encoded by hand, so a lone surrogate arrives as the JSON escape `\\ud800` (what
`json.dumps` writes for one) or, in raw UTF-8 mode, as the bytes ED A0 80, which no strict UTF-8
decoder accepts but Python's `json.loads` does (it decodes bytes with "surrogatepass"), so the
service sees a lone surrogate either way. Path and query values are percent-encoded from the
same bytes.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any
from urllib.parse import quote

from hypothesis import strategies as st

# --- the nastiest text --------------------------------------------------------------------

LONE_SURROGATES = ("\ud800", "\udbff", "\udc00", "\udfff")
C0_CONTROLS = (*(chr(code) for code in range(32)), "\x7f", "\x85")
BIDI_CONTROLS = ("\u202e", "\u202d", "\u202a", "\u2066", "\u2067", "\u2068", "\u2069", "\u200f")
INVISIBLE = ("\u200b", "\u200d", "\u2060", "\ufeff", "\u00ad", "\u2028", "\u2029")
COMBINING = ("\u0301", "e\u0301", "\u212b", "A\u030a", "Z" + "\u0336\u0337\u0338\u0489" * 16)
FOUR_BYTE = ("\U0001f600", "\U0001f469\u200d\U0001f4bb", "\U00010000", "\U0010ffff", "\U0001d54f")
ODD = ("", " ", "\u00a0", "\ufffd", "\uffff", "\ufdd0", "İ", "ß", "ﬁ", "%00", "\\u0000", "..")
LOOKALIKES = ("NaN", "null", "true", "-0", "1e400", "'; DROP TABLE study; --", "../../etc")
FRAGMENTS = (
    *LONE_SURROGATES,
    *C0_CONTROLS,
    *BIDI_CONTROLS,
    *INVISIBLE,
    *COMBINING,
    *FOUR_BYTE,
    *ODD,
    *LOOKALIKES,
)
LONG_FILLERS = ("a", "\U0001f600", "\ud800", "\x00", "e\u0301", "\u202e", "é")
LONG_IN_BODY = (201, 1_000, 65_537, 100_000)
LONG_IN_URL = (129, 800)  # percent-encoded, 800 characters may take 9,600; httpx stops at 64 K
WRONG_TYPES: tuple[Any, ...] = (None, True, 0, -1, 1.5, "", "x", [], {}, [None], {"": None})
NUMBER_EDGES: tuple[Any, ...] = (
    0,
    -1,
    -0.0,
    10**30,
    -(10**30),
    2**63,
    2**64 + 1,
    1e308,
    5e-324,
    math.nan,
    math.inf,
    -math.inf,
    "NaN",
    "Infinity",
    "-Infinity",
    "1e999",
    "12",
    " 1",
    "0x10",
    True,
)

# --- whole-body mischief --------------------------------------------------------------------

MUTATIONS = ("none", "none", "none", "unknown_keys", "bulk_keys", "deep", "raw", "wrong_top")
BULK_BYTES = (2_000, 200_000, 900_000, 1_100_000)  # the last is over the 1 MiB cap
BULK_KEY_STYLES = ("plain", "surrogate", "nul", "bidi", "long")
DEPTHS = (100, 900, 5_000, 100_000)
RAW_BODIES = (
    b"",
    b"{",
    b'{"a":',
    b"\xff\xfe{}",
    b"\xef\xbb\xbf{}",
    b"\x00",
    b"null",
    b"NaN",
    b"1e999999",
    b'"\\ud800"',
    b'{"\\ud800": 1}',
    b'{"a": "\\u0000"}',
    b'{"a": 1, "a": 2}',
    '{"a": "é"}'.encode("utf-16"),
    b"\xed\xa0\x80",
    b"[" * 1000,
)
CONTENT_TYPES = (
    "application/json",
    "application/json",
    "application/json",
    "application/json",
    "application/json; charset=utf-8",
    "text/plain",
    "application/x-www-form-urlencoded",
    None,
)


def splice(base: str, fragments: Sequence[str], position: int) -> str:
    position = min(position, len(base))
    return base[:position] + "".join(fragments) + base[position:]


# --- operations -----------------------------------------------------------------------------


@dataclass(frozen=True)
class Operation:
    method: str  # upper case
    path: str  # the template, as the schema spells it
    parameters: tuple[dict[str, Any], ...]
    body: dict[str, Any] | None  # the JSON schema of the body, if it takes one


def operations(spec: Mapping[str, Any]) -> list[Operation]:
    """Every (method, path) of an OpenAPI document."""
    found = []
    for path, item in spec["paths"].items():
        for method, operation in item.items():
            if method not in {"get", "put", "post", "delete", "patch"}:
                continue
            content = (operation.get("requestBody") or {}).get("content", {})
            body = content.get("application/json", {}).get("schema")
            found.append(
                Operation(method.upper(), path, tuple(operation.get("parameters", ())), body)
            )
    return found


class Case:
    """One request, ready to send, and a one-line account of it for failure messages."""

    def __init__(
        self,
        operation: Operation,
        role: str,
        url: str,
        content: bytes | None,
        content_type: str | None,
        shape: str,
    ) -> None:
        self.operation = operation
        self.role = role
        self.url = url  # path and query, percent-encoded
        self.content = content
        self.content_type = content_type
        self.shape = shape

    @property
    def method(self) -> str:
        return self.operation.method

    def __repr__(self) -> str:
        return self.describe()

    def describe(self) -> str:
        url = self.url if len(self.url) <= 200 else f"{self.url[:200]}... ({len(self.url)} chars)"
        text = f"{self.method} {self.operation.path} as {self.role}: {url} [{self.shape}]"
        if self.content:
            text += f" body {self.content[:160]!r}{'...' if len(self.content) > 160 else ''}"
        return text


# --- values from schemas --------------------------------------------------------------------


class Fuzzer:
    """Draws requests for the operations of one OpenAPI document.

    `hints` maps a field or parameter name to values worth trying there (ids that exist, time
    zones, states): without them nearly every case would stop at a 404.
    """

    def __init__(self, spec: Mapping[str, Any], hints: Mapping[str, Sequence[Any]]) -> None:
        self.spec = spec
        self.hints = {name: list(values) for name, values in hints.items()}
        self._regexes: dict[str, st.SearchStrategy[str]] = {}

    def requests(
        self,
        operation: Operation,
        roles: Sequence[str],
        adjust: Callable[[Operation, Any], Any] = lambda _, body: body,
    ) -> st.SearchStrategy[Case]:
        """Cases for one operation; `adjust` may rewrite a drawn body before it is encoded."""

        @st.composite
        def case(draw: st.DrawFn) -> Case:
            rate = draw(st.sampled_from((0, 10, 30, 70)))  # percent of fields broken
            role = draw(st.sampled_from(list(roles)))
            path = self._path(draw, operation, rate)
            query, query_shape = self._query(draw, operation, rate)
            url = path + (f"?{query}" if query else "")
            content, content_type, shape = self._body(draw, operation, rate, adjust)
            shape = f"{rate}% broken; {query_shape}; {shape}"
            return Case(operation, role, url, content, content_type, shape)

        return case()

    # --- the parts of a request -----------------------------------------------------------------

    def _path(self, draw: st.DrawFn, operation: Operation, rate: int) -> str:
        path = operation.path
        for parameter in operation.parameters:
            if parameter.get("in") != "path":
                continue
            value = self.value(draw, parameter["schema"], parameter["name"], rate, in_url=True)
            path = path.replace("{" + parameter["name"] + "}", _percent(_as_text(value)))
        return path

    def _query(self, draw: st.DrawFn, operation: Operation, rate: int) -> tuple[str, str]:
        pairs: list[tuple[str, str]] = []
        for parameter in operation.parameters:
            if parameter.get("in") != "query":
                continue
            if not parameter.get("required") and not draw(st.booleans()):
                continue
            value = self.value(draw, parameter["schema"], parameter["name"], rate, in_url=True)
            values = value if isinstance(value, list) else [value]
            pairs.extend((parameter["name"], _as_text(item)) for item in values)
        extra = draw(st.sampled_from((0, 0, 0, 0, 3, 200))) if rate else 0
        for number in range(extra):  # unknown parameters, repeated or with nasty names
            if number < 3:
                pairs.append(
                    (self._nasty(draw, "q", in_url=True), self._nasty(draw, "v", in_url=True))
                )
            else:
                pairs.append((f"unknown{number}", str(number)))
        if pairs and rate and draw(st.integers(0, 9)) == 0:
            pairs.append(pairs[0])  # the same parameter twice
        query = "&".join(f"{_percent(name)}={_percent(value)}" for name, value in pairs)
        return query, f"query {len(pairs)} params ({len(query)} chars)"

    def _body(
        self,
        draw: st.DrawFn,
        operation: Operation,
        rate: int,
        adjust: Callable[[Operation, Any], Any],
    ) -> tuple[bytes | None, str | None, str]:
        mutation = draw(st.sampled_from(MUTATIONS)) if rate else "none"
        if operation.body is None and mutation in {"none", "unknown_keys", "wrong_top"}:
            return None, None, "no body"
        body: Any = {}
        if operation.body is not None:
            body = adjust(operation, self.value(draw, operation.body, "body", rate, in_url=False))
        raw_utf8 = draw(st.booleans())  # else ASCII with \\u escapes
        content_type = draw(st.sampled_from(CONTENT_TYPES)) if rate else "application/json"
        if mutation == "raw":
            content = draw(st.sampled_from(RAW_BODIES))
            return content, content_type, f"raw body {content[:20]!r}"
        if mutation == "wrong_top":
            body = draw(st.sampled_from((None, [], [body], "body", 0, True, [{}, {}])))
        elif mutation == "unknown_keys":
            body = dict(body) if isinstance(body, dict) else {}
            for _ in range(draw(st.integers(1, 3))):
                body[self._nasty(draw, "unknown", in_url=False)] = draw(
                    st.sampled_from(WRONG_TYPES)
                )
        elif mutation == "bulk_keys":
            size = draw(st.sampled_from(BULK_BYTES))
            style = draw(st.sampled_from(BULK_KEY_STYLES))
            first = draw(st.booleans())
            body = _with_bulk_keys(body, size, style, first)
        content = encode(body, raw_utf8=raw_utf8)
        if mutation == "deep":
            depth = draw(st.sampled_from(DEPTHS))
            content, where = _deepen(body, depth, raw_utf8=raw_utf8)
            mutation = f"nested {depth} deep {where}"
        keys = f", {len(body)} keys" if isinstance(body, dict) else ""
        shape = (
            f"body {len(content)} bytes, {mutation}, {'utf-8' if raw_utf8 else 'ascii'}, "
            f"{type(body).__name__}{keys}, content-type {content_type}"
        )
        return content, content_type, shape

    # --- one value ------------------------------------------------------------------------------

    def resolve(self, schema: Mapping[str, Any]) -> Mapping[str, Any]:
        while "$ref" in schema:
            node: Any = self.spec
            for part in schema["$ref"].removeprefix("#/").split("/"):
                node = node[part]
            schema = node
        return schema

    def value(
        self, draw: st.DrawFn, schema: Mapping[str, Any], name: str, rate: int, *, in_url: bool
    ) -> Any:
        """A value for `schema`: conforming, or (`rate` percent of the time) broken."""
        schema = self.resolve(schema)
        if rate and draw(st.integers(0, 99)) < rate:
            return self._broken(draw, schema, name, rate, in_url=in_url)
        return self._conforming(draw, schema, name, rate, in_url=in_url)

    def _conforming(
        self, draw: st.DrawFn, schema: Mapping[str, Any], name: str, rate: int, *, in_url: bool
    ) -> Any:
        branches = schema.get("anyOf") or schema.get("oneOf")
        if branches:
            branch = draw(st.sampled_from(branches))
            return self._conforming(draw, self.resolve(branch), name, rate, in_url=in_url)
        if "enum" in schema:
            return draw(st.sampled_from(schema["enum"]))
        kind = schema.get("type")
        if kind == "string":
            return self._string(draw, schema, name)
        if kind in {"integer", "number"}:
            return self._number(draw, schema, integer=kind == "integer")
        if kind == "boolean":
            return draw(st.booleans())
        if kind == "null":
            return None
        if kind == "array":
            most = min(int(schema.get("maxItems", 3)), int(schema.get("minItems", 0)) + 3)
            count = draw(st.integers(int(schema.get("minItems", 0)), most))
            items = schema.get("items", {})
            return [self.value(draw, items, name, rate, in_url=in_url) for _ in range(count)]
        if kind == "object" or "properties" in schema:
            return self._object(draw, schema, name, rate)
        return draw(st.sampled_from(("x", 1, None)))

    def _string(self, draw: st.DrawFn, schema: Mapping[str, Any], name: str) -> str:
        fmt = schema.get("format")
        if fmt == "date-time":
            return draw(_datetimes)
        if fmt == "date":
            return draw(_dates)
        hinted = self.hints.get(name)
        if hinted and draw(st.integers(0, 7)):
            return str(draw(st.sampled_from(hinted)))
        least = int(schema.get("minLength", 0))
        most = int(schema.get("maxLength", 24))
        if "pattern" in schema:
            text = draw(self._regex(schema["pattern"]))[:most]
            return text if len(text) >= least else "a" * max(least, 1)
        return draw(st.text(_PLAIN, min_size=least, max_size=max(least, min(most, 24))))

    def _regex(self, pattern: str) -> st.SearchStrategy[str]:
        if pattern not in self._regexes:
            self._regexes[pattern] = st.from_regex(re.compile(pattern), fullmatch=True)
        return self._regexes[pattern]

    def _number(self, draw: st.DrawFn, schema: Mapping[str, Any], *, integer: bool) -> Any:
        low = schema.get("minimum", schema.get("exclusiveMinimum"))
        high = schema.get("maximum", schema.get("exclusiveMaximum"))
        if integer:
            low = None if low is None else math.ceil(low) + ("exclusiveMinimum" in schema)
            high = None if high is None else math.floor(high) - ("exclusiveMaximum" in schema)
            return draw(st.integers(low, high))
        return draw(
            st.floats(
                low,
                high,
                exclude_min="exclusiveMinimum" in schema,
                exclude_max="exclusiveMaximum" in schema,
                allow_nan=False,
                allow_infinity=False,
            )
        )

    def _object(
        self, draw: st.DrawFn, schema: Mapping[str, Any], name: str, rate: int
    ) -> dict[str, Any]:
        required = set(schema.get("required", ()))
        out: dict[str, Any] = {}
        for key, sub in schema.get("properties", {}).items():
            if key in required or draw(st.booleans()):
                out[key] = self.value(draw, sub, key, rate, in_url=False)
        extra = schema.get("additionalProperties")
        if isinstance(extra, dict):  # a map: keys from the hints for the map's own name
            keys = self.hints.get(name) or ["key"]
            for _ in range(draw(st.integers(0, 2))):
                key = str(draw(st.sampled_from(keys)))
                out[key] = self.value(draw, extra, key, rate, in_url=False)
        return out

    def _broken(
        self, draw: st.DrawFn, schema: Mapping[str, Any], name: str, rate: int, *, in_url: bool
    ) -> Any:
        branches = [self.resolve(b) for b in schema.get("anyOf") or schema.get("oneOf") or ()]
        typed = [b for b in branches if b.get("type") != "null"] or [schema]
        schema = draw(st.sampled_from(typed))
        kind = schema.get("type")
        how = draw(st.sampled_from(("nasty", "nasty", "edge", "wrong")))
        if how == "wrong":
            return draw(st.sampled_from(WRONG_TYPES))
        if kind in {"integer", "number"}:
            return draw(st.sampled_from(_number_edges(schema, integer=kind == "integer")))
        if kind == "array":
            most = schema.get("maxItems")
            if how == "edge" and most is not None and most < 10_000:
                item = self.value(draw, schema.get("items", {}), name, rate, in_url=in_url)
                return [item] * (int(most) + 1)
            items = schema.get("items", {})
            return [self._broken(draw, self.resolve(items), name, rate, in_url=in_url)]
        if kind == "object" or "properties" in schema:
            out = self._object(draw, schema, name, 0)
            required = [key for key in schema.get("required", ()) if key in out]
            if how == "edge" and required:
                del out[draw(st.sampled_from(required))]
            else:
                out[self._nasty(draw, "unknown", in_url=in_url)] = 1
            return out
        if kind == "boolean":
            return draw(st.sampled_from(("true", "yes", 1, 0, "\x00", None)))
        base = str(self._conforming(draw, schema, name, 0, in_url=in_url) or "")
        return self._nasty(draw, base, in_url=in_url)

    def _nasty(self, draw: st.DrawFn, base: str, *, in_url: bool) -> str:
        style = draw(st.sampled_from(("splice", "splice", "alone", "long")))
        if style == "long":
            filler = draw(st.sampled_from(LONG_FILLERS))
            length = draw(st.sampled_from(LONG_IN_URL if in_url else LONG_IN_BODY))
            return (filler * length)[:length]
        fragments = draw(st.lists(st.sampled_from(FRAGMENTS), min_size=1, max_size=3))
        if style == "alone":
            return "".join(fragments)
        return splice(base, fragments, draw(st.integers(0, len(base))))


def _number_edges(schema: Mapping[str, Any], *, integer: bool) -> list[Any]:
    """At and just past each bound, then the usual suspects."""
    edges: list[Any] = []
    for key, outward in (
        ("minimum", -1),
        ("maximum", 1),
        ("exclusiveMinimum", -1),
        ("exclusiveMaximum", 1),
    ):
        bound = schema.get(key)
        if bound is None:
            continue
        if integer:
            edges += [int(bound), int(bound) + outward]
        else:
            edges += [bound, math.nextafter(bound, outward * math.inf), bound + outward]
    if integer:
        edges += [1.5, 2.0, "1.0"]
    return edges + list(NUMBER_EDGES)


# Conforming text: letters, digits, punctuation and spaces of any script (the broken values
# bring the controls, surrogates and format characters).
_PLAIN = st.characters(categories=("L", "M", "N", "P", "S", "Zs"))
# Times near the hour the module is loaded, so a conforming one is often accepted (a study
# received in the past, a plan starting in the future); the draws, not the times, are fixed.
_SOME_TIME = datetime.now(UTC).replace(minute=0, second=0, microsecond=0)
_datetimes = st.one_of(
    st.integers(-2_000, 2_000).map(
        lambda hours: (_SOME_TIME + timedelta(hours=hours)).isoformat().replace("+00:00", "Z")
    ),
    st.sampled_from(
        (
            "0001-01-01T00:00:00Z",
            "0001-01-01T00:00:00+01:00",
            "9999-12-31T23:59:59Z",
            "9999-12-31T23:59:59-01:00",
            "2031-01-06T00:00:00",  # no offset
            "2031-02-30T00:00:00Z",
            "2031-01-06T24:00:00Z",
            "2031-01-06T00:00:00+24:00",
        )
    ),
)
_dates = st.one_of(
    st.dates(date(2020, 1, 1), date(2100, 12, 31)).map(date.isoformat),
    st.sampled_from(("0001-01-01", "9999-12-31", "2031-02-30", "2031-13-01", "20310106")),
)


# --- encoding -------------------------------------------------------------------------------


def encode(value: Any, *, raw_utf8: bool = False) -> bytes:
    """JSON bytes; lone surrogates as `\\ud800` escapes, or in raw mode as the bytes ED A0 80
    (not UTF-8 at all). NaN and infinities as Python's json writes them (`NaN`, `Infinity`)."""
    if raw_utf8:
        return json.dumps(value, ensure_ascii=False).encode("utf-8", "surrogatepass")
    return json.dumps(value).encode("ascii")


def _percent(text: str) -> str:
    return quote(text.encode("utf-8", "surrogatepass"), safe="")


def _as_text(value: Any) -> str:
    """A value as a path or query parameter spells it."""
    if isinstance(value, str):
        return value
    if isinstance(value, bool):
        return "true" if value else "false"
    if value is None:
        return ""
    if isinstance(value, int | float):
        return repr(value)
    return json.dumps(value)


def _bulk_key(style: str, number: int) -> str:
    return {
        "plain": f"k{number}",
        "surrogate": f"\ud800{number}",
        "nul": f"k\x00{number}",
        "bidi": f"\u202e{number}\u2066",
        "long": f"{number}-" + "k" * 500,
    }[style]


def _with_bulk_keys(body: Any, size: int, style: str, first: bool) -> dict[str, Any]:
    """The body (an object, or an empty one) with enough unknown keys to weigh about `size`."""
    known = dict(body) if isinstance(body, dict) else {}
    each = len(encode({_bulk_key(style, 10_000): 0})) + 1
    bulk = {_bulk_key(style, number): 0 for number in range(max(1, size // each))}
    return {**bulk, **known} if first else {**known, **bulk}


def _deepen(body: Any, depth: int, *, raw_utf8: bool) -> tuple[bytes, str]:
    """Arrays nested `depth` deep: the whole body, or in place of the body's first field."""
    nested = b"[" * depth + b"]" * depth
    if isinstance(body, dict) and body:
        first = next(iter(body))
        marker = "\x01deep\x01"
        text = encode({**body, first: marker}, raw_utf8=raw_utf8)
        return text.replace(encode(marker, raw_utf8=raw_utf8), nested, 1), f"in {first!r}"
    return nested, "as the body"
