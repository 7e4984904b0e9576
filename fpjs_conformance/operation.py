"""One operation of a version: what the document declares of it (path, method, statuses, the codes that fit
each status, where the key goes, the request body's and the answer's schemas) and what the profile file
adds (the refusal roles and their codes, codes the document gives no example of).

A version has two operations (`OPERATIONS`): the update, and the read-back that shows what it stored. The
profile file names each by its operationId (`update = "updateEvent"`, `read_back = "getEvent"`), and each
clause of the catalogue says which one it judges (`operation`, the update when it says none).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from fpjs_conformance import schema_walk
from fpjs_conformance.profile_types import ACCOUNT_LEVEL_STATUS, HTTP_AUTH_HEADER, KeyPlace, ProfileError, Role

OPERATIONS = ("update", "read_back")  # the suite's names for a version's operations, the judged one first
DEFAULT = "update"  # the operation a clause judges when the catalogue names none


@dataclass(frozen=True, eq=False)
class Operation:
    """One operation of one version (see the module docstring): the facts the suite reads of it."""

    name: str  # the suite's name for it: one of OPERATIONS
    operation_id: str
    path: str  # the document's path template (`/events/{request_id}`)
    method: str  # upper case
    spec: dict[str, Any] = field(repr=False)  # the document's operation object
    id_param: str  # the path parameter naming the event
    declared_statuses: frozenset[int]
    error_statuses: frozenset[int]  # declared with a body, and the statuses a role allows by evidence
    codes_by_status: dict[int, frozenset[str]] = field(repr=False)
    roles: dict[str, Role] = field(repr=False)  # each kind of refusal and its answers (the update's: `[roles]`)
    key_places: tuple[KeyPlace, ...]
    body_schema: str | None  # the request body's schema name; None: the operation takes no body
    body_required: bool
    response_schema: dict[str, Any] | None = field(repr=False)  # the JSON schema of a 200 answer, if any

    @property
    def response_schema_name(self) -> str | None:
        return None if self.response_schema is None else ref_name(self.response_schema)

    @property
    def undeclared_statuses(self) -> frozenset[int]:
        """Statuses the operation does not declare that a role allows by evidence (reported when they come)."""
        return frozenset(s for r in self.roles.values() for s in r.undeclared)

    def role(self, name: str) -> Role:
        return self.roles[name]

    def error_schema_name(self, status: int) -> str:
        responses = self.spec["responses"]
        if str(status) not in responses:  # a status a role allows by evidence: the body of the declared errors
            status = min(s for s in self.error_statuses if str(s) in responses)
        return ref_name(responses[str(status)]["content"]["application/json"]["schema"])

    def alone(self, document: dict[str, Any]) -> dict[str, Any]:
        """The document cut down to this operation and the schemas it references.

        Schemathesis builds strategies for everything it loads; the full document is mostly the
        read-back's event schema, which the update never uses.
        """
        wanted: set[str] = set()

        def collect(node: Any) -> None:
            if isinstance(node, dict):
                ref = node.get("$ref")
                if isinstance(ref, str) and ref.startswith("#/components/schemas/"):
                    name = ref.rsplit("/", 1)[-1]
                    if name not in wanted:
                        wanted.add(name)
                        collect(document["components"]["schemas"][name])
                for value in node.values():
                    collect(value)
            elif isinstance(node, list):
                for value in node:
                    collect(value)

        collect(self.spec)
        components = {
            "schemas": {n: s for n, s in document["components"]["schemas"].items() if n in wanted},
            "securitySchemes": document["components"]["securitySchemes"],
        }
        return {
            **{k: v for k, v in document.items() if k not in ("paths", "components", "webhooks")},
            "paths": {self.path: {self.method.lower(): self.spec}},
            "components": components,
        }


def read(
    document: dict[str, Any],
    document_name: str,
    name: str,
    operation_id: str,
    more_codes: dict[int, set[str]],
    roles_of: Callable[[dict[int, frozenset[str]]], dict[str, Role]],
) -> Operation:
    """The operation `operation_id` of the document, as the suite calls it (`name`): `more_codes` are codes the
    profile file pairs with a status beyond the document's examples; `roles_of(codes_by_status)` builds its
    roles (checked against those codes)."""
    path, method = locate(document, document_name, operation_id)
    spec = document["paths"][path][method.lower()]
    codes = codes_by_status(document, spec, more_codes)
    roles = roles_of(codes)
    responses = spec["responses"]
    declared = frozenset(int(s) for s in responses if s.isdigit())
    with_body = frozenset(int(s) for s, r in responses.items() if s.isdigit() and int(s) >= 400 and r.get("content"))
    body = spec.get("requestBody")
    answer = ((responses.get("200") or {}).get("content") or {}).get("application/json") or {}
    return Operation(
        name=name,
        operation_id=operation_id,
        path=path,
        method=method,
        spec=spec,
        id_param=next(p["name"] for p in spec.get("parameters", []) if p.get("in") == "path"),
        declared_statuses=declared,
        error_statuses=with_body | frozenset(s for r in roles.values() for s in r.undeclared),
        codes_by_status=codes,
        roles=roles,
        key_places=key_places(document, document_name, spec),
        body_schema=ref_name(body["content"]["application/json"]["schema"]) if body else None,
        body_required=bool(body and body.get("required")),
        response_schema=answer.get("schema"),
    )


def locate(document: dict[str, Any], document_name: str, operation_id: str) -> tuple[str, str]:
    """(path, METHOD) of the operation with this operationId."""
    for path, ops in document["paths"].items():
        for method, op in ops.items():
            if isinstance(op, dict) and op.get("operationId") == operation_id:
                return path, method.upper()
    raise ProfileError(f"{document_name}: no operation {operation_id!r}")


def ref_name(schema: dict[str, Any]) -> str:
    return schema["$ref"].rsplit("/", 1)[-1]


def codes_by_status(
    document: dict[str, Any], spec: dict[str, Any], more: dict[int, set[str]]
) -> dict[int, frozenset[str]]:
    """Which codes fit which status: the operation's examples, account-level 403 codes from every
    operation's examples, and `more` (the profile's, where the document gives none)."""
    found = schema_walk.example_codes(spec["responses"])
    account: set[str] = set()
    for ops in document["paths"].values():
        for op in ops.values():
            if isinstance(op, dict) and "responses" in op:
                account |= schema_walk.example_codes(op["responses"]).get(ACCOUNT_LEVEL_STATUS, set())
    if account:
        found.setdefault(ACCOUNT_LEVEL_STATUS, set()).update(account)
    for status, codes in more.items():
        found.setdefault(status, set()).update(codes)
    return {status: frozenset(codes) for status, codes in found.items()}


def key_places(document: dict[str, Any], document_name: str, spec: dict[str, Any]) -> tuple[KeyPlace, ...]:
    """The places the operation's security requirements accept a key in, as the document says."""
    schemes = document["components"]["securitySchemes"]
    places = []
    for requirement in spec.get("security", document.get("security", [])):
        for name in requirement:
            s = schemes[name]
            if s["type"] == "apiKey":
                places.append(KeyPlace(s["in"], s["in"], s["name"]))
            elif s["type"] == "http":  # the scheme word as registered with IANA: `bearer` is `Bearer`
                places.append(KeyPlace("header", "header", HTTP_AUTH_HEADER, s["scheme"].capitalize()))
            else:
                raise ProfileError(f"{document_name}: security scheme {name!r} is not supported")
    if len({p.name for p in places}) != len(places):
        raise ProfileError(f"{document_name}: two key places of the same kind")
    return tuple(places)
