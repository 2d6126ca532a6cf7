"""The REST contract as a document an integrator can write a client from: every operation
with its parameters, request body and responses, and every body's fields, all generated from
the OpenAPI schema the server publishes (`nighthawk contract > docs/contract.md`), so it
cannot drift from what the server accepts. A test regenerates it and compares.
"""

from __future__ import annotations

from typing import Any

from api.app import create_app

Schema = dict[str, Any]
HEADER = """# nighthawk REST contract v1

Generated from the OpenAPI schema (`/openapi.json`) by `nighthawk contract`; do not edit by
hand. Times are ISO 8601 with an offset (`2026-12-01T06:00:00Z`); every request but
`/healthz` carries `Authorization: Bearer <token>`. Unknown body fields and unknown query
parameters are refused with 422. Every error body is a `ProblemOut`.
"""


def contract_markdown() -> str:
    schema = create_app().openapi()
    components: dict[str, Schema] = schema.get("components", {}).get("schemas", {})
    lines = [HEADER, "## Operations", ""]
    used: set[str] = set()
    for path, operations in schema["paths"].items():
        for method, operation in operations.items():
            lines += _operation(method.upper(), path, operation, used)
    lines += ["## Bodies", ""]
    for name in _closure(sorted(used), components):
        lines += _component(name, components[name])
    return "\n".join(lines).rstrip() + "\n"


def _operation(method: str, path: str, operation: Schema, used: set[str]) -> list[str]:
    lines = [f"### `{method} {path}`", ""]
    description = (operation.get("description") or operation.get("summary") or "").strip()
    if description:
        lines += [" ".join(description.split()), ""]
    parameters = operation.get("parameters", [])
    if parameters:
        lines += ["| parameter | in | type | required | notes |", "|---|---|---|---|---|"]
        for parameter in parameters:
            lines.append(
                f"| `{parameter['name']}` | {parameter['in']} | {_type(parameter['schema'])} "
                f"| {'yes' if parameter.get('required') else 'no'} "
                f"| {_notes(parameter['schema'], parameter.get('description'))} |"
            )
        lines.append("")
    body = operation.get("requestBody", {}).get("content", {}).get("application/json")
    if body:
        lines += [f"Body: {_type(body['schema'])}", ""]
        used.update(_refs(body["schema"]))
    shapes: dict[str, list[str]] = {}
    for status, response in operation.get("responses", {}).items():
        content = response.get("content", {}).get("application/json")
        if content:
            used.update(_refs(content["schema"]))
        shape = _type(content["schema"]) if content else "no body"
        shapes.setdefault(shape, []).append(f"`{status}`")
    described = [f"{', '.join(codes)} {shape}" for shape, codes in shapes.items()]
    lines += ["Responses: " + "; ".join(described), ""]
    return lines


def _component(name: str, schema: Schema) -> list[str]:
    lines = [f"### `{name}`", ""]
    if "enum" in schema:
        values = ", ".join(f"`{value}`" for value in schema["enum"])
        return [*lines, f"One of {values}.", ""]
    description = (schema.get("description") or "").strip()
    if description:
        lines += [" ".join(description.split()), ""]
    properties = schema.get("properties", {})
    if not properties:
        return [*lines, f"{_type(schema)}", ""]
    required = set(schema.get("required", []))
    lines += ["| field | type | required | notes |", "|---|---|---|---|"]
    for field, spec in properties.items():
        lines.append(
            f"| `{field}` | {_type(spec)} | {'yes' if field in required else 'no'} "
            f"| {_notes(spec, spec.get('description'))} |"
        )
    return [*lines, ""]


def _type(spec: Schema) -> str:
    if "$ref" in spec:
        name = spec["$ref"].rsplit("/", 1)[-1]
        return f"[`{name}`](#{name.lower()})"
    if "anyOf" in spec:
        options = [_type(option) for option in spec["anyOf"]]
        return " or ".join(options)
    if "allOf" in spec and len(spec["allOf"]) == 1:
        return _type(spec["allOf"][0])
    kind = spec.get("type", "any")
    if kind == "array":
        return f"list of {_type(spec.get('items', {}))}"
    if kind == "object" and "additionalProperties" in spec:
        values = spec["additionalProperties"]
        return f"map to {_type(values)}" if isinstance(values, dict) else "object"
    if kind == "string" and "format" in spec:
        return f"string ({spec['format']})"
    if "enum" in spec:
        return " \\| ".join(f"`{value}`" for value in spec["enum"])
    return str(kind)


def _notes(spec: Schema, description: str | None) -> str:
    """Constraints and the description, from the field itself or its non-null option."""
    options = [o for o in spec.get("anyOf", [spec]) if o.get("type") != "null"]
    shown = options[0] if options else spec
    notes = []
    for key, words in (
        ("minLength", "at least {} chars"),
        ("maxLength", "at most {} chars"),
        ("minimum", ">= {}"),
        ("exclusiveMinimum", "> {}"),
        ("maximum", "<= {}"),
        ("minItems", "at least {} items"),
        ("maxItems", "at most {} items"),
    ):
        if key in shown:
            notes.append(words.format(shown[key]))
    if "pattern" in shown:
        notes.append(f"pattern `{shown['pattern']}`".replace("|", "\\|"))
    if "default" in spec and spec["default"] is not None:
        notes.append(f"default `{spec['default']}`")
    if description:
        notes.append(" ".join(description.split()).replace("|", "\\|"))
    return "; ".join(notes)


def _refs(spec: Any) -> set[str]:
    found: set[str] = set()
    if isinstance(spec, dict):
        for key, value in spec.items():
            if key == "$ref" and isinstance(value, str):
                found.add(value.rsplit("/", 1)[-1])
            else:
                found |= _refs(value)
    elif isinstance(spec, list):
        for item in spec:
            found |= _refs(item)
    return found


def _closure(names: list[str], components: dict[str, Schema]) -> list[str]:
    """The named bodies and every body they refer to, in name order."""
    seen: set[str] = set()
    pending = list(names)
    while pending:
        name = pending.pop()
        if name in seen or name not in components:
            continue
        seen.add(name)
        pending.extend(_refs(components[name]))
    return sorted(seen)
