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

from fpjs_conformance import aliases, behaviour, checks, oracle
from fpjs_conformance import state as whole
from fpjs_conformance.checks import Expectation, Verdicts, Violation
from fpjs_conformance.designated import EventState
from fpjs_conformance.gateway import Transients
from fpjs_conformance.ledger import Ledger
from fpjs_conformance.model import FOREIGN, READ, VALID, Body, Credentials, Events, Exchange, Request
from fpjs_conformance.profile import Profile
from fpjs_conformance.readback import SERVER_FAULTS, ReadBack, reading
from fpjs_conformance.rules import lenient, responses, semantics, transport
from fpjs_conformance.rules import state as state_rules
from fpjs_conformance.table import Case, Table, probe_body
from fpjs_conformance.traffic import Traffic
from fpjs_conformance.transport import Transport, intermediary
from fpjs_conformance.writegate import WriteGate


class SetupProblem(Exception):
    """The run cannot judge the target: a designated event or a key is not usable. Not a server fault."""


class TargetUnreachable(Exception):
    """Requests keep failing at the transport: the run ends with one line instead of piling up timeouts."""


GROUPED = ("fold", "numbers")  # compares that one read-back after several cases can make


@dataclass(repr=False)
class Target:
    profile: Profile
    base_url: str  # as shown: no userinfo
    events: Events
    transport: Transport
    ledger: Ledger
    has_wrong_region_key: bool = False
    has_foreign_key: bool = False  # another workspace's key: its event is read back after the update of it
    embedded: bool = False  # the bundled reference server, started for this run
    reads_back: bool = False
    state: EventState = field(default_factory=EventState)  # shared with the other versions' targets
    behaviour: dict[str, dict[str, Any]] = field(default_factory=dict)
    found: dict[str, list[Violation]] = field(default_factory=dict)  # clause -> violations, in order
    first_violation: float | None = None  # time.monotonic() of the first one
    unreachable: str | None = None  # why this version's target stopped answering: nothing more is sent
    timed_out: str | None = None  # the run's deadline passed while this version was being judged
    fail_fast: int | None = None  # -x / --maxfail=N: nothing more is sent once N clauses have failed
    stopped_early: str | None = None  # why: set when that many clauses have failed
    excused: frozenset[str] = frozenset()  # clauses a known deviation covers: their failures do not stop it
    exploration: Any = None  # the run's Exploration settings (explore.py)
    unexplored: set[str] = field(default_factory=set)  # selected clauses whose random examples are still to come
    explored: dict[str, BaseException] = field(default_factory=dict)  # clause -> its examples' failure, for its test
    last_write: Exchange | None = None  # the last accepted write of the designated event: a later fault's likely cause
    reads: whole.Reads = field(default_factory=whole.Reads)  # this version's view of the event, the lag figures
    _last_write_at: float = 0.0
    traffic: Traffic | None = None  # where every exchange is recorded (the run's, shared by the versions)
    transients: Transients = field(default_factory=Transients)  # intermediaries' pages (the run's, shared)
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

    def enough_failures(self) -> bool:
        """Whether the run stops sending here (`fail_fast`): a safe point asks this between cases and examples,
        so `-x` reports the first violation without waiting for the rest of the table."""
        if self.stopped_early is None and self.fail_fast and len(set(self.found) - self.excused) >= self.fail_fast:
            self.stopped_early = f"stopped once {self.fail_fast} clause(s) failed (-x / --maxfail={self.fail_fast})"
        return self.stopped_early is not None

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

    def judged_before(self, request: Request) -> bool:
        """Whether this request was sent and judged earlier in the run (`submit` judges it again, unsent)."""
        return request.fingerprint() in self._sent

    def judge_sent(self, request: Request, ex: Exchange, also: tuple[str, ...] = ()) -> Verdicts:
        """Judge the answer `ex` to `request` under every clause it informs, and record the verdicts."""
        key = request.fingerprint()
        result = Verdicts(ex, oracle.judge(ex, self.profile, self.expect(request, also)))
        self._record(result)
        if ex.status == 200 and request.op != READ and request.method is None:
            self._accepted.add(key)
            writes = self.gate.writes(request)
            if writes is not None and result.violations:
                # accepted what it should have refused: what it stored is anyone's guess
                self.state.distrust(writes)
        self._sent[key] = result
        if self.transport.unreachable:
            self.unreachable = (
                f"{self.transport.failures} requests got no usable answer from {self.base_url} "
                f"(last: {ex.received()[:200]}); nothing more is sent to it"
            )
            raise TargetUnreachable(self.unreachable)
        return result

    @property
    def gate(self) -> WriteGate:
        """The write gate every request of this target passes (writegate: who may be written, journal first)."""
        return WriteGate(self.transport, self.profile, self.events, self.state)

    def send(self, request: Request, *, reserved: bool = False) -> Exchange:
        """Send through the write gate (a write of the designated event is on record, journal included,
        before it goes out; none to an event no one designated goes out at all). An earlier answer that
        left stray bytes on the connection is blamed for them, and a request the server took and dropped
        unanswered is recorded."""
        return self.answered(request, self.gate.send(request, reserved=reserved), reserved=reserved)

    def answered(self, request: Request, ex: Exchange, *, reserved: bool = False) -> Exchange:
        """What an answer the gate noted means besides its verdicts (`send`'s, or one in flight beside others,
        `inflight`): the traffic, stray bytes, a dropped request, the state oracle's log."""
        if self.traffic is not None:
            kind = "restore" if reserved else self.phase
            for earlier in ex.tries:  # every request that went on the wire: retried and lost tries too
                self.traffic.add(earlier, kind=kind, events=self.events, case=self.case_id, retried=True)
            self.traffic.add(ex, kind=kind, events=self.events, case=self.case_id)
        if ex.stray_after is not None:
            self._record(Verdicts(ex.stray_after, [(transport.COMPLETE, transport.stray_bytes(ex.stray_after))]))
        if ex.dropped is not None:
            self._record(Verdicts(ex.dropped, [(transport.COMPLETE, transport.dropped(ex.dropped))]))
        if ex.gateway is not None and not intermediary(ex):  # an intermediary's page, and the retry got through
            for target, page in self.transients.seen(self, ex.gateway):
                target.judge_server_fault(page, "server-error")
        writes = self.gate.writes(request)
        if writes is not None and request.method is None and ex.status == 200:
            self.last_write, self._last_write_at = ex, time.monotonic()
        if request.op != READ and not reserved:  # on the log the state oracle blames changes on
            may = writes is not None and request.method is None and ex.status in (200, None)
            self.state.touches.append(whole.touch(self.profile, request, ex, may))
        return ex

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
        self.ledger.record(result.verdicts)  # says which violations fail the run (a SHOULD finding may not)
        if self.traffic is not None:
            self.traffic.judged(result.exchange, result.verdicts)
        binding = [v for v in result.violations if v.binding]
        if binding and self.first_violation is None:
            self.first_violation = time.monotonic()
        for violation in binding:
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
        return reading(self.profile, self.send(request, reserved=reserved))

    def read_settled(self, *, reserved: bool = False) -> ReadBack:
        """Read the designated event back; a read that shows an older value of the run's than it last wrote
        is read again with backoff within the settle time (`--settle-time`): a propagation lag is not a
        breach. A version whose read never settled stops waiting (it loses writes; it does not lag)."""
        got = self.read_back(reserved=reserved)
        lag = self.reads.lag
        if not self._lags(got):
            return got
        started, wait = time.monotonic(), 0.05
        while (left := lag.settle_s - (time.monotonic() - started)) > 0:
            self.transport._wait(min(wait, left), reserved)
            wait *= 2
            got = self.read_back(reserved=reserved)
            lag.rereads += 1
            if not self._lags(got):
                lag.settled += 1
                lag.max_lag_s = max(lag.max_lag_s, time.monotonic() - self._last_write_at)
                return got
        lag.unsettled += 1
        self.reads.waits = False
        return got

    def _lags(self, got: ReadBack) -> bool:
        if not self.reads.waits or self.reads.lag.settle_s <= 0 or got.stored is None:
            return False
        shown = self.profile.to_store({**self.profile.absent_reads_as, **got.stored})
        return any(self.state.explain(k, shown.get(k)) == "stale" for k in self.state.known())

    def begin_view(self, got: ReadBack) -> None:
        """The first read of the designated event in this version (the preflight's): what later reads compare with."""
        if got.stored is not None and got.exchange is not None:
            self.reads.view = whole.View(got.exchange.json(), len(self.state.touches))

    def look(self, got: ReadBack, compared: set[str] = frozenset()) -> None:
        """Judge a read of the designated event as a whole (the state oracle, `state`), record the verdicts,
        and take it as this version's view. `compared`: fields the read's own case judges (store names)."""
        ex = got.exchange
        if ex is None or ex.error is not None or got.problem == "rate-limited":  # those are other clauses' findings
            return
        self._record(Verdicts(ex, whole.conformance(ex, self.profile)))
        if got.stored is None:
            return
        since = self.state.touches[self.reads.view.seen :]
        known = self.state.known()
        found = whole.judge(self.profile, self.reads.view, ex.json(), self.state.touches, known, set(compared))
        want = self.profile.to_wire(known)
        for violation in found:  # a change the vendor's own names for a field explain: a SHOULD deviation
            aliases.excuse(self.profile, [t.exchange.request for t in since], violation, got.stored, want)
            self._record(Verdicts(violation.exchange or ex, [(violation.clause_id, violation)]))
        blamed = {v.clause_id for v in found}
        for clause_id, judged in (
            (state_rules.NOTHING_CHANGED, [t for t in since if not t.applied]),
            (state_rules.ONLY_NAMED, [t for t in since if t.applied]),
        ):
            if judged and clause_id not in blamed:
                self._record(Verdicts(ex, [(clause_id, None)]))
        self.state.remember_storage(self.profile.to_store({**self.profile.absent_reads_as, **got.stored}))
        self.reads.view = whole.View(ex.json(), len(self.state.touches))

    def stored_now(self, ex: Exchange, clause_id: str, compared: set[str] = frozenset()) -> dict[str, Any]:
        """Read back after `ex`; a failed read-back is a violation of `clause_id` (it needs the read-back)."""
        got = self.read_settled()
        self.look(got, compared)
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

    def _foreign_unchanged(self, update: Exchange) -> str:
        """Another workspace's event, read with that workspace's key (when given): none of the marks the
        update carried may show (UE-STATE-02: a request sent to another id changes nothing there either)."""
        if not self.has_foreign_key:
            return "not read"
        read = Request(self.events.foreign or "", Credentials.of(**{self.profile.key_places[0].name: FOREIGN}), op=READ)
        ex = self.send(read)
        try:
            stored = self.profile.stored(ex.json()) if ex.status == 200 else None
        except (ValueError, UnicodeDecodeError, RecursionError):
            stored = None
        if stored is None:
            return "not read"
        sent = whole.touch(self.profile, update.request, update, False)
        leaked = [state_rules.Change(k, "its own", v) for k, v in stored.items() if sent.marks & whole.marks_in(v)]
        verdict = checks.verdict(
            state_rules.NOTHING_CHANGED, state_rules.nothing_changed, leaked, update, "another workspace's event"
        )
        self._record(Verdicts(ex, [verdict]))
        return "differs" if verdict[1] else "same"

    # -- one coverage case ------------------------------------------------------------------------
    def run_case(self, case: Case, *, observe: bool = True) -> list[Violation]:
        """Send a coverage case, judge every answer, compare the read-back if the case asks; the violations."""
        found, exchanges = self.send_case(case, observe=observe)
        if case.compare in GROUPED:
            return found + self.read_cases([(case, exchanges)], observe=observe)
        read_back = None
        accepted = all(ex.status == 200 for ex in exchanges) or case.compare == "foreign"
        if case.needs_read_back and self.reads_back and accepted:
            self.case_id = case.id if observe else None
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

    def send_case(self, case: Case, *, observe: bool = True) -> tuple[list[Violation], list[Exchange]]:
        """Send a case's requests in order and judge each answer (no read-back): the violations, the exchanges."""
        found: list[Violation] = []
        exchanges: list[Exchange] = []
        self.case_id = case.id if observe else None
        try:
            for request in case.requests:
                result = self.submit(request, fresh=case.needs_read_back and self.reads_back)
                found += result.violations
                exchanges.append(result.exchange)
        finally:
            self.case_id = None
        return found, exchanges

    def read_cases(
        self, sent: list[tuple[Case, list[Exchange]]], *, observe: bool = True, always: bool = False
    ) -> list[Violation]:
        """One read-back for cases sent one after another whose fields do not overlap ("fold": the read-back
        holds every field each case set, a later request's value over an earlier one's): each case's fields
        are compared under its clause, the rest of the representation by the state oracle. `always`: read
        even when no case was accepted (after requests that must change nothing)."""
        found: list[Violation] = []
        judged = [
            (c, exs)
            for c, exs in sent
            if c.compare in GROUPED and self.reads_back and all(ex.status == 200 for ex in exs)
        ]
        if not judged and always and self.reads_back:
            got = self.read_settled()
            self.look(got)
            if got.problem in SERVER_FAULTS:
                found.append(self.judge_server_fault(got.exchange, got.problem))
        wants = {}
        for case, _ in judged:
            want: dict[str, Any] = {}
            for request in case.requests:
                want.update({k: v for k, v in request.body.json_value.items() if k in self.profile.fields})
            if not want:  # a body naming no field: the event as it was
                want = self.profile.to_wire(self.state.known())
            wants[case.id] = want
        outcome: dict[str, str] = {}
        if judged:
            last = judged[-1][1][-1]
            named = set().union(*(set(self.profile.to_store(w)) for w in wants.values()))
            self.case_id = sent[-1][0].id if observe else None  # the read follows the last case sent
            try:
                stored = self.stored_now(last, semantics.read_back_clause(judged[-1][0].clause_id), named)
                for i, (case, exs) in enumerate(judged):
                    clause_id, ex = semantics.read_back_clause(case.clause_id), exs[-1]
                    want = wants[case.id]
                    if i + 1 < len(judged) and self._wiped(stored, want):
                        # emptied after it: the cases after it, which did not name these fields, are to blame
                        clause_id, ex = semantics.PARTIAL, judged[-1][1][-1]
                    try:
                        if case.compare == "numbers":
                            for name, sent_value in want.items():
                                numbers = (stored.get(name), sent_value, ex)
                                self.record_check(lenient.NUMBERS, lenient.numbers_read_back, *numbers)
                        else:
                            absent = self.profile.absent_reads_as
                            args = (clause_id, stored, want, ex, absent)
                            # a value stored under a name the vendor itself uses for the field (sent by this
                            # case or a later one before the read): SHOULD level
                            group = [r for c, _ in sent for r in c.requests]
                            check = aliases.excusing(self.profile, group, checks.stored_fields_match)
                            self.record_check(clause_id, check, *args)
                        outcome[case.id] = "same"
                    except Violation as violation:
                        found.append(violation)
                        outcome[case.id] = "differs"
            except Violation as violation:
                found.append(violation)
                outcome = {case.id: "differs" for case, _ in judged}
            finally:
                self.case_id = None
        if observe:  # the read's outcome goes with the case it followed, if compared (a replay reads after it alone)
            last = sent[-1][0].id if judged and judged[-1][0] is sent[-1][0] else None
            seen = "differs" if "differs" in outcome.values() else "same"
            for case, exs in sent:
                self.behaviour[case.id] = behaviour.observe(exs[-1], seen if case.id == last else None)
        return found

    def _wiped(self, stored: dict[str, Any], want: dict[str, Any]) -> bool:
        """Some field of `want` reads back empty (absent, "", {}, null) where something else was sent."""
        shown = {**self.profile.absent_reads_as, **stored}
        empty = (None, "", {}, [])
        return any(shown.get(k) in empty and v not in empty for k, v in want.items() if not isinstance(v, bool))

    def _compare(self, case: Case, exchanges: list[Exchange]) -> str:
        clause_id = semantics.read_back_clause(case.clause_id)
        last = exchanges[-1]
        if case.compare == "foreign":
            return self._foreign_unchanged(last)
        named = set(self.profile.to_store(case.requests[-1].body.json_value))
        stored = self.stored_now(last, clause_id, named)
        again = self.submit(case.requests[-1], fresh=True)
        self.record_check(semantics.REPEATABLE, semantics.same_outcome, last, again.exchange)
        checks.raise_all(again.violations)
        after = self.stored_now(again.exchange, clause_id, named)
        self.record_check(
            semantics.REPEATABLE,
            checks.stored_fields_match,
            semantics.REPEATABLE,
            after,
            stored,
            again.exchange,
        )
        return "same"
