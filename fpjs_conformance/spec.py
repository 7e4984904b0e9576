"""The OpenAPI document as data: everything the suite knows about the contract comes from here.

Nothing in the suite re-types a schema, a status or an error code; it asks this module,
which reads the published v3 document shipped beside it.
"""

from __future__ import annotations

import copy
import functools
from pathlib import Path
from typing import Any

import jsonschema
import yaml

DOCUMENT_PATH = Path(__file__).with_name("fingerprint-server-api-v3.yaml")
PATH = "/events/{request_id}"
METHOD = "put"


@functools.cache
def document() -> dict[str, Any]:
    """The whole published document, parsed once per process."""
    loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)  # libyaml: ~10x faster on this 7,000-line file
    with DOCUMENT_PATH.open(encoding="utf-8") as fh:
        return yaml.load(fh, Loader=loader)


def operation(method: str = METHOD) -> dict[str, Any]:
    return document()["paths"][PATH][method]


def servers() -> dict[str, str]:
    """Region name -> base URL, from the document's `servers` (Global/EU/Asia)."""
    names = {"Global": "global", "EU": "eu", "Asia (Mumbai)": "ap"}
    return {names.get(s["description"], s["description"]): s["url"] for s in document()["servers"]}


def security_schemes() -> dict[str, dict[str, str]]:
    return document()["components"]["securitySchemes"]


def key_header() -> str:
    return next(s["name"] for s in security_schemes().values() if s["in"] == "header")


def key_query_param() -> str:
    return next(s["name"] for s in security_schemes().values() if s["in"] == "query")


@functools.cache
def declared_statuses() -> frozenset[int]:
    return frozenset(int(s) for s in operation()["responses"] if s.isdigit())


@functools.cache
def error_statuses() -> frozenset[int]:
    """Declared statuses whose response carries a body schema (the error responses)."""
    return frozenset(int(s) for s, r in operation()["responses"].items() if s.isdigit() and r.get("content"))


@functools.cache
def error_codes() -> tuple[str, ...]:
    return tuple(document()["components"]["schemas"]["ErrorCode"]["enum"])


def _example_codes(responses: dict[str, Any]) -> dict[int, set[str]]:
    found: dict[int, set[str]] = {}
    for status, response in responses.items():
        for media in (response.get("content") or {}).values():
            for example in (media.get("examples") or {}).values():
                value = example.get("value")
                if isinstance(value, dict) and isinstance(value.get("error"), dict):
                    found.setdefault(int(status), set()).add(value["error"]["code"])
    return found


ACCOUNT_LEVEL_STATUS = 403


@functools.cache
def codes_by_status() -> dict[int, frozenset[str]]:
    """Which error codes fit which status for this operation.

    The operation's own examples give the per-status codes. Codes documented for 403 on any
    operation are account-level (inactive subscription, feature not enabled, key scope) and
    apply to every operation, so they are added to 403 here.
    """
    own = _example_codes(operation()["responses"])
    account: set[str] = set()
    for ops in document()["paths"].values():
        for op in ops.values():
            if isinstance(op, dict) and "responses" in op:
                account |= _example_codes(op["responses"]).get(ACCOUNT_LEVEL_STATUS, set())
    own.setdefault(ACCOUNT_LEVEL_STATUS, set()).update(account)
    return {status: frozenset(codes) for status, codes in own.items()}


def example_code(status: int, summary_word: str) -> str:
    """The code of the operation's example for `status` whose summary mentions `summary_word`."""
    for media in operation()["responses"][str(status)]["content"].values():
        for example in media["examples"].values():
            if summary_word.lower() in example["summary"].lower():
                return example["value"]["error"]["code"]
    raise LookupError(f"no {status} example mentions {summary_word!r}")


def _openapi_to_json_schema(node: Any) -> Any:
    """OpenAPI 3.0 schema objects -> JSON Schema draft 4: `nullable: true` becomes a null type.

    Other OpenAPI-only keywords (`example`, `x-*`) are unknown to draft 4 and so ignored by it.
    """
    if isinstance(node, list):
        return [_openapi_to_json_schema(n) for n in node]
    if not isinstance(node, dict):
        return node
    out = {k: _openapi_to_json_schema(v) for k, v in node.items()}
    if out.get("nullable") is True and isinstance(out.get("type"), str):
        out["type"] = [out["type"], "null"]
    return out


@functools.cache
def _components_json_schema() -> dict[str, Any]:
    return _openapi_to_json_schema(copy.deepcopy(document()["components"]))


@functools.cache
def validator(schema_name: str) -> jsonschema.protocols.Validator:
    """A jsonschema validator for `#/components/schemas/<schema_name>` (draft 4, as OpenAPI 3.0)."""
    schema = {"$ref": f"#/components/schemas/{schema_name}", "components": _components_json_schema()}
    return jsonschema.Draft4Validator(schema)


def schema_text(schema_name: str) -> dict[str, Any]:
    return document()["components"]["schemas"][schema_name]


def request_body_schema_name() -> str:
    ref = operation()["requestBody"]["content"]["application/json"]["schema"]["$ref"]
    return ref.rsplit("/", 1)[-1]


def error_body_schema_name(status: int) -> str:
    ref = operation()["responses"][str(status)]["content"]["application/json"]["schema"]["$ref"]
    return ref.rsplit("/", 1)[-1]


def body_fields() -> tuple[str, ...]:
    """The update body's known properties, in document order (`linkedId`, `tag`, `suspect`)."""
    return tuple(schema_text(request_body_schema_name())["properties"])


def resolve_pointer(pointer: str) -> Any:
    """Follow a JSON pointer (`/paths/~1events~1{request_id}/put/...`) into the document."""
    node: Any = document()
    for part in pointer.lstrip("/").split("/"):
        part = part.replace("~1", "/").replace("~0", "~")
        node = node[int(part)] if isinstance(node, list) else node[part]
    return node


def body_field_types() -> dict[str, str]:
    """Field -> JSON type of the update body (`$ref`s followed): what a wrong type is wrong against."""
    props = schema_text(request_body_schema_name())["properties"]
    out = {}
    for name, prop in props.items():
        if "$ref" in prop:
            prop = resolve_pointer(prop["$ref"].lstrip("#"))
        out[name] = prop["type"]
    return out


@functools.cache
def operation_document() -> dict[str, Any]:
    """The document cut down to the update operation and the schemas it references.

    Schemathesis builds strategies for everything it loads; the full document is mostly the
    GET event schema, which the update never uses.
    """
    doc = document()
    wanted: set[str] = set()

    def collect(node: Any) -> None:
        if isinstance(node, dict):
            ref = node.get("$ref")
            if isinstance(ref, str) and ref.startswith("#/components/schemas/"):
                name = ref.rsplit("/", 1)[-1]
                if name not in wanted:
                    wanted.add(name)
                    collect(doc["components"]["schemas"][name])
            for value in node.values():
                collect(value)
        elif isinstance(node, list):
            for value in node:
                collect(value)

    put = operation()
    collect(put)
    components = {
        "schemas": {n: s for n, s in doc["components"]["schemas"].items() if n in wanted},
        "securitySchemes": doc["components"]["securitySchemes"],
    }
    return {
        **{k: v for k, v in doc.items() if k not in ("paths", "components", "webhooks")},
        "paths": {PATH: {METHOD: put}},
        "components": components,
    }
