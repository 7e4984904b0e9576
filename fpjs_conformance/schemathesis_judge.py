"""What the schemathesis hooks judge and how a failure reads: the settings from the suite's environment, the
profile of an operation, a case judged by the suite's oracle (`judge_case`), the clauses this mode covers
and why not the others, a violation as a schemathesis failure, the fields an accepted update must store,
and the suite's `Target` that reads them back."""

from __future__ import annotations

import atexit
import os
import threading
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from schemathesis.core.failures import Failure, FailureGroup, Severity

from fpjs_conformance import clauses, oracle, redact, rules
from fpjs_conformance import profile as profiles
from fpjs_conformance.checks import Expectation, Violation
from fpjs_conformance.endpoint import is_loopback, tls_context
from fpjs_conformance.keys import Secrets
from fpjs_conformance.ledger import Ledger
from fpjs_conformance.limits import Policy
from fpjs_conformance.model import Events, Exchange, Request
from fpjs_conformance.profile import Profile
from fpjs_conformance.schemathesis_wire import component_mode, to_exchange, to_request
from fpjs_conformance.strategies import interoperable
from fpjs_conformance.target import Target
from fpjs_conformance.transport import Transport

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
    rules.auth.NO_KEY_REFUSED,
    rules.auth.EMPTY_KEY_REFUSED,
    rules.auth.WRONG_KEY_REFUSED,
    rules.auth.HEADER_KEY_WORKS,
    rules.auth.QUERY_KEY_WORKS,
    rules.auth.AUTH_FIRST,
    rules.auth.SCHEME_CASE,
    rules.auth.UNREADABLE_KEY_REFUSED,
    rules.auth.RETIRED_PLACE_REFUSED,
    rules.auth.HEADER_NAME_CASE,
    rules.body.VALID_ACCEPTED,
    rules.body.WRONG_TYPE_REFUSED,
    rules.body.NOT_OBJECT_REFUSED,
    rules.body.MALFORMED_REFUSED,
    rules.body.MISSING_REFUSED,
    rules.body.PAST_LIMIT_SURVIVED,
    rules.body.NO_KNOWN_FIELD,
    rules.body.SCHEMATHESIS_POSITIVE,
    rules.body.SCHEMATHESIS_NEGATIVE,
    rules.ids.UNKNOWN_NOT_FOUND,
    rules.ids.ODD_REFUSED,
    rules.left_open.SEVERAL_FAULTS,
    rules.semantics.STORED,
    rules.responses.DECLARED,
    rules.responses.NO_SERVER_ERROR,
    rules.responses.ERROR_JSON,
    rules.responses.ERROR_SCHEMA,
    rules.responses.CODE_FITS,
    rules.left_open.KEYS_DIFFER,
    rules.left_open.CONTENT_TYPE,
)
# What needs the suite's designed probes, sequences or transport, and why.
NOT_COVERED: dict[str, str] = {
    rules.auth.OTHER_REGION_REFUSED: "needs the other region's key, a designed probe: run the suite",
    rules.http.VARIED: (
        "needs the header shapes of real clients (contracts/variety.toml), designed probes: run the suite"
    ),
    rules.ids.EXPIRED_REFUSED: "needs the expired event, a designed probe: run the suite",
    rules.semantics.PARTIAL: "needs a designed sequence of updates: run the suite",
    rules.semantics.REPLACES: "needs a designed sequence of updates: run the suite",
    rules.semantics.REPEATABLE: "needs a designed repeat: run the suite",
    rules.transient.NOT_READY_CLEARS: "needs the not-ready event and the suite's retries: run the suite",
    rules.transient.RATE_LIMIT_WAITED: "schemathesis's transport does not wait out a 429 (a 429 is not judged)",
    rules.transport.COMPLETE: "schemathesis reports its own network errors",
    rules.methods.UNDECLARED_REFUSED: "needs the methods the document does not declare, designed probes: run the suite",
    rules.lenient.DUPLICATES: "needs bodies with duplicate members, designed probes: run the suite",
    rules.lenient.NUMBERS: "needs numbers past a double and their read-back, designed probes: run the suite",
    rules.lookalikes.LOOKALIKE: "needs path texts sent as they are (lookalikes of the designated id): run the suite",
    rules.lookalikes.FOREIGN_NOT_FOUND: "needs another workspace's event, a designed probe: run the suite",
    rules.state.ONLY_NAMED: "needs the whole read-back before and after each write (the state oracle): run the suite",
    rules.state.NOTHING_CHANGED: "needs the whole read-back before and after (the state oracle): run the suite",
    rules.state.READ_BACK_ANSWERS: "judges the read-back operation, which this mode does not send: run the suite",
    rules.state.READ_BACK_VALID: "judges the read-back operation, which this mode does not send: run the suite",
}
# Verdicts this mode does not give: a 429 reaches a check only because schemathesis did not wait, and
# schemathesis calls a check only with a complete response.
NOT_JUDGED = frozenset({rules.transient.RATE_LIMIT_WAITED, rules.transport.COMPLETE})


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


def _also(case: Any, request: Request, events: Events) -> tuple[str, ...]:
    """UE-BODY-08/09 judge a schemathesis body sent to the designated event, as its leading clause does."""
    if request.event_id != events.live or not request.body.present:
        return ()
    mode = component_mode(case, "body")
    if mode == "positive":
        return (rules.body.SCHEMATHESIS_POSITIVE,)
    if mode == "negative":
        return (rules.body.SCHEMATHESIS_NEGATIVE,)
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


def events_of(settings: Settings) -> Events:
    # Without a designated event nothing is the designated event (every id is judged by its shape).
    return settings.events or Events(live="\x00no designated event")


def judge_case(case: Any, response: Any, settings: Settings | None = None) -> Judged | None:
    """Judge one schemathesis response with the suite's oracle; None for another operation."""
    settings = settings or Settings.from_env()
    profile = profile_for(case.operation, settings, base_url_of(case, response))
    if profile is None or str(case.method).upper() != profile.update_method:
        return None
    events = events_of(settings)
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


def raise_failures(violations: Iterable[Violation], judged: Judged, case: Any) -> None:
    found = list({(v.version, v.clause_id): v for v in violations}.values())
    if not found:
        return
    label = getattr(case.operation, "label", None)
    failures = [failure_of(v, judged.profile, judged.settings, label) for v in found]
    if len(failures) == 1:
        raise failures[0]
    raise FailureGroup(failures)


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


def base_url_of(case: Any, response: Any) -> str:
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
