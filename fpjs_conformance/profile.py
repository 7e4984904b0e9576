"""One API version's contract as data: the published OpenAPI document plus a small profile file.

Whatever the document states is read from it: its operations (`operation.Operation`: the update and its
read-back, each with its path and method, declared statuses, codes by status, key places, body and answer
schemas), the body fields and their JSON types, the error body schema, the code enum, the servers, and where
the read-back shows each field. What it does not state (which code means a missing key, the limits, the
update window, id shapes) comes from `contracts/<version>.toml`. Nothing else in the suite holds a version's
literals: every part is handed a `Profile`.
"""

from __future__ import annotations

import copy
import datetime as dt
import functools
import re
import tomllib
from typing import Any
from urllib.parse import urlsplit

import jsonschema

from fpjs_conformance import operation, schema_walk
from fpjs_conformance import sources as evidence
from fpjs_conformance.operation import OPERATIONS, Operation
from fpjs_conformance.profile_files import (
    DATA_PACKAGE,
    PROFILE_PATH,
    data_dir,
    data_dirs,
    document,
    find,
    profile_names,
    versions,
)
from fpjs_conformance.profile_types import (
    AUTH_ROLES,
    BAD_JSON_TYPES,
    HTTP_AUTH_HEADER,
    HTTP_METHODS,
    HTTP_REFUSALS,
    ROLES,
    UNKNOWN_METHOD,
    KeyPlace,
    Limit,
    ProfileError,
    Role,
    auth_overlaps,
)
from fpjs_conformance.sources import Source

__all__ = [  # what callers use, wherever it is defined
    "AUTH_ROLES",
    "BAD_JSON_TYPES",
    "DATA_PACKAGE",
    "HTTP_AUTH_HEADER",
    "HTTP_METHODS",
    "OPERATIONS",
    "PROFILE_PATH",
    "ROLES",
    "UNKNOWN_METHOD",
    "KeyPlace",
    "Limit",
    "Operation",
    "Profile",
    "ProfileError",
    "Role",
    "data_dir",
    "data_dirs",
    "load",
    "profile_names",
    "served_at",
    "versions",
]


@functools.cache
def load(version: str) -> Profile:
    if version not in versions():
        raise ProfileError(f"no profile for API version {version!r} (known: {', '.join(versions())})")
    with find(f"{version}.toml").open("rb") as fh:
        data = tomllib.load(fh)
    return Profile(data)


def served_at(url: str) -> list[str]:
    """The versions whose servers' path (the document's) ends the path of `url`, oldest first."""
    path = urlsplit(url).path.rstrip("/")
    return [v for v in versions() if (suffix := load(v).server_path) and path.endswith(suffix)]


def _of(name: str, fact: str) -> property:
    """A fact of one of the profile's operations, under the name callers have always used."""
    return property(lambda self: getattr(self.operations[name], fact), doc=f"`operations[{name!r}].{fact}`")


class Profile:
    """The contract of one API version (see the module docstring)."""

    def __init__(self, data: dict[str, Any]):
        self.data = data
        self.version: str = data["version"]
        self.document = document(data["document"])
        self.document_name: str = data["document"]
        # The update and its read-back (`operation.OPERATIONS`), each named by its operationId in the profile file.
        self.operations: dict[str, Operation] = {
            name: operation.read(self.document, self.document_name, name, data[name], *self._completion(name))
            for name in OPERATIONS
        }
        self.field_names: dict[str, str] = dict(data["fields"])  # document name -> store name
        event = data["event"]
        self.update_window_days: int = event["update_window_days"]
        self.id_field: str = event["id_field"]
        self.time_field: str = event["time_field"]
        self.live_id = re.compile(event["live_id"])
        self.plain_id = re.compile(event["plain_id"])
        since = event.get("issued_since")  # a TOML date: ids whose `ms` group is older name no event
        self.issued_since_ms: int | None = (
            None if since is None else int(dt.datetime.combine(since, dt.time(), dt.UTC).timestamp() * 1000)
        )
        self.retry_after: bool = data["rate_limit"]["retry_after"]
        self.sdk_query: dict[str, str] = dict(data.get("sdk", {}).get("query", {}))
        self.sdk_headers: dict[str, str] = dict(data.get("sdk", {}).get("headers", {}))
        # What a field the read-back leaves out means (the document calls it optional): the value compared.
        self.absent_reads_as: dict[str, Any] = dict(data.get("absent_in_read_back", {}))
        self.limits = {
            name: Limit(name, v.get("max_chars"), v.get("max_bytes"), self._sources(v, f"[limits] {name}"))
            for name, v in data["limits"].items()
        }
        # Read-back members that change on their own (pointer -> why), and those mirroring a field (pointer -> field).
        self.read_back_changes: dict[str, str] = dict(data.get("read_back_changes", {}))
        self.read_back_mirrors: dict[str, str] = dict(data.get("read_back_mirrors", {}))
        self._check()

    def __repr__(self) -> str:
        return f"Profile({self.version})"

    # -- the operations ---------------------------------------------------------------------------
    @property
    def update(self) -> Operation:
        return self.operations["update"]

    @property
    def read_back(self) -> Operation:
        return self.operations["read_back"]

    def _completion(self, name: str) -> tuple[dict[int, set[str]], Any]:
        """What the profile file adds to an operation: codes beyond the document's examples, and the roles.
        Its `[roles]` and `[status_codes]` are the update's; the read-back's answers are judged by its own
        clauses, which need no roles."""
        if name != "update":
            return {}, lambda codes: {}
        more: dict[int, set[str]] = {}
        for status, codes in self.data.get("status_codes", {}).items():
            more.setdefault(int(status), set()).update(codes)
        for spec in self.data.get("roles", {}).values():  # a status paired with a role by evidence: its codes
            if isinstance(spec.get("undeclared"), dict):
                more.setdefault(spec["undeclared"]["status"], set()).update(spec["undeclared"].get("codes", []))
        roles = self.data.get("roles", {})
        return more, lambda codes: {role: self._role(role, spec, codes) for role, spec in roles.items()}

    # The update's and the read-back's facts under the names callers use: each read from its Operation.
    update_path = _of("update", "path")
    update_method = _of("update", "method")
    update_operation = _of("update", "spec")
    id_param = _of("update", "id_param")
    read_back_path = _of("read_back", "path")
    read_back_method = _of("read_back", "method")
    read_back_operation = _of("read_back", "spec")
    read_back_schema = _of("read_back", "response_schema")
    read_back_schema_name = _of("read_back", "response_schema_name")
    key_places = _of("update", "key_places")
    declared_statuses = _of("update", "declared_statuses")
    error_statuses = _of("update", "error_statuses")
    undeclared_statuses = _of("update", "undeclared_statuses")
    codes_by_status = _of("update", "codes_by_status")
    roles = _of("update", "roles")
    body_schema_name = _of("update", "body_schema")
    body_required = _of("update", "body_required")

    @functools.cached_property
    def undeclared_methods(self) -> tuple[str, ...]:
        """The methods HTTP defines that the document does not declare on the update's path, and an unknown one."""
        declared = {m.upper() for m in self.document["paths"][self.update_path] if m.upper() in HTTP_METHODS}
        if "GET" in declared:
            declared.add("HEAD")
        return (*(m for m in HTTP_METHODS if m not in declared), UNKNOWN_METHOD)

    def path_for(self, template: str, event_id_encoded: str) -> str:
        return template.replace("{" + self.id_param + "}", event_id_encoded)

    # -- servers ----------------------------------------------------------------------------------
    @functools.cached_property
    def servers(self) -> dict[str, str]:
        """Region name -> base URL, from the document's `servers`."""
        by_description = {s["description"]: s["url"] for s in self.document["servers"]}
        return {region: by_description[desc] for region, desc in self.data["regions"].items()}

    @functools.cached_property
    def server_path(self) -> str:
        """The path every server URL of the document ends with, or "" when they have none."""
        paths = {urlsplit(url).path.rstrip("/") for url in self.servers.values()}
        if len(paths) != 1:
            raise ProfileError(f"{self.document_name}: servers differ in their path: {sorted(paths)}")
        return paths.pop()

    # -- auth -------------------------------------------------------------------------------------
    @functools.cached_property
    def retired_places(self) -> tuple[KeyPlace, ...]:
        """Places an earlier version took the key in, which must not authenticate here (profile data)."""
        return tuple(
            KeyPlace(f"retired-{p['in']}", p["in"], p["name"]) for p in self.data.get("retired_key_places", [])
        )

    def place(self, name: str) -> KeyPlace:
        return next(p for p in (*self.key_places, *self.retired_places) if p.name == name)

    @functools.cached_property
    def key_headers(self) -> dict[str, KeyPlace]:
        """Header name (lower case) -> its key place, declared or retired: where a key header is read."""
        return {p.field.lower(): p for p in (*self.key_places, *self.retired_places) if p.location == "header"}

    @functools.cached_property
    def key_params(self) -> dict[str, KeyPlace]:
        """Query parameter name -> its key place, declared or retired."""
        return {p.field: p for p in (*self.key_places, *self.retired_places) if p.location == "query"}

    # -- statuses and codes -----------------------------------------------------------------------
    @functools.cached_property
    def error_codes(self) -> tuple[str, ...]:
        return tuple(self.document["components"]["schemas"]["ErrorCode"]["enum"])

    def role(self, name: str) -> Role:
        return self.update.role(name)

    @functools.cached_property
    def refusal_statuses(self) -> frozenset[int]:
        """Statuses that refuse the credentials: the key roles', and HTTP's own (401, 403; RFC 9110,
        15.5.2 and 15.5.4) whatever this version declares. A valid key must never get one."""
        return HTTP_REFUSALS | frozenset(s for name in AUTH_ROLES for s in self.roles[name].statuses)

    def _role(self, name: str, spec: dict[str, Any], codes_by_status: dict[int, frozenset[str]]) -> Role:
        where = f"{self.version}.toml [roles] {name}"
        statuses = [spec["status"]] if "status" in spec else list(spec.get("statuses", []))
        codes = list(spec.get("codes", []))
        if not statuses or not all(isinstance(s, int) for s in statuses):
            raise ProfileError(f"{where}: give `status = N` or `statuses = [N, ...]`")
        any_code = bool(spec.get("any_code"))
        answers: dict[int, frozenset[str] | None] = {}
        extra = spec.get("undeclared") or {}
        if extra:  # a status the operation does not declare, paired with this role by the vendor's own documents
            statuses.append(extra["status"])
        for status in statuses:
            if status < 400 or any_code:
                answers[status] = None
                continue
            fitting = codes_by_status.get(status)
            mine = frozenset(c for c in codes if fitting is None or c in fitting)
            if not mine:
                raise ProfileError(f"{where}: none of {codes} is a code the document gives status {status}")
            answers[status] = mine
        code = next((c for c in codes if c in (answers.get(statuses[0]) or codes)), codes[0] if codes else "")
        undeclared = frozenset([extra["status"]] if extra else [])
        found = self._sources(spec, f"[roles] {name}")
        found += self._sources(extra, f"[roles] {name} undeclared") if extra else ()
        return Role(name, answers, statuses[0], code, str(spec.get("open", "")), found, undeclared)

    def _sources(self, spec: dict[str, Any], where: str) -> tuple[Source, ...]:
        """A table's `source`, parsed, each document pointer resolved in this version's document."""
        where = f"{self.version}.toml {where}"
        try:
            found = evidence.parse_all(spec.get("source"), where)
            for source in (s for s in found if s.kind == "document"):
                self.pointer(source.ref or "/-")  # a profile's document source names its pointer
        except evidence.SourceError as exc:
            raise ProfileError(str(exc)) from None
        except (KeyError, IndexError, ValueError, TypeError):
            raise ProfileError(f"{where}: a document source's pointer is not in {self.document_name}") from None
        return found

    # -- the body ---------------------------------------------------------------------------------
    def error_schema_name(self, status: int) -> str:
        return self.update.error_schema_name(status)

    @functools.cached_property
    def fields(self) -> tuple[str, ...]:
        """The update body's known properties, in document order."""
        return tuple(self.schema(self.body_schema_name)["properties"])

    @functools.cached_property
    def field_types(self) -> dict[str, str]:
        """Field -> the JSON type the schema allows (`$ref`s followed)."""
        out = {}
        for name, prop in self.schema(self.body_schema_name)["properties"].items():
            out[name] = self.resolve(prop)["type"]
        return out

    def to_store(self, fields: dict[str, Any]) -> dict[str, Any]:
        """Body fields by their document names -> by the names one event store uses across versions."""
        return {self.field_names[k]: v for k, v in fields.items() if k in self.field_names}

    def to_wire(self, fields: dict[str, Any]) -> dict[str, Any]:
        """The reverse of `to_store`."""
        wire = {store: name for name, store in self.field_names.items()}
        return {wire[k]: v for k, v in fields.items() if k in wire}

    def fields_of_type(self, json_type: str) -> list[str]:
        return [f for f, t in self.field_types.items() if t == json_type]

    # -- schemas ----------------------------------------------------------------------------------
    def schema(self, name: str) -> dict[str, Any]:
        return self.document["components"]["schemas"][name]

    def resolve(self, node: Any) -> Any:
        while isinstance(node, dict) and "$ref" in node:
            node = self.pointer(node["$ref"].lstrip("#"))
        return node

    def pointer(self, pointer: str) -> Any:
        """Follow a JSON pointer (`/paths/~1events~1{request_id}/put/...`) into the document."""
        node: Any = self.document
        for part in pointer.lstrip("/").split("/"):
            part = part.replace("~1", "/").replace("~0", "~")
            node = node[int(part)] if isinstance(node, list) else node[part]
        return node

    @functools.cached_property
    def _json_schema_components(self) -> dict[str, Any]:
        components = copy.deepcopy(self.document["components"])
        openapi_30 = self.document["openapi"].startswith("3.0")
        return schema_walk.nullable_to_null_type(components) if openapi_30 else components

    @functools.cache  # noqa: B019 - profiles live for the process
    def validator(self, schema_name: str) -> jsonschema.protocols.Validator:
        """A validator for `#/components/schemas/<schema_name>`: draft 4 for OpenAPI 3.0, 2020-12 for 3.1."""
        schema = {"$ref": f"#/components/schemas/{schema_name}", "components": self._json_schema_components}
        if self.document["openapi"].startswith("3.0"):
            return jsonschema.Draft4Validator(schema)
        return jsonschema.Draft202012Validator(schema)

    # -- reading back -----------------------------------------------------------------------------
    @functools.cached_property
    def read_back_container(self) -> tuple[str, ...]:
        """Where the read-back holds the updatable fields: the one object that has them all."""
        objects = schema_walk.objects(self, self.read_back_schema, ())
        holders = [path for path, node in objects if set(self.fields) <= set(node)]
        if len(holders) != 1:
            raise ProfileError(f"{self.document_name}: {len(holders)} read-back objects hold {', '.join(self.fields)}")
        return holders[0]

    def stored(self, read_back: Any) -> dict[str, Any] | None:
        """The read-back's container (the event as the read-back shows it), or None when it has none."""
        node = read_back
        for part in self.read_back_container:
            if not isinstance(node, dict):
                return None
            node = node.get(part)
        return node if isinstance(node, dict) else None

    @functools.cached_property
    def read_back_members(self) -> dict[str, dict[str, Any]]:
        """The members of the read-back's container (the event) that are not update fields: name -> schema."""
        props: dict[str, Any] = {}
        for path, node in schema_walk.objects(self, self.read_back_schema, ()):
            if path == self.read_back_container:
                props.update(node)
        return {name: self.resolve(schema) for name, schema in props.items() if name not in self.fields}

    def read_back_example(self) -> dict[str, Any]:
        """A minimal valid read-back body: every required field, values from the document's examples.

        The reference server fills in the event's own fields; clients that parse the read-back
        strictly (the SDKs) get every field they demand.
        """
        return schema_walk.instance(self, self.read_back_schema, [self.read_back_container])

    # -- schemathesis -----------------------------------------------------------------------------
    @functools.cached_property
    def operation_document(self) -> dict[str, Any]:
        """The document cut down to the update and the schemas it references (`Operation.alone`)."""
        return self.update.alone(self.document)

    # -- consistency ------------------------------------------------------------------------------
    def _check_auth_roles(self) -> None:
        overlaps = auth_overlaps(self.roles)
        if overlaps:
            raise ProfileError(
                f"{self.version}.toml: [roles] auth roles answer one code with different statuses ("
                + " | ".join(overlaps)
                + "): change every role that answers with a code when one of them moves"
            )

    def _check(self) -> None:
        enum = set(self.error_codes)
        missing = [r for r in ROLES if r not in self.roles]
        if missing:
            raise ProfileError(f"{self.version}.toml: [roles] must give {', '.join(missing)}")
        bad = sorted({c for r in self.roles.values() for c in [*r.codes, r.code] if c and c not in enum})
        if bad:
            raise ProfileError(f"{self.version}.toml: codes not in the document's ErrorCode enum: {', '.join(bad)}")
        self._check_auth_roles()
        undeclared = sorted(
            {s for r in self.roles.values() if r.name != "rate_limited" for s in r.statuses - r.undeclared}
            - self.declared_statuses
        )
        if undeclared:
            raise ProfileError(f"{self.version}.toml: [roles] statuses the operation does not declare: {undeclared}")
        if set(self.field_names) != set(self.fields):
            raise ProfileError(f"{self.version}.toml: [fields] must name exactly {', '.join(self.fields)}")
        if not set(self.absent_reads_as) <= set(self.fields):
            raise ProfileError(f"{self.version}.toml: [absent_in_read_back] names a field the body does not have")
        if not set(self.limits) <= set(self.fields):
            raise ProfileError(f"{self.version}.toml: [limits] names a field the body does not have")
        for status, codes in self.codes_by_status.items():
            if not codes <= enum:
                raise ProfileError(
                    f"{self.version}.toml: status {status} codes outside the enum: {sorted(codes - enum)}"
                )
        self.read_back_container  # noqa: B018 - fails early when the document has no single holder
        for pointer, name in self.read_back_mirrors.items():
            if name not in self.fields or not schema_walk.in_schema(self, self.read_back_schema, pointer):
                raise ProfileError(
                    f"{self.version}.toml: [read_back_mirrors] {pointer} = {name!r} is not in the read-back"
                )
        for pointer in self.read_back_changes:
            if not schema_walk.in_schema(self, self.read_back_schema, pointer):
                raise ProfileError(f"{self.version}.toml: [read_back_changes] {pointer} is not in the read-back")
