"""The contract as a prediction: for any request, which answers the contract allows.

A pure function of the request and of what the user told us about the target's events. Every
test asks it rather than hard-coding an expected status, so generated requests (ours and
schemathesis's) are judged by one set of rules, including the clauses the contract leaves open.
"""

from __future__ import annotations

import functools
import json
import re
from dataclasses import dataclass

from contracts import spec
from contracts.checks import Expectation
from contracts.model import Body, Request

LINKED_ID_LIMIT = 256  # characters: the JS agent's documented limit
TAG_LIMIT = 16 * 1024  # bytes of JSON: the JS agent's documented limit
PLAIN_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$")


@dataclass(frozen=True)
class Events:
    """The target's events the user designated (ids are not secret)."""

    live: str
    expired: str | None = None
    not_ready: str | None = None


def _code(status: int, word: str) -> frozenset[str]:
    return frozenset({spec.example_code(status, word)})


@functools.cache
def _codes() -> dict[str, frozenset[str]]:
    return {
        "required": _code(403, "not provided"),
        "not_found_key": _code(403, "does not exist"),
        "wrong_region": _code(403, "region"),
        "bad_request": spec.codes_by_status()[400],
        "no_event": _code(404, "request ID"),
        "not_ready": spec.codes_by_status()[409],
    }


@dataclass(frozen=True)
class _Fault:
    clause_id: str
    allowed: dict[int, frozenset[str] | None]
    accepts_ok: bool = False  # the contract also allows 200 here
    relaxed: bool = False


def _parse_json(raw: bytes) -> tuple[bool, object]:
    def reject(name: str) -> None:
        raise ValueError(f"{name} is not JSON")

    try:
        return True, json.loads(raw.decode("utf-8"), parse_constant=reject)
    except (UnicodeDecodeError, ValueError, RecursionError):
        return False, None


def body_clause(body: Body) -> str | None:
    """The clause a body falls under when it is not a plain valid update (None: it is one)."""
    if not body.present:
        return "UE-BODY-05"
    if body.raw is not None:
        ok, value = _parse_json(body.raw)
        if not ok:
            return "UE-BODY-04"
    else:
        value = body.json_value
    if not isinstance(value, dict):
        return "UE-BODY-03"
    if not spec.validator(spec.request_body_schema_name()).is_valid(value):
        return "UE-BODY-02"
    if not any(field in value for field in spec.body_fields()):
        return "UE-BODY-07"
    linked = value.get("linkedId")
    tag_size = len(json.dumps(value["tag"], ensure_ascii=False).encode()) if "tag" in value else 0
    if (isinstance(linked, str) and len(linked) > LINKED_ID_LIMIT) or tag_size > TAG_LIMIT:
        return "UE-BODY-06"
    return None


MAY_SUCCEED = {"UE-BODY-06", "UE-BODY-07"}  # schema-valid: 200 or 400 both keep the contract


def body_fault(request: Request) -> _Fault | None:
    bad = {400: _codes()["bad_request"]}
    clause = body_clause(request.body)
    if clause is not None:
        return _Fault(clause, bad, accepts_ok=clause in MAY_SUCCEED)
    if request.content_type is None or request.content_type.split(";")[0].strip() != "application/json":
        return _Fault("UE-OPEN-03", bad, accepts_ok=True)
    if any(name != spec.key_query_param() for name, _ in request.extra_query):
        return _Fault("UE-OPEN-03", bad, accepts_ok=True)
    return None


def id_fault(request: Request, events: Events) -> _Fault | None:
    c = _codes()
    rid = request.request_id
    if rid in (events.live, events.not_ready):
        return None
    if rid == events.expired:
        return _Fault("UE-ID-03", {s: None for s in spec.error_statuses()}, relaxed=True)
    if PLAIN_ID.match(rid):
        return _Fault("UE-ID-01", {404: c["no_event"]})
    return _Fault("UE-ID-02", {400: c["bad_request"], 404: c["no_event"]})


def auth_fault(request: Request) -> tuple[_Fault | None, str | None]:
    """(a fault when credentials are not valid, the left-open clause when they are ambiguous)."""
    c = _codes()
    creds = request.credentials
    keys = [k for k in (creds.header, creds.query) if k is not None]
    given = [k for k in keys if k.kind != "empty"]
    if not given:
        return _Fault("UE-AUTH-02" if keys else "UE-AUTH-01", {403: c["required"]}), None
    valid = [k for k in keys if k.kind == "valid"]
    if valid and len(valid) == len(keys):
        return None, None
    if valid:
        return None, "UE-OPEN-02"
    codes = frozenset().union(*(c["wrong_region"] if k.kind == "wrong_region" else c["not_found_key"] for k in given))
    if len(given) < len(keys):
        codes |= c["required"]
    clause = "UE-AUTH-06" if all(k.kind == "wrong_region" for k in given) else "UE-AUTH-03"
    return _Fault(clause, {403: codes}), None


def expect(request: Request, events: Events, clause_id: str = "UE-BODY-01") -> Expectation:
    """The answers the contract allows to `request`; `clause_id` names the clause when all is well."""
    c = _codes()
    faults = [f for f in (id_fault(request, events), body_fault(request)) if f is not None]
    if request.method == "GET":
        faults = [f for f in faults if f.clause_id.startswith("UE-ID")]
    auth, open_clause = auth_fault(request)
    if auth is not None:
        clause = "UE-AUTH-07" if any(not f.accepts_ok for f in faults) else auth.clause_id
        return Expectation(clause, auth.allowed, "credentials are checked first")

    allowed: dict[int, frozenset[str] | None] = {}
    for fault in faults:
        for status, codes in fault.allowed.items():
            merged = allowed.get(status, frozenset())
            allowed[status] = None if codes is None or merged is None else merged | codes
    hard = [f for f in faults if not f.accepts_ok]
    if not hard:
        allowed[200] = None
    if open_clause:
        allowed[403] = c["required"] | c["not_found_key"] | c["wrong_region"]
    if hard and request.request_id in (events.live, events.not_ready):
        allowed.setdefault(409, c["not_ready"])  # readiness may be checked before the body
    relaxed = any(f.relaxed for f in faults)
    if not faults:
        # Refusing a valid update breaks the body clause (400) or the key's scheme clause (403),
        # whichever test happened to send it.
        refusals = {}
        if request.method == "PUT" and not open_clause:
            scheme = "UE-AUTH-04" if request.credentials.header is not None else "UE-AUTH-05"
            refusals = {400: "UE-BODY-01", 403: scheme}
        return Expectation(open_clause or clause_id, allowed, "a valid update", refusals=refusals)
    lead = hard[0] if hard else faults[0]
    names = ", ".join(f.clause_id for f in faults)
    why = f"{names}: several faults, any of their answers (UE-OPEN-01)" if len(faults) > 1 else names
    return Expectation(lead.clause_id, allowed, why, relaxed_codes=relaxed)
