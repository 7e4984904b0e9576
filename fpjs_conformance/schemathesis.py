"""The suite's clauses as schemathesis checks: a hooks module for `schemathesis run`.

    export FPJS_API_KEY=... FPJS_REQUEST_ID=...
    SCHEMATHESIS_HOOKS=fpjs_conformance.schemathesis schemathesis run \\
        contracts/fingerprint-server-api-v4.yaml --url https://api.fpjs.io/v4 \\
        --include-operation-id updateEvent --phases examples,coverage,fuzzing --checks all \\
        --exclude-checks positive_data_acceptance,missing_required_header,allow_header_conformance

Imported by schemathesis (`SCHEMATHESIS_HOOKS`; importing it registers everything, `unregister()`
takes it away again), this module adds:

- `fpjs_clauses`, a check that judges every response to the update operation as the suite does:
  the case becomes the suite's symbolic `Request` (`to_request`: the real key becomes
  `Key("valid")`, every key place, retired ones included, and every spelling kept), `oracle.expect`
  says which clauses the answer informs and what each allows (the error code per role, auth before
  body and id, retired places, schemes), and `oracle.judge` gives every clause its verdict, the
  universal checks included (declared status, no 5xx, JSON `ErrorResponse` bodies, the code fits
  the status). Other operations, and other methods on the update's path, are not judged.
- `fpjs_stored`, a check that reads the designated event back after an accepted update through the
  suite's `Transport` (its `Target.read_back`) and compares the known fields sent
  (`checks.stored_fields_match` under UE-SEM-01; a field left out reads as `absent_reads_as`).
- the key: an auth provider puts FPJS_API_KEY in the first place the document names, spelled by
  the suite's transport (the key never goes on the command line). The examples phase gets every
  credential situation of `credential_draws` once (the other places and spellings, the retired
  places, no key, an empty and an unrelated key; each refused one again without a body: auth before
  body), and in the fuzzing phase Hypothesis draws them (`flatmap_case`).
- the suite's coverage table in the examples phase (`designed_examples`): every run sends its cases
  a schemathesis case can carry, deterministically, the unknown and odd ids among them.
- the designated event: a `before_call` hook sends every other update to FPJS_REQUEST_ID. The path
  parameter hooks (`map_path_parameters`, `before_generate_path_parameters`) reach only the fuzzing
  phase, `map_case` the coverage and fuzzing phases but not the examples phase; `before_call` runs
  before every request of every phase. It also keeps generated integers within 2^53, as the
  suite's own generation does (RFC 8259, 6).

Every failure is one schemathesis failure per clause, titled with the version, the clause id and
title, its message the suite's one-line summary and the clause's requirement sentence, scrubbed of
the key. The clauses this mode exercises are `COVERED`; why the others are not, `NOT_COVERED`.
Restoring the event is the suite's business: after a schemathesis run the designated event keeps
the last values written to it.
"""

from __future__ import annotations

import atexit
import os
import threading
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, replace
from typing import Any
from urllib.parse import parse_qsl, quote, quote_plus, unquote, urlsplit

import schemathesis
from hypothesis import strategies as st
from schemathesis.core import NOT_SET
from schemathesis.core.failures import Failure, FailureGroup, Severity

from fpjs_conformance import checks, clauses, oracle, redact
from fpjs_conformance import profile as profiles
from fpjs_conformance.checks import Expectation, Violation
from fpjs_conformance.ledger import Ledger
from fpjs_conformance.model import (
    NO_BODY,
    VALID,
    Body,
    Credential,
    Credentials,
    Events,
    Exchange,
    Key,
    Request,
    key_as_sent,
    read_key_header,
)
from fpjs_conformance.profile import KeyPlace, Profile
from fpjs_conformance.rules import (
    auth,
    body,
    http,
    ids,
    left_open,
    lenient,
    lookalikes,
    methods,
    responses,
    semantics,
    transient,
    transport,
)
from fpjs_conformance.rules import state as state_rules
from fpjs_conformance.schemathesis_cases import credential_draws, designed, designed_examples, place_key, refused
from fpjs_conformance.strategies import interoperable
from fpjs_conformance.table import probe_body
from fpjs_conformance.target import Target
from fpjs_conformance.transport import Policy, Secrets, Transport, is_loopback, tls_context

__all__ = [
    "COVERED",
    "NOT_COVERED",
    "ClauseViolated",
    "Settings",
    "covered",
    "fpjs_clauses",
    "fpjs_stored",
    "judge_case",
    "profile_for",
    "to_exchange",
    "to_request",
]

# The environment the suite reads (README, "Options").
API_KEY_VAR = redact.API_KEY_VAR
VERSION_VAR = "FPJS_API_VERSION"
REQUEST_ID_VARS = ("FPJS_REQUEST_ID", "FPJS_EVENT_ID")
EXPIRED_VAR = "FPJS_EXPIRED_REQUEST_ID"
NOT_READY_VAR = "FPJS_NOT_READY_REQUEST_ID"
CA_BUNDLE_VAR = "FPJS_CA_BUNDLE"
TIMEOUT_VAR = "FPJS_REQUEST_TIMEOUT"
DEFAULT_VERSION = "v4"  # when neither the variable nor the document and base URL decide
OFF_LOOPBACK_RATE = 5.0  # read-backs per second off loopback: the live API's default limit, as the suite paces

# What this mode exercises: the clauses a schemathesis case sent to the designated event can inform.
COVERED: tuple[str, ...] = (
    auth.NO_KEY_REFUSED,
    auth.EMPTY_KEY_REFUSED,
    auth.WRONG_KEY_REFUSED,
    auth.HEADER_KEY_WORKS,
    auth.QUERY_KEY_WORKS,
    auth.AUTH_FIRST,
    auth.SCHEME_CASE,
    auth.UNREADABLE_KEY_REFUSED,
    auth.RETIRED_PLACE_REFUSED,
    auth.HEADER_NAME_CASE,
    body.VALID_ACCEPTED,
    body.WRONG_TYPE_REFUSED,
    body.NOT_OBJECT_REFUSED,
    body.MALFORMED_REFUSED,
    body.MISSING_REFUSED,
    body.PAST_LIMIT_SURVIVED,
    body.NO_KNOWN_FIELD,
    body.SCHEMATHESIS_POSITIVE,
    body.SCHEMATHESIS_NEGATIVE,
    ids.UNKNOWN_NOT_FOUND,
    ids.ODD_REFUSED,
    left_open.SEVERAL_FAULTS,
    semantics.STORED,
    responses.DECLARED,
    responses.NO_SERVER_ERROR,
    responses.ERROR_JSON,
    responses.ERROR_SCHEMA,
    responses.CODE_FITS,
    left_open.KEYS_DIFFER,
    left_open.CONTENT_TYPE,
)
# What needs the suite's designed probes, sequences or transport, and why.
NOT_COVERED: dict[str, str] = {
    auth.OTHER_REGION_REFUSED: "needs the other region's key, a designed probe: run the suite",
    http.VARIED: "needs the header shapes of real clients (contracts/variety.toml), designed probes: run the suite",
    ids.EXPIRED_REFUSED: "needs the expired event, a designed probe: run the suite",
    semantics.PARTIAL: "needs a designed sequence of updates: run the suite",
    semantics.REPLACES: "needs a designed sequence of updates: run the suite",
    semantics.REPEATABLE: "needs a designed repeat: run the suite",
    transient.NOT_READY_CLEARS: "needs the not-ready event and the suite's retries: run the suite",
    transient.RATE_LIMIT_WAITED: "schemathesis's transport does not wait out a 429 (a 429 is not judged)",
    transport.COMPLETE: "schemathesis reports its own network errors",
    methods.UNDECLARED_REFUSED: "needs the methods the document does not declare, designed probes: run the suite",
    lenient.DUPLICATES: "needs bodies with duplicate members, designed probes: run the suite",
    lenient.NUMBERS: "needs numbers past a double and their read-back, designed probes: run the suite",
    lookalikes.LOOKALIKE: "needs path texts sent as they are (lookalikes of the designated id): run the suite",
    lookalikes.FOREIGN_NOT_FOUND: "needs another workspace's event, a designed probe: run the suite",
    state_rules.ONLY_NAMED: "needs the whole read-back before and after each write (the state oracle): run the suite",
    state_rules.NOTHING_CHANGED: "needs the whole read-back before and after (the state oracle): run the suite",
    state_rules.READ_BACK_ANSWERS: "judges the read-back operation, which this mode does not send: run the suite",
    state_rules.READ_BACK_VALID: "judges the read-back operation, which this mode does not send: run the suite",
}
# Verdicts this mode does not give: a 429 reaches a check only because schemathesis did not wait, and
# schemathesis calls a check only with a complete response.
NOT_JUDGED = frozenset({transient.RATE_LIMIT_WAITED, transport.COMPLETE})


def covered(profile: Profile) -> list[str]:
    """The clauses this mode covers that apply to the profile's version."""
    return [c for c in COVERED if clauses.get(c).applies_to(profile.version)]


# -- settings ---------------------------------------------------------------------------------------
class SettingsError(ValueError):
    """The environment does not say what the hooks need (one line for the user)."""


@dataclass(frozen=True)
class Settings:
    """What the suite's environment variables say: the key, the versions, the designated events."""

    api_key: str | None
    versions: tuple[str, ...]  # empty: decided by the document and the base URL
    events: Events | None  # None: no designated event given

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> Settings:
        env = os.environ if environ is None else environ
        live = next((env[v].strip() for v in REQUEST_ID_VARS if env.get(v, "").strip()), None)
        events = None
        if live is not None:
            expired = env.get(EXPIRED_VAR, "").strip() or None
            events = Events(live, expired, env.get(NOT_READY_VAR, "").strip() or None)
        versions = tuple(v.strip() for v in env.get(VERSION_VAR, "").split(",") if v.strip())
        unknown = [v for v in versions if v not in profiles.versions()]
        if unknown:
            raise SettingsError(
                f"{VERSION_VAR}={','.join(versions)}: unknown API version (known: {', '.join(profiles.versions())})"
            )
        return cls(env.get(API_KEY_VAR) or None, versions, events)

    def secrets(self) -> list[str]:
        return [self.api_key] if self.api_key else []

    def scrub(self, text: str) -> str:
        return redact.scrub(text, self.secrets())


def profile_for(operation: Any, settings: Settings, base_url: str = "") -> Profile | None:
    """The profile whose update operation `operation` is (`.path`, `.method`), or None.

    FPJS_API_VERSION names the versions to judge; without it, every version whose update has this
    path and method, and of several the one whose servers' path ends the base URL, else v4.
    """
    names = settings.versions or profiles.versions()
    method = str(operation.method).upper()
    found = [p for p in map(profiles.load, names) if p.update_path == operation.path and p.update_method == method]
    if len(found) <= 1:
        return found[0] if found else None
    served = profiles.served_at(base_url)
    by_server = [p for p in found if p.version in served]
    if len(by_server) == 1:
        return by_server[0]
    return next((p for p in found if p.version == DEFAULT_VERSION), found[-1])


# -- a schemathesis case as the suite's request ------------------------------------------------------
def _symbolic(text: str, api_key: str | None) -> Key:
    """A key as sent, symbolically: the valid key, empty, a near miss of the key, or a literal."""
    return key_as_sent(text, api_key) or Key("literal", text)


def _name_spelling(sent: str, field: str) -> dict[str, str]:
    """How a header name was spelled: as documented, in lower or upper case, or another way (`name`)."""
    if sent == field:
        return {}
    case = {field.lower(): "lower", field.upper(): "upper"}.get(sent)
    return {"name_case": case} if case else {"name": sent}


def header_credential(place: KeyPlace, name: str, value: str, api_key: str | None) -> Credential:
    """The credential a header value is, with its spelling (scheme word, separator, name case)."""
    credential = read_key_header(place.name, place.scheme, value, lambda text: _symbolic(text, api_key))[0]
    return replace(credential, **_name_spelling(name, place.field))


def _query_text(value: Any) -> str:
    """A query value as schemathesis puts it in the URL (JSON spelling for booleans and null)."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if value is None:
        return "null"
    return str(value)


def _is_json(media_type: str | None) -> bool:
    kind = (media_type or "").split(";", 1)[0].strip().lower()
    return kind in ("", "application/json") or kind.endswith("+json")


def _body(case: Any, sent_body: bytes | None = None) -> Body:
    value = case.body
    if value is NOT_SET:
        return NO_BODY
    if isinstance(value, bytes | bytearray):
        return Body.bytes_(bytes(value))
    if _is_json(case.media_type):
        return Body.of(value)
    if sent_body is not None:  # another media type: what schemathesis serialized is what went out
        return Body.bytes_(sent_body)
    if isinstance(value, str):
        return Body.bytes_(value.encode("utf-8"))
    return Body.of(value)


def _items(container: Any) -> list[tuple[str, Any]]:
    return list(container.items()) if container else []


def to_request(case: Any, profile: Profile, api_key: str | None, sent: Any = None) -> Request:
    """The suite's symbolic `Request` for a schemathesis case of the update operation.

    The path parameter (percent-encoded by schemathesis) is the event id; a header or query value in
    a key place (declared or retired) becomes a credential: the valid key `Key("valid")`, empty
    `EMPTY`, anything else a literal (not secret), with its scheme, separator and name case;
    `Content-Type` is the request's content type; other headers and query parameters are kept as
    extras. `sent` (the prepared request, optional) gives the query exactly as it went out.
    """
    event_id = unquote(str(case.path_parameters.get(profile.id_param, "")))
    header_places, query_places = profile.key_headers, profile.key_params
    creds: list[Credential] = []
    extra_headers: list[tuple[str, str]] = []
    content_type: str | None = None
    for name, value in _items(case.headers):
        text = str(value)
        if name.lower() == "content-type":
            content_type = text
        elif name.lower() in header_places:
            creds.append(header_credential(header_places[name.lower()], name, text, api_key))
        else:
            extra_headers.append((name, text))
    if sent is not None and getattr(sent, "url", None):
        pairs = parse_qsl(urlsplit(sent.url).query, keep_blank_values=True)
    else:
        pairs = [
            (name, _query_text(v))
            for name, value in _items(case.query)
            for v in (value if isinstance(value, list) else [value])
        ]
    extra_query: list[tuple[str, str]] = []
    for name, text in pairs:
        if name in query_places:
            creds.append(Credential(query_places[name].name, _symbolic(text, api_key)))
        else:
            extra_query.append((name, text))
    sent_body = getattr(sent, "body", None)
    if isinstance(sent_body, str):
        sent_body = sent_body.encode("utf-8")
    request_body = _body(case, sent_body if isinstance(sent_body, bytes) else None)
    if content_type is None and request_body.present:
        content_type = case.media_type or "application/json"
    return Request(
        event_id,
        Credentials(tuple(creds)),
        request_body,
        content_type=content_type,
        extra_query=tuple(extra_query),
        extra_headers=tuple(extra_headers),
    )


def _shown(text: str, api_key: str | None) -> str:
    """Text with the key as the replay variable, as the suite's transport shows it."""
    if not api_key:
        return text
    for form in dict.fromkeys((api_key, quote(api_key, safe=""), quote_plus(api_key))):
        text = text.replace(form, f"${{{API_KEY_VAR}}}")
    return text


def to_exchange(request: Request, response: Any, profile: Profile, api_key: str | None) -> Exchange:
    """The suite's `Exchange` for a schemathesis response (status, headers lower-cased, body bytes)."""
    sent = getattr(response, "request", None)
    url = _shown(str(getattr(sent, "url", "") or ""), api_key)
    sent_headers = dict(getattr(sent, "headers", None) or {})
    headers = {name: _shown(str(value), api_key) for name, value in sent_headers.items()}
    method = str(getattr(sent, "method", "") or profile.update_method).upper()
    received = {
        name.lower(): ", ".join(map(str, value)) if isinstance(value, list) else str(value)
        for name, value in (response.headers or {}).items()
    }
    return Exchange(
        request,
        method,
        url,
        headers,
        status=response.status_code,
        response_headers=received,
        body=bytes(response.content or b""),
        elapsed=float(getattr(response, "elapsed", 0.0) or 0.0),
        version=profile.version,
    )


def _component_mode(case: Any, location: str) -> str | None:
    """How schemathesis generated one part of the case ("positive"/"negative"), when it says."""
    meta = getattr(case, "meta", None)
    for where, info in (getattr(meta, "components", None) or {}).items():
        if str(getattr(where, "value", where)) == location:
            return str(getattr(info.mode, "value", info.mode))
    return None


def _also(case: Any, request: Request, events: Events) -> tuple[str, ...]:
    """UE-BODY-08/09 judge a schemathesis body sent to the designated event, as its leading clause does."""
    if request.event_id != events.live or not request.body.present:
        return ()
    mode = _component_mode(case, "body")
    if mode == "positive":
        return (body.SCHEMATHESIS_POSITIVE,)
    if mode == "negative":
        return (body.SCHEMATHESIS_NEGATIVE,)
    return ()


@dataclass
class Judged:
    """One case of the update operation as the suite sees it, and the verdicts of its answer."""

    profile: Profile
    settings: Settings
    events: Events
    request: Request
    exchange: Exchange
    expectations: list[Expectation]
    verdicts: list[tuple[str, Violation | None]]

    @property
    def violations(self) -> list[Violation]:
        return [v for _, v in self.verdicts if v is not None]


def _events(settings: Settings) -> Events:
    # Without a designated event nothing is the designated event (every id is judged by its shape).
    return settings.events or Events(live="\x00no designated event")


def judge_case(case: Any, response: Any, settings: Settings | None = None) -> Judged | None:
    """Judge one schemathesis response with the suite's oracle; None for another operation."""
    settings = settings or Settings.from_env()
    profile = profile_for(case.operation, settings, _base_url(case, response))
    if profile is None or str(case.method).upper() != profile.update_method:
        return None
    events = _events(settings)
    request = to_request(case, profile, settings.api_key, getattr(response, "request", None))
    exchange = to_exchange(request, response, profile, settings.api_key)
    expectations = oracle.expect(profile, request, events, also=_also(case, request, events))
    verdicts = [(c, v) for c, v in oracle.judge(exchange, profile, expectations) if c not in NOT_JUDGED]
    return Judged(profile, settings, events, request, exchange, expectations, verdicts)


# -- failures as schemathesis reports them ------------------------------------------------------------
class ClauseViolated(Failure):
    """A clause the response broke: one finding per clause and version per operation."""

    code = "ST901"  # schemathesis's code for a custom check's failure
    kind_title = "Conformance clause violated"

    __slots__ = ("clause_id", "version")

    def __init__(self, *, operation: str | None, clause_id: str, version: str, title: str, message: str) -> None:
        super().__init__(operation=operation, title=title, message=message, severity=Severity.HIGH)
        self.clause_id = clause_id
        self.version = version

    @property
    def _unique_key(self) -> str:
        return f"{self.version}|{self.clause_id}"


def failure_of(violation: Violation, profile: Profile, settings: Settings, operation: str | None) -> ClauseViolated:
    """The schemathesis failure of a violation: the clause id and title, the suite's summary line, the
    clause's requirement sentence; the key scrubbed out."""
    clause = clauses.get(violation.clause_id)
    check = f" (check {violation.check})" if violation.check else ""
    lines = [violation.summary(), f"  clause    {clause.id} [{clause.level}] {clause.requirement(profile)}{check}"]
    if violation.exchange is not None:
        lines.append(f"  request   {violation.exchange.method} {violation.exchange.url}")
    message = "\n".join(lines)
    return ClauseViolated(
        operation=operation,
        clause_id=clause.id,
        version=profile.version,
        title=settings.scrub(f"[{profile.version}] {clause.id} ({clause.title}) violated"),
        message=settings.scrub(message),
    )


def _raise(violations: Iterable[Violation], judged: Judged, case: Any) -> None:
    found = list({(v.version, v.clause_id): v for v in violations}.values())
    if not found:
        return
    label = getattr(case.operation, "label", None)
    failures = [failure_of(v, judged.profile, judged.settings, label) for v in found]
    if len(failures) == 1:
        raise failures[0]
    raise FailureGroup(failures)


# -- the checks -------------------------------------------------------------------------------------
def fpjs_clauses(ctx: Any, response: Any, case: Any) -> bool | None:
    """Every clause the answer to an update informs, judged by the suite's oracle (other operations: skipped)."""
    judged = judge_case(case, response)
    if judged is None:
        return True
    _raise(judged.violations, judged, case)
    return None


def fpjs_stored(ctx: Any, response: Any, case: Any) -> bool | None:
    """After an accepted update of the designated event: the known fields sent are what the read-back shows."""
    if response.status_code // 100 != 2:
        return True
    judged = judge_case(case, response)
    if judged is None or judged.settings.api_key is None or judged.settings.events is None:
        return True
    want = fields_to_compare(judged)
    if not want:
        return True
    target = read_back_target(judged.profile, _base_url(case, response), judged.events, judged.settings)
    try:
        stored = target.stored_now(judged.exchange, semantics.STORED)
        checks.stored_fields_match(semantics.STORED, stored, want, judged.exchange, judged.profile.absent_reads_as)
    except Violation as violation:
        _raise([violation], judged, case)
    return None


def accepted(judged: Judged) -> bool:
    """The answer is the update's success status (the document's 2xx) and every clause the request
    informs allows it: an update that should have been refused stores anyone's guess."""
    status = judged.exchange.status
    if status is None or status not in judged.profile.declared_statuses or status // 100 != 2:
        return False
    return all(e.allows_status(status) for e in judged.expectations)


def fields_to_compare(judged: Judged) -> dict[str, Any]:
    """The known fields of an accepted JSON update of the designated event (nothing else is compared),
    only values a read-back can show exactly (integers within 2^53)."""
    request, profile = judged.request, judged.profile
    value = request.body.json_value
    if not accepted(judged) or request.event_id != judged.events.live or not isinstance(value, dict):
        return {}
    if (request.content_type or "").split(";", 1)[0].strip().lower() != "application/json":
        return {}
    return {k: v for k, v in value.items() if k in profile.fields and interoperable(v) == v}


_targets: dict[tuple[str, str], Target] = {}
_targets_lock = threading.Lock()


def read_back_target(profile: Profile, base_url: str, events: Events, settings: Settings) -> Target:
    """The suite's `Target` (its `Transport`, its read-back) for one version and base URL, made once."""
    with _targets_lock:
        key = (profile.version, base_url)
        if key not in _targets:
            timeout = float(os.environ.get(TIMEOUT_VAR) or 10)
            policy = Policy(
                timeout=timeout,
                rate_limit=None if is_loopback(base_url) else OFF_LOOPBACK_RATE,
                verify=tls_context(os.environ.get(CA_BUNDLE_VAR) or None),
            )
            wire = Transport(profile, base_url, Secrets(settings.api_key or ""), policy)
            atexit.register(wire.close)
            _targets[key] = Target(profile, base_url, events, wire, Ledger(profile.version), reads_back=True)
        return _targets[key]


def _base_url(case: Any, response: Any) -> str:
    """The base URL the request went to: its URL up to the operation's path."""
    url = str(getattr(getattr(response, "request", None), "url", "") or "")
    parts = urlsplit(url)
    try:
        formatted = case.formatted_path
    except Exception:  # a malformed template: fall back to the schema's base URL
        formatted = ""
    if url and formatted and parts.path.endswith(formatted):
        return f"{parts.scheme}://{parts.netloc}{parts.path[: len(parts.path) - len(formatted)]}"
    try:
        return str(case.operation.schema.get_base_url())
    except Exception:  # no base URL known
        return ""


# -- feeding schemathesis: the key, where it goes, the designated event --------------------------------
class FpjsKey:
    """Schemathesis's auth: FPJS_API_KEY in the first place the document names, spelled as the suite does."""

    def get(self, case: Any, ctx: Any) -> tuple[Profile, Settings] | None:
        settings = Settings.from_env()
        found = _document_profiles(case.operation.schema, settings) if settings.api_key else []
        return (found[0], settings) if found else None

    def set(self, case: Any, data: tuple[Profile, Settings], ctx: Any) -> None:
        profile, settings = data
        place_key(case, profile, settings.api_key, Credentials.of(**{profile.key_places[0].name: VALID}))


def _documented_key(case: Any, profile: Profile, settings: Settings) -> bool:
    creds = to_request(case, profile, settings.api_key).credentials
    return creds == Credentials.of(**{profile.key_places[0].name: VALID})


def _update_profile(case: Any, settings: Settings) -> Profile | None:
    profile = profile_for(case.operation, settings)
    return profile if profile is not None and str(case.method).upper() == profile.update_method else None


def flatmap_case(ctx: Any, case: Any) -> Any:
    """Fuzzing phase: an update carrying the key as documented may carry other credentials instead
    (`credential_draws`; drawn by Hypothesis, shrinking back to the key as documented)."""
    settings = Settings.from_env()
    profile = _update_profile(case, settings) if settings.api_key else None
    if profile is None or not _documented_key(case, profile, settings):
        return st.just(case)
    return st.sampled_from([None, *credential_draws(profile)]).map(
        lambda creds: case if creds is None else place_key(case, profile, settings.api_key, creds)
    )


def before_call(ctx: Any, case: Any, kwargs: Any) -> None:
    """Every phase: the update goes to the designated event (unless its id is the negative part), and
    generated integers stay within 2^53 (RFC 8259, 6), as in the suite's own generation."""
    settings = Settings.from_env()
    profile = _update_profile(case, settings)
    if profile is None:
        return
    keep = designed(case.path_parameters.get(profile.id_param))  # the coverage table's ids stay theirs
    if settings.events is not None and _component_mode(case, "path") != "negative" and not keep:
        case.path_parameters = {**case.path_parameters, profile.id_param: quote(settings.events.live, safe="")}
    if case.body is not NOT_SET and not isinstance(case.body, bytes | bytearray):
        clamped = interoperable(case.body)
        if clamped != case.body:
            case.body = clamped


def before_add_examples(ctx: Any, examples: list[Any]) -> None:
    """Examples phase, deterministically, every run: the key as documented and every credential situation
    of `credential_draws` once, with the suite's small valid update (`table.probe_body`), and each
    refused one again without a body (auth before body: UE-AUTH-07), sent to the designated event;
    then the suite's own coverage table (`designed_examples`), in its order."""
    operation = getattr(ctx, "operation", None)
    settings = Settings.from_env()
    if operation is None or not settings.api_key:
        return
    profile = profile_for(operation, settings)
    if profile is None or str(operation.method).upper() != profile.update_method:
        return
    live = quote(_events(settings).live, safe="")
    draws = [Credentials.of(**{profile.key_places[0].name: VALID}), *credential_draws(profile)]
    situations = [(creds, probe_body(profile)) for creds in draws]
    situations += [(creds, NOT_SET) for creds in draws if refused(profile, creds)]
    for creds, update in situations:
        case = operation.Case(
            path_parameters={profile.id_param: live},
            body=update,
            media_type="application/json" if update is not NOT_SET else None,
        )
        examples.append(place_key(case, profile, settings.api_key, creds))
    examples += designed_examples(operation, profile, settings.api_key, _events(settings))


def _document_profiles(schema: Any, settings: Settings, names: Iterable[str] | None = None) -> list[Profile]:
    """The profiles (of `names`, default: those FPJS_API_VERSION allows) whose update operation the
    loaded document has."""
    paths = (getattr(schema, "raw_schema", None) or {}).get("paths", {})
    found = []
    for p in map(profiles.load, names or settings.versions or profiles.versions()):
        item = paths.get(p.update_path)
        if isinstance(item, dict) and p.update_method.lower() in item:
            found.append(p)
    return found


def after_load_schema(ctx: Any, schema: Any) -> None:
    """A document with the update operation needs the key and the designated event: one line if not."""
    settings = Settings.from_env()
    if not _document_profiles(schema, settings):
        others = _document_profiles(schema, settings, profiles.versions())
        if settings.versions and others:
            raise SettingsError(
                f"{VERSION_VAR}={','.join(settings.versions)}, but the document is {others[0].version}'s: "
                "nothing would be judged"
            )
        return
    needs = {
        API_KEY_VAR: (settings.api_key, "the application's secret key"),
        REQUEST_ID_VARS[0]: (settings.events, "an event inside the update window the run may update"),
    }
    missing = [f"{name} ({what})" for name, (value, what) in needs.items() if not value]
    if missing:
        raise SettingsError(f"fpjs_conformance.schemathesis: set {' and '.join(missing)}")


# -- registration -----------------------------------------------------------------------------------
CHECKS = (fpjs_clauses, fpjs_stored)
HOOKS = (before_add_examples, flatmap_case, before_call, after_load_schema)


def _ours(provider: Any) -> bool:
    while provider is not None:
        if isinstance(provider, FpjsKey):
            return True
        provider = getattr(provider, "provider", None)
    return False


def register() -> None:
    """Register the checks, the hooks and the auth with schemathesis (done on import; idempotent)."""
    from schemathesis import hooks
    from schemathesis.auths import GLOBAL_AUTH_STORAGE
    from schemathesis.checks import CHECKS as REGISTERED

    for check in CHECKS:
        if check.__name__ not in REGISTERED.get_all_names():
            schemathesis.check(check)
    for hook in HOOKS:
        if hook not in hooks.get_all_by_name(hook.__name__):
            schemathesis.hook(hook)
    if not any(_ours(p) for p in GLOBAL_AUTH_STORAGE.providers):
        schemathesis.auth(refresh_interval=None)(FpjsKey)


def unregister() -> None:
    """Take everything `register` added away again (for a process that uses schemathesis otherwise too)."""
    from schemathesis import hooks
    from schemathesis.auths import GLOBAL_AUTH_STORAGE
    from schemathesis.checks import CHECKS as REGISTERED

    for check in CHECKS:
        if check.__name__ in REGISTERED.get_all_names() and REGISTERED.get_one(check.__name__) is check:
            REGISTERED.unregister(check.__name__)
    for hook in HOOKS:
        hooks.unregister(hook)
    GLOBAL_AUTH_STORAGE.providers = [p for p in GLOBAL_AUTH_STORAGE.providers if not _ours(p)]


register()
