"""Walks over an OpenAPI document's schemas for the profile: the error codes its examples give, the
objects reachable through properties, minimal instances of a schema, OpenAPI 3.0's `nullable` as JSON
Schema. Each takes what it walks (and the profile, for `$ref`s): no state, no suite imports.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any


def example_codes(responses: dict[str, Any]) -> dict[int, set[str]]:
    found: dict[int, set[str]] = {}
    for status, response in responses.items():
        for media in (response.get("content") or {}).values():
            for example in (media.get("examples") or {}).values():
                value = example.get("value")
                if isinstance(value, dict) and isinstance(value.get("error"), dict):
                    found.setdefault(int(status), set()).add(value["error"]["code"])
    return found


def nullable_to_null_type(node: Any) -> Any:
    """OpenAPI 3.0 `nullable: true` becomes a JSON Schema null type (draft 4 knows no `nullable`)."""
    if isinstance(node, list):
        return [nullable_to_null_type(n) for n in node]
    if not isinstance(node, dict):
        return node
    out = {k: nullable_to_null_type(v) for k, v in node.items()}
    if out.get("nullable") is True and isinstance(out.get("type"), str):
        out["type"] = [out["type"], "null"]
    return out


def objects(profile: Any, schema: Any, path: tuple[str, ...], depth: int = 0) -> Iterator[tuple[tuple, dict]]:
    """(path, properties) of every object schema reachable through properties (refs followed)."""
    node = profile.resolve(schema)
    if not isinstance(node, dict) or depth > 12:
        return
    for sub in node.get("allOf", []):
        yield from objects(profile, sub, path, depth + 1)
    props = node.get("properties")
    if isinstance(props, dict):
        yield path, props
        for name, sub in props.items():
            yield from objects(profile, sub, (*path, name), depth + 1)


def in_schema(profile: Any, schema: Any, pointer: str) -> bool:
    """Whether a JSON pointer into an instance of `schema` names a property the schema declares."""
    parts = tuple(p.replace("~1", "/").replace("~0", "~") for p in pointer.lstrip("/").split("/"))
    return any(path == parts[:-1] and parts[-1] in node for path, node in objects(profile, schema, ()))


def _example_value(node: dict[str, Any]) -> Any:
    if "example" in node:
        return node["example"]
    if node.get("examples"):
        return node["examples"][0]
    if node.get("enum"):
        return node["enum"][0]
    return None


def instance(profile: Any, schema: Any, force: list[tuple[str, ...]], depth: int = 0) -> Any:
    """A minimal instance of `schema`: required properties only, plus the paths in `force`."""
    node = profile.resolve(schema)
    if depth > 24:
        return None
    if "allOf" in node:
        merged: dict[str, Any] = {}
        for sub in node["allOf"]:
            value = instance(profile, sub, force, depth + 1)
            if isinstance(value, dict):
                merged.update(value)
        return merged
    for key in ("oneOf", "anyOf"):
        if key in node:
            return instance(profile, node[key][0], force, depth + 1)
    example = _example_value(node)
    kind = node.get("type")
    if isinstance(kind, list):
        kind = next((k for k in kind if k != "null"), "null")
    if kind == "object" or "properties" in node:
        props = node.get("properties", {})
        wanted = [*node.get("required", []), *(p[0] for p in force if p and p[0] in props)]
        out = {}
        for name in dict.fromkeys(wanted):
            sub_force = [p[1:] for p in force if p and p[0] == name]
            out[name] = instance(profile, props[name], sub_force, depth + 1)
        return out
    if example is not None:
        return example
    if kind == "array":
        return [instance(profile, node.get("items", {}), [], depth + 1)] if node.get("minItems") else []
    return {"string": _string_default(node.get("format")), "integer": 0, "number": 0, "boolean": False}.get(kind)


def _string_default(fmt: str | None) -> str:
    return {"date-time": "2024-02-16T16:55:55Z", "ipv4": "127.0.0.1", "uri": "https://example.com/"}.get(fmt, "x")
