"""The contract as a prediction: for any request, the clauses its answer informs and what each allows.

A pure function of the profile, the request and the events the user designated. Every test asks it
instead of hard-coding an expected status, so the coverage table, generated requests (ours and
schemathesis's) and repeats are judged by one set of rules, including the clauses the contract
leaves open. One request may inform several clauses (a missing key on a bad body informs the
missing-key clause and auth-first); each gets its own expectation, so each records its verdict.
"""

from __future__ import annotations

from dataclasses import dataclass

from fpjs_conformance.checks import Expectation
from fpjs_conformance.model import READ, Body, Credential, Request, strict_json
from fpjs_conformance.profile import Profile

AUTH_STATUSES = frozenset({401, 403})
RATE_LIMITED = frozenset({429})  # waited out by the transport; judged by UE-TRANS-02 alone
SOFT = {"UE-BODY-06", "UE-BODY-07", "UE-OPEN-03"}  # schema-valid or left open: 200 keeps the contract too


@dataclass(frozen=True)
class Events:
    """The target's events the user designated (ids are not secret)."""

    live: str
    expired: str | None = None
    not_ready: str | None = None


@dataclass(frozen=True)
class Fault:
    clause_id: str
    allowed: dict[int, frozenset[str] | None]
    soft: bool = False  # the contract also allows 200
    relaxed: bool = False  # any code with the status (the expired event)


def parse_json(raw: bytes) -> tuple[bool, object]:
    """(well-formed, value): strict JSON over UTF-8 (no NaN or Infinity)."""

    try:
        return True, strict_json(raw)
    except (UnicodeDecodeError, ValueError, RecursionError):
        return False, None


def body_clause(profile: Profile, body: Body) -> str | None:
    """The clause a body falls under when it is not a plain valid update (None: it is one)."""
    if not body.present:
        return "UE-BODY-05"
    if body.raw is not None:
        ok, value = parse_json(body.raw)
        if not ok:
            return "UE-BODY-04"
    else:
        value = body.json_value
    if not isinstance(value, dict):
        return "UE-BODY-03"
    if not profile.validator(profile.body_schema_name).is_valid(value):
        return "UE-BODY-02"
    if not any(name in value for name in profile.fields):
        return "UE-BODY-07"
    if any(limit.exceeded_by(value.get(name)) for name, limit in profile.limits.items() if name in value):
        return "UE-BODY-06"
    return None


def _bad_request(profile: Profile) -> frozenset[str]:
    return profile.codes_by_status.get(400, frozenset({profile.code("bad_request")}))


def body_fault(profile: Profile, request: Request) -> Fault | None:
    bad = {400: _bad_request(profile)}
    clause = body_clause(profile, request.body)
    if clause == "UE-BODY-07":
        return Fault(clause, {s: (None if s == 200 else bad.get(s)) for s in profile.empty_update_statuses}, soft=True)
    if clause is not None:
        return Fault(clause, bad, soft=clause in SOFT)
    if request.content_type != "application/json" or request.extra_headers:
        return Fault("UE-OPEN-03", bad, soft=True)
    key_params = {p.field for p in (*profile.key_places, *profile.retired_places) if p.location == "query"}
    if any(name not in key_params for name, _ in request.extra_query):
        return Fault("UE-OPEN-03", bad, soft=True)
    return None


def id_fault(profile: Profile, request: Request, events: Events) -> Fault | None:
    rid = request.event_id
    if rid in (events.live, events.not_ready):
        return None
    if rid == events.expired:
        return Fault("UE-ID-03", {s: None for s in profile.error_statuses}, relaxed=True)
    not_found = {404: frozenset({profile.code("unknown_event")})}
    if profile.plain_id.match(rid):
        return Fault("UE-ID-01", not_found)
    return Fault("UE-ID-02", {400: _bad_request(profile), **not_found})


# -- credentials ------------------------------------------------------------------------------------
def _well_formed(profile: Profile, cred: Credential) -> bool:
    """The key is spelled so that the place accepts it: its documented scheme, in any letter case."""
    scheme = profile.place(cred.place).scheme
    if cred.key.kind == "empty" and cred.scheme:
        return False  # the scheme word alone
    if scheme is not None and cred.scheme is not None and cred.separator != " ":
        return False  # the scheme glued to the key, or another separator (RFC 9110, 11.4: one space)
    if scheme is None or cred.scheme == "":
        return True
    return cred.scheme is not None and cred.scheme.lower() == scheme.lower()


def _key_clause(profile: Profile, cred: Credential) -> str:
    """The clause a valid key in this place, so spelled, informs."""
    if cred.name_case:
        return "UE-HTTP-01"
    if cred.scheme:
        return "UE-AUTH-08"
    return "UE-AUTH-05" if profile.place(cred.place).location == "query" else "UE-AUTH-04"


@dataclass(frozen=True)
class Auth:
    """How the credentials of a request stand."""

    refusal: Expectation | None = None  # the key is not valid: the answer must be this 403
    accepted: tuple[Expectation, ...] = ()  # the key is valid: these clauses say it must not be refused
    ambiguous: str | None = None  # the left-open clause when places carry different keys
    ambiguous_codes: frozenset[str] = frozenset()
    retired_valid: bool = False  # the valid key also sits in a retired place


def auth(profile: Profile, request: Request) -> Auth:
    declared = {p.name for p in profile.key_places}
    items = [c for c in request.credentials.items if c.place in declared]
    retired = [c for c in request.credentials.items if c.place not in declared]
    code = profile.code
    retired_valid = any(c.key.kind == "valid" for c in retired)
    refused = frozenset({code("missing_key"), code("wrong_key")})

    def refusal(clause_id: str, codes: frozenset[str], why: str) -> Auth:
        expectation = Expectation(clause_id, why, allowed={403: codes}, defer=RATE_LIMITED)
        return Auth(refusal=expectation, retired_valid=retired_valid)

    if not items:
        if any(c.key.kind != "empty" for c in retired):
            return refusal("UE-AUTH-10", refused, "a key only in a retired place")
        return refusal("UE-AUTH-01", frozenset({code("missing_key")}), "no key")
    given = [c for c in items if c.key.kind != "empty" or c.scheme]
    if not given:
        return refusal("UE-AUTH-02", frozenset({code("missing_key")}), "only empty keys")
    valid = [c for c in given if c.key.kind == "valid" and _well_formed(profile, c)]
    malformed = [c for c in given if not _well_formed(profile, c)]
    if valid and len(valid) == len(items):
        accepted = tuple(
            Expectation(_key_clause(profile, c), "the valid key", forbidden=AUTH_STATUSES, defer=RATE_LIMITED)
            for c in valid
        )
        return Auth(accepted=tuple(dict.fromkeys(accepted)), retired_valid=retired_valid)
    others = frozenset(code("wrong_region") if c.key.kind == "wrong_region" else code("wrong_key") for c in given)
    if valid:
        codes = others | {code("missing_key")} | refused
        return Auth(ambiguous="UE-OPEN-02", ambiguous_codes=codes, retired_valid=retired_valid)
    if malformed and len(malformed) == len(given):
        return refusal("UE-AUTH-09", refused, f"a key without the {profile.place(malformed[0].place).scheme} scheme")
    codes = others | ({code("missing_key")} if len(given) < len(items) or malformed else set())
    clause = "UE-AUTH-06" if all(c.key.kind == "wrong_region" for c in given) else "UE-AUTH-03"
    return refusal(clause, frozenset(codes), "a wrong key")


# -- the whole prediction -----------------------------------------------------------------------------
def expect(profile: Profile, request: Request, events: Events, *, also: tuple[str, ...] = ()) -> list[Expectation]:
    """Every clause the answer to `request` informs, and what each allows.

    `also` names clauses that judge the outcome as the leading body or id clause does (a
    schemathesis case is UE-BODY-08 as well as what its body is).
    """
    if request.op == READ:
        return []
    faults = [f for f in (id_fault(profile, request, events), body_fault(profile, request)) if f is not None]
    hard = [f for f in faults if not f.soft]
    creds = auth(profile, request)
    if creds.refusal is not None:
        out = [creds.refusal]
        if hard:
            out.append(Expectation("UE-AUTH-07", "credentials are checked first", allowed=creds.refusal.allowed))
        if creds.retired_valid and creds.refusal.clause_id != "UE-AUTH-10":
            out.append(Expectation("UE-AUTH-10", "a retired place never authenticates", allowed=creds.refusal.allowed))
        return out

    defer = RATE_LIMITED | (frozenset() if creds.ambiguous else AUTH_STATUSES)
    not_ready = frozenset({profile.code("not_ready")})
    allowed: dict[int, frozenset[str] | None] = {}
    for fault in faults:
        for status, codes in fault.allowed.items():
            merged = allowed.get(status, frozenset())
            allowed[status] = None if codes is None or merged is None else merged | codes
    if not hard:
        allowed[200] = None
    if hard and request.event_id in (events.live, events.not_ready):
        allowed.setdefault(409, not_ready)  # readiness may be checked before the body
    expired = any(f.relaxed for f in faults)
    if creds.ambiguous:
        allowed[403] = creds.ambiguous_codes
        lead = Expectation(creds.ambiguous, "keys in two places differ: either may win", allowed=allowed, defer=defer)
    elif not faults:
        clause = "UE-TRANS-01" if request.event_id == events.not_ready else "UE-BODY-01"
        lead = Expectation(clause, "a valid update", allowed=allowed, defer=defer)
    elif len(faults) == 1:
        fault = faults[0]
        lead = Expectation(fault.clause_id, fault.clause_id, allowed=allowed, defer=defer, relaxed_codes=fault.relaxed)
        if expired:
            lead = Expectation(fault.clause_id, "an event past its window", allowed=allowed, relaxed_codes=True)
    else:
        names = ", ".join(f.clause_id for f in faults)
        why = f"{names}: several faults, any of their answers"
        lead = Expectation("UE-OPEN-01", why, allowed=allowed, defer=frozenset() if expired else defer)
        lead = Expectation(lead.clause_id, why, allowed=allowed, defer=lead.defer, relaxed_codes=expired)
    out = [lead]
    out += [
        Expectation(c, lead.why, allowed=lead.allowed, defer=lead.defer, relaxed_codes=lead.relaxed_codes) for c in also
    ]
    if not expired:
        out += list(creds.accepted)
    return out
