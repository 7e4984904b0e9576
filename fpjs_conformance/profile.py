"""One API version's contract as data: the published OpenAPI document plus a small profile file.

Whatever the document states is read from it: the update's path and method, the body fields and
their JSON types, where the key goes, the declared statuses, the error body schema, the code enum
and which codes fit which status, the servers, and where the read-back shows each field. What it
does not state (which code means a missing key, the limits, the update window, id shapes) comes
from `contracts/<version>.toml`. Nothing else in the suite holds a version's literals: every part
is handed a `Profile`.
"""

from __future__ import annotations

import copy
import datetime as dt
import functools
import os
import re
import tomllib
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import jsonschema
import yaml

from fpjs_conformance import schema_walk
from fpjs_conformance import sources as evidence
from fpjs_conformance.sources import Source

DATA_PACKAGE = "fpjs_conformance.contracts"
PROFILE_PATH = "FPJS_PROFILE_PATH"  # more folders of profile files and documents (a version of your own)
ACCOUNT_LEVEL_STATUS = 403  # codes documented for 403 on any operation apply to every operation
BAD_JSON_TYPES = ("null", "boolean", "integer", "number", "string", "array", "object")
HTTP_REFUSALS = frozenset({401, 403})  # RFC 9110: Unauthorized, Forbidden
# The methods HTTP defines for a request to a path (RFC 9110, 9.3; PATCH: RFC 5789): CONNECT asks a proxy
# for a tunnel to an authority (9.3.6), never a path. HEAD is answered as GET is (9.3.2): declared with it.
HTTP_METHODS = ("GET", "HEAD", "POST", "PUT", "DELETE", "OPTIONS", "TRACE", "PATCH")
UNKNOWN_METHOD = "FPJSUNKNOWN"  # a token no registry holds (RFC 9110, 9.1: a method is any token)
HTTP_AUTH_HEADER = "Authorization"  # RFC 9110, 11.6.2: where every `type: http` security scheme puts its credentials
# Every error role the suite knows: what each kind of refusal is answered with, per version (`[roles]`).
ROLES = (
    "missing_key",  # no key in any place, or only empty ones
    "wrong_key",  # a key that is not the secret key
    "wrong_region",  # a valid key of an application in another region
    "unreadable_key",  # the key not spelled as its scheme says (bare, another scheme, the scheme alone)
    "retired_key_place",  # the valid key only in a place an earlier version took it
    "bad_request",  # a body that is not a valid update
    "too_large",  # a value past a documented limit (when refused)
    "empty_update",  # a schema-valid body with no known field
    "unknown_event",  # a well-formed id (the live shape) that names no event
    "invalid_event_id",  # a plain id not of the live shape
    "odd_event_id",  # an id with escapes, unicode, controls or great length
    "expired_event",  # an event past the update window
    "not_ready",  # an event not mutable yet
    "rate_limited",  # too many requests
)


# The roles that refuse the credentials: a code two of them share must come with the same status in both.
AUTH_ROLES = ("missing_key", "wrong_key", "wrong_region", "unreadable_key", "retired_key_place")


class ProfileError(ValueError):
    """A profile file that disagrees with its document, or names no known version."""


def data_dir():
    """The folder with the documents, the profile files and the clause catalogue (`contracts/`)."""
    return resources.files(DATA_PACKAGE)


def data_dirs() -> list:
    """The bundled folder, then the folders in $FPJS_PROFILE_PATH: where profiles and documents are found."""
    extra = [Path(p) for p in os.environ.get(PROFILE_PATH, "").split(os.pathsep) if p.strip()]
    return [data_dir(), *extra]


def _find(name: str):
    for folder in reversed(data_dirs()):  # a folder of your own may stand in for a bundled file
        path = folder / name
        if path.is_file():
            return path
    raise ProfileError(f"no file {name!r} in {', '.join(str(d) for d in data_dirs())}")


@functools.cache
def versions() -> tuple[str, ...]:
    """Every version with a profile file in a profile folder (`<name>.toml` naming its `version` and
    `document`: `v4.toml`, or a version of your own under any name), oldest first: `v<N>` by number, then
    the others by name."""
    names = {name for folder in data_dirs() for name in profile_names(folder)}
    numbered = sorted((n for n in names if re.fullmatch(r"v\d+", n)), key=lambda n: int(n[1:]))
    return (*numbered, *sorted(names - set(numbered)))


def profile_names(folder) -> list[str]:
    """The versions whose profile files are in `folder` (a TOML file whose `version` is its own name)."""
    if not folder.is_dir():
        return []
    found = []
    for path in folder.iterdir():
        if not path.name.endswith(".toml"):
            continue
        try:
            with path.open("rb") as fh:
                head = tomllib.load(fh)
        except (OSError, tomllib.TOMLDecodeError):
            continue
        stem = path.name.removesuffix(".toml")
        if head.get("version") == stem and isinstance(head.get("document"), str):
            found.append(stem)
    return found


@functools.cache
def load(version: str) -> Profile:
    if version not in versions():
        raise ProfileError(f"no profile for API version {version!r} (known: {', '.join(versions())})")
    with _find(f"{version}.toml").open("rb") as fh:
        data = tomllib.load(fh)
    return Profile(data)


def served_at(url: str) -> list[str]:
    """The versions whose servers' path (the document's) ends the path of `url`, oldest first."""
    path = urlsplit(url).path.rstrip("/")
    return [v for v in versions() if (suffix := load(v).server_path) and path.endswith(suffix)]


@functools.cache
def _document(name: str) -> dict[str, Any]:
    loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)  # libyaml: ~10x faster on these large files
    with _find(name).open(encoding="utf-8") as fh:
        return yaml.load(fh, Loader=loader)


@dataclass(frozen=True)
class Role:
    """How the contract answers one kind of refusal: the statuses allowed, and the codes with each.

    The first status and the first code are what an implementation answers (the reference server);
    `any_code` lifts the code rule (the document does not say which code); `open` says why the
    document leaves the answer open, when it does.
    """

    name: str
    answers: dict[int, frozenset[str] | None]
    status: int
    code: str
    open: str = ""
    sources: tuple[Source, ...] = ()  # what the answers rest on (`source`)
    undeclared: frozenset[int] = frozenset()  # statuses the operation does not declare, paired with it by evidence

    @property
    def statuses(self) -> frozenset[int]:
        return frozenset(self.answers)

    @property
    def lenient(self) -> dict[int, None] | None:
        """The role's statuses with any code, when its codes are the suite's judgement: another code with one of
        them breaks only that judgement (SHOULD); None when the role rests on the document or evidence alone."""
        return dict.fromkeys(self.answers) if evidence.judged(self.sources) else None

    @property
    def codes(self) -> frozenset[str]:
        return frozenset(c for codes in self.answers.values() if codes for c in codes)

    def allows(self, status: int | None, code: str | None) -> bool:
        if status not in self.answers:
            return False
        codes = self.answers[status]
        return codes is None or code in codes


@dataclass(frozen=True)
class KeyPlace:
    """Where a secret key goes: a header (bare, or after an HTTP auth scheme word) or a query parameter."""

    name: str  # how requests name the place: "header", "query", "retired-header", ...
    location: str  # "header" or "query"
    field: str  # the header or query parameter name
    scheme: str | None = None  # an HTTP auth scheme: the header value is "<scheme> <key>"

    def describe(self) -> str:
        where = (
            f"the {self.field} {self.location}" if self.location == "header" else f"the {self.field} query parameter"
        )
        return f"{where} ({self.scheme} scheme)" if self.scheme else where


@dataclass(frozen=True)
class Limit:
    field: str
    max_chars: int | None = None  # strings: characters
    max_bytes: int | None = None  # objects: bytes of their JSON text
    sources: tuple[Source, ...] = ()  # where the number comes from (the update endpoint documents none)

    def exceeded_by(self, value: Any) -> bool:
        import json

        if self.max_chars is not None and isinstance(value, str):
            return len(value) > self.max_chars
        if self.max_bytes is not None and isinstance(value, dict | list):
            return len(json.dumps(value, ensure_ascii=False).encode()) > self.max_bytes
        return False

    def counts(self, value: Any) -> tuple[int, ...]:
        """Every way the limit may count `value`, the suite's own first (the documents say "characters" and
        "KB", never how the update endpoint counts): a string's characters, UTF-8 bytes and UTF-16 units; an
        object's JSON text in UTF-8, and with every non-ASCII character escaped."""
        import json

        if isinstance(value, str):
            return (
                len(value),
                len(value.encode("utf-8", "surrogatepass")),
                len(value.encode("utf-16-le", "surrogatepass")) // 2,
            )
        text = json.dumps(value, ensure_ascii=False)
        return len(text.encode("utf-8", "surrogatepass")), len(json.dumps(value).encode())

    @property
    def lowest(self) -> int:
        """The lowest the limit may be: its characters, or its kilobytes of 1000 bytes ("16KB": 16,000)."""
        return self.max_chars if self.max_chars is not None else (self.max_bytes or 0) * 1000 // 1024

    def at_limit(self, value: Any) -> bool:
        """Within the limit as the suite counts it, but at or past it by another count (or exactly at it)."""
        kind = str if self.max_chars is not None else dict | list
        return isinstance(value, kind) and not self.exceeded_by(value) and max(self.counts(value)) >= self.lowest

    def describe(self) -> str:
        return (
            f"{self.field} over {self.max_chars} characters"
            if self.max_chars
            else f"{self.field} over {self.max_bytes} bytes"
        )


class Profile:
    """The contract of one API version (see the module docstring)."""

    def __init__(self, data: dict[str, Any]):
        self.data = data
        self.version: str = data["version"]
        self.document = _document(data["document"])
        self.document_name: str = data["document"]
        self.update_path, self.update_method = self._operation_at(data["update"])
        self.read_back_path, self.read_back_method = self._operation_at(data["read_back"])
        self.id_param = self._path_param(self.update_operation)
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
        self.roles: dict[str, Role] = {name: self._role(name, spec) for name, spec in data.get("roles", {}).items()}
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
    def _operation_at(self, operation_id: str) -> tuple[str, str]:
        for path, ops in self.document["paths"].items():
            for method, op in ops.items():
                if isinstance(op, dict) and op.get("operationId") == operation_id:
                    return path, method.upper()
        raise ProfileError(f"{self.document_name}: no operation {operation_id!r}")

    @property
    def update_operation(self) -> dict[str, Any]:
        return self.document["paths"][self.update_path][self.update_method.lower()]

    @property
    def read_back_operation(self) -> dict[str, Any]:
        return self.document["paths"][self.read_back_path][self.read_back_method.lower()]

    @functools.cached_property
    def undeclared_methods(self) -> tuple[str, ...]:
        """The methods HTTP defines that the document does not declare on the update's path, and an unknown one."""
        declared = {m.upper() for m in self.document["paths"][self.update_path] if m.upper() in HTTP_METHODS}
        if "GET" in declared:
            declared.add("HEAD")
        return (*(m for m in HTTP_METHODS if m not in declared), UNKNOWN_METHOD)

    @staticmethod
    def _path_param(operation: dict[str, Any]) -> str:
        return next(p["name"] for p in operation.get("parameters", []) if p.get("in") == "path")

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
    def key_places(self) -> tuple[KeyPlace, ...]:
        """The places the operation's security requirements accept a key in, as the document says."""
        schemes = self.document["components"]["securitySchemes"]
        requirements = self.update_operation.get("security", self.document.get("security", []))
        places = []
        for requirement in requirements:
            for name in requirement:
                s = schemes[name]
                if s["type"] == "apiKey":
                    places.append(KeyPlace(s["in"], s["in"], s["name"]))
                elif s["type"] == "http":  # the scheme word as registered with IANA: `bearer` is `Bearer`
                    places.append(KeyPlace("header", "header", HTTP_AUTH_HEADER, s["scheme"].capitalize()))
                else:
                    raise ProfileError(f"{self.document_name}: security scheme {name!r} is not supported")
        if len({p.name for p in places}) != len(places):
            raise ProfileError(f"{self.document_name}: two key places of the same kind")
        return tuple(places)

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
    def declared_statuses(self) -> frozenset[int]:
        return frozenset(int(s) for s in self.update_operation["responses"] if s.isdigit())

    @functools.cached_property
    def error_statuses(self) -> frozenset[int]:
        """Declared statuses whose response carries a body schema (the error responses), and the statuses a
        role allows by the vendor's evidence (`undeclared`: their bodies are ErrorResponses too)."""
        responses = self.update_operation["responses"]
        declared = frozenset(int(s) for s, r in responses.items() if s.isdigit() and r.get("content"))
        return declared | self.undeclared_statuses

    @functools.cached_property
    def undeclared_statuses(self) -> frozenset[int]:
        """Statuses the operation does not declare that a role allows by evidence (reported when they come)."""
        return frozenset(s for r in self.roles.values() for s in r.undeclared)

    @functools.cached_property
    def error_codes(self) -> tuple[str, ...]:
        return tuple(self.document["components"]["schemas"]["ErrorCode"]["enum"])

    @functools.cached_property
    def codes_by_status(self) -> dict[int, frozenset[str]]:
        """Which codes fit which status: the operation's examples, account-level 403 codes from every
        operation's examples, and the profile's `status_codes` where the document gives none."""
        found = schema_walk.example_codes(self.update_operation["responses"])
        account: set[str] = set()
        for ops in self.document["paths"].values():
            for op in ops.values():
                if isinstance(op, dict) and "responses" in op:
                    account |= schema_walk.example_codes(op["responses"]).get(ACCOUNT_LEVEL_STATUS, set())
        if account:
            found.setdefault(ACCOUNT_LEVEL_STATUS, set()).update(account)
        for status, codes in self.data.get("status_codes", {}).items():
            found.setdefault(int(status), set()).update(codes)
        for spec in self.data.get("roles", {}).values():  # a status paired with a role by evidence: its codes
            if isinstance(spec.get("undeclared"), dict):
                found.setdefault(spec["undeclared"]["status"], set()).update(spec["undeclared"].get("codes", []))
        return {status: frozenset(codes) for status, codes in found.items()}

    def role(self, name: str) -> Role:
        return self.roles[name]

    @functools.cached_property
    def refusal_statuses(self) -> frozenset[int]:
        """Statuses that refuse the credentials: the key roles', and HTTP's own (401, 403; RFC 9110,
        15.5.2 and 15.5.4) whatever this version declares. A valid key must never get one."""
        return HTTP_REFUSALS | frozenset(s for name in AUTH_ROLES for s in self.roles[name].statuses)

    def _role(self, name: str, spec: dict[str, Any]) -> Role:
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
            fitting = self.codes_by_status.get(status)
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
    def _ref_name(self, schema: dict[str, Any]) -> str:
        return schema["$ref"].rsplit("/", 1)[-1]

    @functools.cached_property
    def body_schema_name(self) -> str:
        return self._ref_name(self.update_operation["requestBody"]["content"]["application/json"]["schema"])

    @functools.cached_property
    def body_required(self) -> bool:
        return bool(self.update_operation["requestBody"].get("required"))

    def error_schema_name(self, status: int) -> str:
        responses = self.update_operation["responses"]
        if str(status) not in responses:  # a status a role allows by evidence: the body of the declared errors
            status = min(s for s in self.error_statuses if str(s) in responses)
        return self._ref_name(responses[str(status)]["content"]["application/json"]["schema"])

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
    def read_back_schema(self) -> dict[str, Any]:
        return self.read_back_operation["responses"]["200"]["content"]["application/json"]["schema"]

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
    def read_back_schema_name(self) -> str:
        return self._ref_name(self.read_back_schema)

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
        """The document cut down to the update operation and the schemas it references.

        Schemathesis builds strategies for everything it loads; the full document is mostly the
        read-back's event schema, which the update never uses.
        """
        doc, wanted = self.document, set()

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

        op = self.update_operation
        collect(op)
        components = {
            "schemas": {n: s for n, s in doc["components"]["schemas"].items() if n in wanted},
            "securitySchemes": doc["components"]["securitySchemes"],
        }
        return {
            **{k: v for k, v in doc.items() if k not in ("paths", "components", "webhooks")},
            "paths": {self.update_path: {self.update_method.lower(): op}},
            "components": components,
        }

    # -- consistency ------------------------------------------------------------------------------
    def _check_auth_roles(self) -> None:
        overlaps = _auth_overlaps(self.roles)
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


def _auth_overlaps(roles: dict[str, Role]) -> list[str]:
    """Codes two auth roles share with different statuses: a version that moves one role to another status
    (401 for a missing key) and leaves a role built of it (an unreadable key) at the old one."""
    by_code: dict[str, dict[int, list[str]]] = {}
    for name in AUTH_ROLES:
        for status, codes in roles[name].answers.items():
            for code in codes or ():
                by_code.setdefault(code, {}).setdefault(status, []).append(name)
    return [
        f"{code}: " + "; ".join(f"{status} in {', '.join(names)}" for status, names in sorted(statuses.items()))
        for code, statuses in sorted(by_code.items())
        if len(statuses) > 1
    ]
