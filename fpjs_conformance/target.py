"""The target under test as the contract tests see it: send, predict, judge, record, read back.

One `Target` per API version. Every response is judged by every clause it informs and recorded in
the version's ledger. A request already sent in this run is not sent again: its verdicts are
replayed (a Hypothesis example that repeats one, or a shrink step, costs nothing). Steps whose
point is the event's state afterwards (read-backs, sequences, repeats) always go to the wire.
Before the run the preflight (`preflight`) checks the target is usable; after it the restore
(`restore`) leaves the designated event as found.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Any

from fpjs_conformance import behaviour, checks, oracle
from fpjs_conformance.checks import Expectation, Verdicts, Violation
from fpjs_conformance.designated import EventState
from fpjs_conformance.ledger import Ledger
from fpjs_conformance.model import READ, VALID, Body, Credentials, Events, Exchange, Request
from fpjs_conformance.profile import Profile
from fpjs_conformance.rules import responses, semantics, transient, transport
from fpjs_conformance.table import Case, Table, probe_body
from fpjs_conformance.traffic import Traffic
from fpjs_conformance.transport import Transport


class SetupProblem(Exception):
    """The run cannot judge the target: a designated event or a key is not usable. Not a server fault."""


class TargetUnreachable(Exception):
    """Requests keep failing at the transport: the run ends with one line instead of piling up timeouts."""


@dataclass
class ReadBack:
    """What reading the designated event back gave: its stored fields, or why there are none."""

    stored: dict[str, Any] | None
    exchange: Exchange | None = None
    problem: str = ""  # "", "no-route", "not-found", "refused", "garbage", and the server's faults below
    why: str = ""


# Read-back failures that are the server's fault (judged by these checks), never the setup's.
SERVER_FAULTS = {
    "transport": transport.transport_completed,
    "rate-limited": transient.not_rate_limited,
    "server-error": responses.no_server_error,
}


@dataclass(repr=False)
class Target:
    profile: Profile
    base_url: str  # as shown: no userinfo
    events: Events
    transport: Transport
    ledger: Ledger
    has_wrong_region_key: bool = False
    embedded: bool = False  # the bundled reference server, started for this run
    reads_back: bool = False
    state: EventState = field(default_factory=EventState)  # shared with the other versions' targets
    behaviour: dict[str, dict[str, Any]] = field(default_factory=dict)
    found: dict[str, list[Violation]] = field(default_factory=dict)  # clause -> violations, in order
    first_violation: float | None = None  # time.monotonic() of the first one
    unreachable: str | None = None  # why this version's target stopped answering: nothing more is sent
    timed_out: str | None = None  # the run's deadline passed while this version was being judged
    exploration: Any = None  # the run's Exploration settings (explore.py)
    unexplored: set[str] = field(default_factory=set)  # selected clauses whose random examples are still to come
    explored: dict[str, BaseException] = field(default_factory=dict)  # clause -> its examples' failure, for its test
    last_write: Exchange | None = None  # the last accepted write of the designated event: a later fault's likely cause
    traffic: Traffic | None = None  # where every exchange is recorded (the run's, shared by the versions)
    phase: str = "preflight"  # why requests are sent now: preflight, coverage, random, replay, proxy
    case_id: str | None = None  # the coverage case being sent
    _sent: dict[tuple, Verdicts] = field(default_factory=dict)
    _accepted: set[tuple] = field(default_factory=set)

    def __repr__(self) -> str:  # shown in Hypothesis examples and tracebacks: no internals, no secrets
        return f"Target({self.profile.version} {self.base_url})"

    @property
    def version(self) -> str:
        return self.profile.version

    def table(self) -> Table:
        """A fresh case builder for this version and these events (coverage cases, random examples)."""
        return Table(self.profile, self.events, wrong_region=self.has_wrong_region_key)

    # -- building requests ------------------------------------------------------------------------
    def valid_key(self, place: str | None = None) -> Credentials:
        return Credentials.of(**{place or self.profile.key_places[0].name: VALID})

    def build_update(
        self,
        body: Body | dict | None = None,
        *,
        event_id: str | None = None,
        credentials: Credentials | None = None,
        **extra: Any,
    ) -> Request:
        """An update of the designated event; by default a small valid one with the key in its first place."""
        if body is None:
            body = Body.of(probe_body(self.profile))
        elif not isinstance(body, Body):
            body = Body.of(body)
        creds = self.valid_key() if credentials is None else credentials
        return Request(event_id or self.events.live, creds, body, **extra)

    # -- sending and judging ----------------------------------------------------------------------
    def expect(self, request: Request, also: tuple[str, ...] = ()) -> list[Expectation]:
        expectations = oracle.expect(self.profile, request, self.events, also=also)
        if request.fingerprint() in self._accepted:
            defer = self.profile.role("rate_limited").statuses
            expectations.append(
                semantics.accepted_before("an identical update was accepted earlier in this run", defer)
            )
        return expectations

    def submit(self, request: Request, *, also: tuple[str, ...] = (), fresh: bool = False) -> Verdicts:
        """Send `request` (unless it was sent before and `fresh` is false), judge it, record the verdicts."""
        key = request.fingerprint()
        if not fresh and key in self._sent:
            return self._rejudge(self._sent[key], request, also)
        if self.unreachable:
            raise TargetUnreachable(self.unreachable)
        return self.judge_sent(request, self.send(request), also)

    def judge_sent(self, request: Request, ex: Exchange, also: tuple[str, ...] = ()) -> Verdicts:
        """Judge the answer `ex` to `request` under every clause it informs, and record the verdicts."""
        key = request.fingerprint()
        result = Verdicts(ex, oracle.judge(ex, self.profile, self.expect(request, also)))
        self._record(result)
        if ex.status == 200 and request.op != READ:
            self._accepted.add(key)
            writes = self._writes(request)
            if writes is not None and result.violations:
                # accepted what it should have refused: what it stored is anyone's guess
                self.state.accepted(writes, trusted=False)
        self._sent[key] = result
        if self.transport.unreachable:
            self.unreachable = (
                f"{self.transport.failures} requests got no usable answer from {self.base_url} "
                f"(last: {ex.received()[:200]}); nothing more is sent to it"
            )
            raise TargetUnreachable(self.unreachable)
        return result

    def send(self, request: Request, *, reserved: bool = False) -> Exchange:
        """The transport's send. A write of the designated event is on record (journal included) before it
        goes out; an earlier answer that left stray bytes on the connection is blamed for them, and a
        request the server took and dropped unanswered is recorded."""
        writes = self._writes(request)
        if writes is not None:
            self.state.sending(writes)
        ex = self.transport.send(request, reserved=reserved)
        if self.traffic is not None:
            kind = "restore" if reserved else self.phase
            for earlier in ex.tries:  # every request that went on the wire: retried and lost tries too
                self.traffic.add(earlier, kind=kind, events=self.events, case=self.case_id, retried=True)
            self.traffic.add(ex, kind=kind, events=self.events, case=self.case_id)
        if ex.stray_after is not None:
            self._record(Verdicts(ex.stray_after, [(transport.COMPLETE, transport.stray_bytes(ex.stray_after))]))
        if ex.dropped is not None:
            self._record(Verdicts(ex.dropped, [(transport.COMPLETE, transport.dropped(ex.dropped))]))
        if writes is not None and ex.status == 200:
            self.state.accepted(writes, trusted=True)
            self.last_write = ex
        elif writes is not None and ex.status is not None:
            self.state.refused(writes)
        return ex

    def _writes(self, request: Request) -> dict[str, Any] | None:
        """The fields an update of the designated event sets (store names), or None for any other request."""
        if request.op == READ or request.event_id != self.events.live:
            return None
        body = request.body.json_value
        return self.profile.to_store(body) if isinstance(body, dict) else None

    def _rejudge(self, earlier: Verdicts, request: Request, also: tuple[str, ...]) -> Verdicts:
        """An answer already judged; clauses in `also` that have not judged it yet do now."""
        judged = {clause for clause, _ in earlier.verdicts}
        extra = [e for e in self.expect(request, also) if e.clause_id in also and e.clause_id not in judged]
        if not extra:
            return earlier
        new = [checks.verdict(e.clause_id, checks.outcome_as_expected, earlier.exchange, e) for e in extra]
        result = Verdicts(earlier.exchange, [*earlier.verdicts, *new])
        self._record(Verdicts(earlier.exchange, new))
        self._sent[request.fingerprint()] = result
        return result

    def _record(self, result: Verdicts) -> None:
        for violation in result.violations:
            self._name_cause(violation)
        self.ledger.record(result.verdicts)
        if self.traffic is not None:
            self.traffic.judged(result.exchange, result.verdicts)
        if result.violations and self.first_violation is None:
            self.first_violation = time.monotonic()
        for violation in result.violations:
            self.found.setdefault(violation.clause_id, []).append(violation)

    def _name_cause(self, violation: Violation) -> None:
        """A read-back of the designated event, or a server error on it, may be the doing of the last
        accepted write before it: name that write (its replay goes first)."""
        ex, cause = violation.exchange, self.last_write
        if ex is None or cause is None or cause is ex or ex.request.event_id != self.events.live:
            return
        if ex.request.op == READ or violation.clause_id == responses.NO_SERVER_ERROR:
            violation.cause = cause

    def record_violation(self, violation: Violation) -> None:
        """A finding outside any request's judgement (the restore's read-back), under its clause."""
        self._record(Verdicts(violation.exchange, [(violation.clause_id, violation)]))

    def verify(self, request: Request, *, also: tuple[str, ...] = (), fresh: bool = False) -> Exchange:
        """Send and judge; raise what the answer broke."""
        result = self.submit(request, also=also, fresh=fresh)
        checks.raise_all(result.violations)
        return result.exchange

    def record_check(self, clause_id: str, fn, *args: Any) -> None:
        """Run a read-back check (stored fields, same outcome) and record its verdict under `clause_id`."""
        try:
            fn(*args)
        except Violation as violation:
            self._record(Verdicts(violation.exchange, [(violation.clause_id, violation)]))
            raise
        self.ledger.tally(clause_id).requests += 1
        self.ledger.passed(clause_id)

    # -- reading back -----------------------------------------------------------------------------
    def read_back(self, event_id: str | None = None, place: str | None = None, *, reserved: bool = False) -> ReadBack:
        """The event's fields as the read-back shows them (only transport failures are judged here)."""
        request = Request(event_id or self.events.live, self.valid_key(place), op=READ)
        ex = self.send(request, reserved=reserved)
        if ex.error:
            return ReadBack(None, ex, "transport", ex.error)
        if ex.status in self.profile.role("rate_limited").statuses:
            return ReadBack(None, ex, "rate-limited", ex.received()[:120])
        if ex.status >= 500:
            return ReadBack(None, ex, "server-error", ex.received()[:120])
        if ex.status == 200:
            try:
                stored = self.profile.stored(ex.json())
            except (ValueError, UnicodeDecodeError, RecursionError):
                stored = None
            if stored is None:
                return ReadBack(None, ex, "garbage", f"200 without the event's fields: {ex.received()[:120]}")
            if request.event_id == self.events.live and not reserved:  # the restore's reads judge nothing
                self.state.remember_storage(self.profile.to_store({**self.profile.absent_reads_as, **stored}))
            return ReadBack(stored, ex)
        if ex.status in self.profile.refusal_statuses:
            return ReadBack(None, ex, "refused", f"{ex.status} {ex.error_code() or ''}".strip())
        if self.profile.role("unknown_event").allows(ex.status, ex.error_code()):
            return ReadBack(None, ex, "not-found", f"{ex.status} {ex.error_code()}")
        return ReadBack(None, ex, "no-route", f"{ex.status} {ex.media_type or ''}".strip())

    def stored_now(self, ex: Exchange, clause_id: str) -> dict[str, Any]:
        """Read back after `ex`; a failed read-back is a violation of `clause_id` (it needs the read-back)."""
        got = self.read_back()
        if got.problem in SERVER_FAULTS:  # the read-back's own fault, under its own clause
            raise self.judge_server_fault(got.exchange, got.problem)
        if got.stored is None:
            violation = Violation(clause_id, "the event read back after the update", f"read-back: {got.why}", ex)
            violation.check = checks.stored_fields_match.__name__
            self._record(Verdicts(ex, [(clause_id, violation)]))
            raise violation
        return got.stored

    def judge_server_fault(self, ex: Exchange, problem: str) -> Violation:
        """Record an answer that failed by the server's fault (`problem`: a key of SERVER_FAULTS) under its
        clause, and only that (a read-back, a preflight request); the violation."""
        check = SERVER_FAULTS[problem]
        verdict = checks.verdict(check.clause_id, check, ex, self.profile)
        self._record(Verdicts(ex, [verdict]))
        return verdict[1]

    # -- one coverage case ------------------------------------------------------------------------
    def run_case(self, case: Case, *, observe: bool = True) -> list[Violation]:
        """Send a coverage case, judge every answer, compare the read-back if the case asks; the violations."""
        found: list[Violation] = []
        exchanges: list[Exchange] = []
        state_matters = case.needs_read_back and self.reads_back
        self.case_id = case.id if observe else None
        try:
            for request in case.requests:
                result = self.submit(request, fresh=state_matters)
                found += result.violations
                exchanges.append(result.exchange)
            read_back = None
            if state_matters and all(ex.status == 200 for ex in exchanges):
                try:
                    read_back = self._compare(case, exchanges)
                except Violation as violation:
                    found.append(violation)
                    read_back = "differs"
        finally:
            self.case_id = None
        if observe:
            self.behaviour[case.id] = behaviour.observe(exchanges[-1], read_back)
        return found

    def _compare(self, case: Case, exchanges: list[Exchange]) -> str:
        clause_id = semantics.read_back_clause(case.clause_id)
        last = exchanges[-1]
        if case.compare == "repeat":
            stored = self.stored_now(last, clause_id)
            again = self.submit(case.requests[-1], fresh=True)
            self.record_check(semantics.REPEATABLE, semantics.same_outcome, last, again.exchange)
            checks.raise_all(again.violations)
            after = self.stored_now(again.exchange, clause_id)
            self.record_check(
                semantics.REPEATABLE,
                checks.stored_fields_match,
                semantics.REPEATABLE,
                after,
                stored,
                again.exchange,
            )
            return "same"
        want: dict[str, Any] = {}
        for request in case.requests:
            want.update({k: v for k, v in request.body.json_value.items() if k in self.profile.fields})
        stored = self.stored_now(last, clause_id)
        self.record_check(
            clause_id, checks.stored_fields_match, clause_id, stored, want, last, self.profile.absent_reads_as
        )
        return "same"
