"""The target under test as the contract tests see it: send, predict, judge, read back, leave as found.

One `Target` per API version. Every response is judged by every clause it informs and recorded in
the version's ledger. A request already sent in this run is not sent again: its verdicts are
replayed (a Hypothesis example that repeats one, or a shrink step, costs nothing). Steps whose
point is the event's state afterwards (read-backs, sequences, repeats) always go to the wire.
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass, field
from typing import Any

from fpjs_conformance import behaviour, checks, coverage, oracle
from fpjs_conformance.checks import Expectation, Verdicts, Violation
from fpjs_conformance.coverage import Case
from fpjs_conformance.ledger import Ledger
from fpjs_conformance.model import NO_KEY, READ, VALID, Body, Credentials, Exchange, Request
from fpjs_conformance.profile import Profile
from fpjs_conformance.transport import BudgetSpent, Transport


class SetupProblem(Exception):
    """The run cannot judge the target: a designated event or a key is not usable. Not a server fault."""


class TargetUnreachable(Exception):
    """Requests keep failing at the transport: the run ends with one line instead of piling up timeouts."""


UNKNOWN = object()  # a field's stored value after a write the server should have refused


def _canonical(value: Any) -> str:
    return json.dumps(value, sort_keys=True, default=str)


@dataclass
class EventState:
    """The designated event as this run knows it, shared by every version's target (they update the
    same event): its fields before the run and what the run last left in them, by store name."""

    original: dict[str, Any] | None = None
    written: dict[str, Any] = field(default_factory=dict)
    # What the read-back last showed since the run's last accepted write: how the server stored it,
    # which may differ from what was written (a fault judged elsewhere, not another writer's doing).
    seen: dict[str, Any] | None = None
    # How the server stores what this run wrote, as read back: (field, value written) -> value read.
    stored_as: dict[tuple[str, str], Any] = field(default_factory=dict)

    def remember_storage(self, seen: dict[str, Any]) -> None:
        self.seen = seen
        for k, wrote in self.written.items():
            if wrote is not UNKNOWN:
                self.stored_as[k, _canonical(wrote)] = seen.get(k)

    def expected(self, k: str) -> Any:
        """What the read-back should show of field `k` if nobody else wrote it since this run did."""
        wrote = self.written.get(k)
        if wrote is UNKNOWN:
            return UNKNOWN
        return self.stored_as.get((k, _canonical(wrote)), wrote)

    read: bool = False  # the original was read (or could not be)
    wrote: bool = False  # an update of it was accepted


@dataclass
class ReadBack:
    """What reading the designated event back gave: its stored fields, or why there are none."""

    stored: dict[str, Any] | None
    exchange: Exchange | None = None
    problem: str = ""  # "", "no-route", "not-found", "refused", "garbage", and the server's faults below
    why: str = ""


# Read-back failures that are the server's fault (judged by these checks), never the setup's.
SERVER_FAULTS = {
    "transport": checks.transport_completed,
    "rate-limited": checks.not_rate_limited,
    "server-error": checks.no_server_error,
}


@dataclass(repr=False)
class Target:
    profile: Profile
    base_url: str  # as shown: no userinfo
    events: oracle.Events
    transport: Transport
    ledger: Ledger
    has_wrong_region_key: bool = False
    embedded: bool = False  # the bundled reference server, started for this run
    no_restore: bool = False
    reads_back: bool = False
    state: EventState = field(default_factory=EventState)  # shared with the other versions' targets
    behaviour: dict[str, dict[str, Any]] = field(default_factory=dict)
    found: dict[str, list[Violation]] = field(default_factory=dict)  # clause -> violations, in order
    first_violation: float | None = None  # time.monotonic() of the first one
    unreachable: str | None = None  # why this version's target stopped answering: nothing more is sent
    exploration: Any = None  # the run's Exploration settings (explore.py)
    unexplored: set[str] = field(default_factory=set)  # selected clauses whose random examples are still to come
    _cases: list[Case] | None = None
    _sent: dict[tuple, Verdicts] = field(default_factory=dict)
    _accepted: set[tuple] = field(default_factory=set)

    def __repr__(self) -> str:  # shown in Hypothesis examples and tracebacks: no internals, no secrets
        return f"Target({self.profile.version} {self.base_url})"

    @property
    def version(self) -> str:
        return self.profile.version

    # -- building requests ------------------------------------------------------------------------
    def valid_key(self, place: str | None = None) -> Credentials:
        return Credentials.of(**{place or self.profile.key_places[0].name: VALID})

    def update(
        self,
        body: Body | dict | None = None,
        *,
        event_id: str | None = None,
        credentials: Credentials | None = None,
        **extra: Any,
    ) -> Request:
        """An update of the designated event; by default a small valid one with the key in its first place."""
        if body is None:
            body = Body.of(coverage.probe_body(self.profile))
        elif not isinstance(body, Body):
            body = Body.of(body)
        creds = self.valid_key() if credentials is None else credentials
        return Request(event_id or self.events.live, creds, body, **extra)

    # -- sending and judging ----------------------------------------------------------------------
    def expect(self, request: Request, also: tuple[str, ...] = ()) -> list[Expectation]:
        expectations = oracle.expect(self.profile, request, self.events, also=also)
        if request.fingerprint() in self._accepted:
            why = "an identical update was accepted earlier in this run"
            expectations.append(Expectation("UE-SEM-04", why, allowed={200: None}, defer=frozenset({429})))
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
        result = Verdicts(ex, checks.judge(ex, self.profile, self.expect(request, also)))
        self._record(result)
        if ex.status == 200 and request.op != READ:
            self._accepted.add(key)
            if request.event_id == self.events.live and isinstance(request.body.json_value, dict):
                self.state.wrote = True
                fields = self._to_store(request.body.json_value)
                if result.violations:  # accepted what it should have refused: what it stored is anyone's guess
                    fields = dict.fromkeys(fields, UNKNOWN)
                self.state.written.update(fields)
                self.state.seen = None
        self._sent[key] = result
        if self.transport.unreachable:
            self.unreachable = (
                f"{self.transport.failures} requests got no usable answer from {self.base_url} "
                f"(last: {ex.received()[:200]}); nothing more is sent to it"
            )
            raise TargetUnreachable(self.unreachable)
        return result

    def send(self, request: Request, *, reserved: bool = False) -> Exchange:
        """The transport's send; an earlier answer that left stray bytes on the connection is blamed for them."""
        ex = self.transport.send(request, reserved=reserved)
        if ex.stray_after is not None:
            stray = Violation(
                "UE-TRANSPORT-01",
                "nothing after the end of the answer",
                "stray bytes after the answer broke the next read on the connection",
                ex.stray_after,
            )
            stray.check = "transport_completed"
            self._record(Verdicts(ex.stray_after, [("UE-TRANSPORT-01", stray)]))
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
        self.ledger.record(result.verdicts)
        if result.violations and self.first_violation is None:
            self.first_violation = time.monotonic()
        for violation in result.violations:
            self.found.setdefault(violation.clause_id, []).append(violation)

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
            self.ledger.tally(violation.clause_id).requests += 1
            self._record(Verdicts(violation.exchange, [(violation.clause_id, violation)]))
            raise
        self.ledger.tally(clause_id).requests += 1
        self.ledger.passed(clause_id)

    def _to_store(self, fields: dict[str, Any]) -> dict[str, Any]:
        return {self.profile.field_names[k]: v for k, v in fields.items() if k in self.profile.field_names}

    def _to_wire(self, fields: dict[str, Any]) -> dict[str, Any]:
        wire = {store: name for name, store in self.profile.field_names.items()}
        return {wire[k]: v for k, v in fields.items() if k in wire}

    # -- reading back -----------------------------------------------------------------------------
    def read_back(self, event_id: str | None = None, place: str | None = None, *, reserved: bool = False) -> ReadBack:
        """The event's fields as the read-back shows them (only transport failures are judged here)."""
        request = Request(event_id or self.events.live, self.valid_key(place), op=READ)
        ex = self.send(request, reserved=reserved)
        if ex.error:
            return ReadBack(None, ex, "transport", ex.error)
        if ex.status == 429:
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
            if request.event_id == self.events.live:
                self.state.remember_storage(self._to_store({**self.profile.absent_reads_as, **stored}))
            return ReadBack(stored, ex)
        if ex.status in (401, 403):
            return ReadBack(None, ex, "refused", f"{ex.status} {ex.error_code() or ''}".strip())
        if ex.status == 404 and ex.error_code() == self.profile.code("unknown_event"):
            return ReadBack(None, ex, "not-found", f"404 {ex.error_code()}")
        return ReadBack(None, ex, "no-route", f"{ex.status} {ex.media_type or ''}".strip())

    def stored_now(self, ex: Exchange, clause_id: str) -> dict[str, Any]:
        """Read back after `ex`; a failed read-back is a violation of `clause_id` (it needs the read-back)."""
        got = self.read_back()
        if got.problem in SERVER_FAULTS:  # the read-back's own fault, under its own clause
            raise self.judge_failed_read(got)
        if got.stored is None:
            violation = Violation(clause_id, "the event read back after the update", f"read-back: {got.why}", ex)
            violation.check = "stored_fields_match"
            self._record(Verdicts(ex, [(clause_id, violation)]))
            raise violation
        return got.stored

    def judge_failed_read(self, got: ReadBack) -> Violation:
        """Record a read-back that failed by the server's fault under its clause; the violation."""
        check = SERVER_FAULTS[got.problem]
        verdict = checks.verdict(check.clause_id, check, got.exchange, self.profile)
        self._record(Verdicts(got.exchange, [verdict]))
        return verdict[1]

    # -- the coverage table -----------------------------------------------------------------------
    def cases(self) -> list[Case]:
        """The coverage table for this version and these events (built once)."""
        if self._cases is None:
            self._cases = coverage.Table(self.profile, self.events, wrong_region=self.has_wrong_region_key).cases()
        return self._cases

    def run_case(self, case: Case, *, observe: bool = True) -> list[Violation]:
        """Send a coverage case, judge every answer, compare the read-back if the case asks; the violations."""
        found: list[Violation] = []
        exchanges: list[Exchange] = []
        state_matters = case.needs_read_back and self.reads_back
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
        if observe:
            self.behaviour[case.id] = behaviour.observe(exchanges[-1], read_back)
        return found

    def _compare(self, case: Case, exchanges: list[Exchange]) -> str:
        clause_id = case.clause_id if case.clause_id.startswith("UE-SEM") else "UE-SEM-01"
        last = exchanges[-1]
        if case.compare == "repeat":
            stored = self.stored_now(last, clause_id)
            again = self.submit(case.requests[-1], fresh=True)
            self.record_check("UE-SEM-04", checks.same_outcome, last, again.exchange)
            checks.raise_all(again.violations)
            after = self.stored_now(again.exchange, clause_id)
            self.record_check("UE-SEM-04", checks.stored_fields_match, "UE-SEM-04", after, stored, again.exchange)
            return "same"
        want: dict[str, Any] = {}
        for request in case.requests:
            want.update({k: v for k, v in request.body.json_value.items() if k in self.profile.fields})
        stored = self.stored_now(last, clause_id)
        self.record_check(
            clause_id, checks.stored_fields_match, clause_id, stored, want, last, self.profile.absent_reads_as
        )
        return "same"

    def cover(self, selected: set[str], stop_at_first: bool = False) -> dict[str, Any]:
        """Run the coverage table's cases for the selected clauses; the plan and what was left out.

        Cases go round-robin over their clauses, so a budget too small for the whole table still
        exercises as many clauses as it can.
        """
        self.unexplored = set(selected)
        by_clause: dict[str, list[Case]] = {}
        for case in self.cases():
            if case.clause_id in selected:
                by_clause.setdefault(case.clause_id, []).append(case)
        for clause_id, cases in by_clause.items():
            self.ledger.tally(clause_id).planned += len(cases)
        order = _round_robin(list(by_clause.values()))
        sent = 0
        for case in order:
            try:
                found = self.run_case(case)
            except BudgetSpent:
                break
            self.ledger.tally(case.clause_id).covered += 1
            sent += 1
            if found and stop_at_first:
                break
        return {"cases": len(order), "sent": sent, "left_out": [c.id for c in order[sent:]]}

    # -- before the run: is the designated event usable? --------------------------------------------
    def preflight(self) -> None:
        """Check the target answers and the designated events are usable, before judging anything.

        Raises SetupProblem with one line when they are not; records the original values to restore.
        """
        first = self.submit(self.update(credentials=NO_KEY)).exchange
        if first.error:
            hint = " (a private CA? pass --ca-bundle)" if "certificate" in first.error.lower() else ""
            raise TargetUnreachable(f"UE-TRANSPORT-01: cannot reach {self.base_url}: {first.error}{hint}")
        got = self._read_designated()
        if got.problem in SERVER_FAULTS:  # the server's fault, not the setup's
            self.judge_failed_read(got)
            raise TargetUnreachable(f"cannot read the designated event back: {got.why}")
        self.reads_back = got.stored is not None
        if got.stored is not None and not self.state.read:
            self.state.original = self._to_store(got.stored)
            self.state.written = self._to_store({**self.profile.absent_reads_as, **got.stored})
        elif got.problem == "not-found":
            raise SetupProblem(f"designated event {self.events.live} not found ({got.why})")
        elif got.problem == "refused":
            raise SetupProblem(f"the API key was refused reading the designated event ({got.why})")
        elif not self.no_restore and not self.state.read:
            raise SetupProblem(
                f"cannot read the designated event {self.events.live} first ({_READ_PROBLEMS[got.problem]}: {got.why}),"
                " so it could not be restored: pass --no-restore to let the suite change it anyway"
            )
        self.state.read = True
        self._probe_update(got.stored)
        if self.events.expired and self.reads_back:
            expired = self.read_back(self.events.expired)
            days = self._age_days(expired.stored)
            if days is not None and 0 <= days <= self.profile.update_window_days:
                raise SetupProblem(
                    f"--expired-request-id {self.events.expired} is only {days:.1f} days old: {self.version} still "
                    f"updates it (its window is {self.profile.update_window_days} days)"
                )

    def _read_designated(self) -> ReadBack:
        got = ReadBack(None)
        for place in self.profile.key_places:  # the key in any place it works in
            got = self.read_back(place=place.name)
            if got.problem != "refused":
                break
        return got

    def _probe_update(self, stored: dict[str, Any] | None) -> None:
        """A harmless update (a current value written back): is the event updatable at all? The answer
        decides; the event's age from the read-back only explains a refusal (a mock's example event may
        carry any timestamp)."""
        body = self._harmless_body()
        answers = []
        for place in self.profile.key_places:
            request = self.update(body, credentials=self.valid_key(place.name))
            answers.append((request, self.send(request)))
            if answers[-1][1].status not in (401, 403):
                break
        request, ex = answers[-1]
        code = ex.error_code()
        if ex.status in (401, 403):
            raise SetupProblem(f"the API key was refused updating the designated event ({ex.status} {code})")
        age = self._age_note(stored)
        if ex.status == 404:
            raise SetupProblem(f"designated event {self.events.live} not found ({ex.status} {code}){age}")
        if ex.status == 409 and code == self.profile.code("not_ready"):
            raise SetupProblem(f"designated event {self.events.live} is not updatable yet ({ex.status} {code})")
        if ex.status == 400 and code not in self.profile.codes_by_status.get(400, ()):
            raise SetupProblem(f"designated event {self.events.live} is not updatable ({ex.status} {code}){age}")
        for sent, answer in answers:  # usable: the probe counts like any other update
            self.judge_sent(sent, answer)

    def _age_note(self, stored: dict[str, Any] | None) -> str:
        days = self._age_days(stored)
        window = self.profile.update_window_days
        if days is None or days <= window:
            return ""
        return (
            f": it is past its update window ({days:.1f} days old; {self.version} updates events up to "
            f"{window} days old), designate a fresh event"
        )

    def _age_days(self, stored: dict[str, Any] | None) -> float | None:
        millis = (stored or {}).get(self.profile.time_field)
        if not isinstance(millis, int | float) or isinstance(millis, bool):
            return None
        return (time.time() - millis / 1000) / 86400

    def _harmless_body(self) -> dict[str, Any]:
        """A current value written back, marked (an extra property) so that no later case repeats it."""
        now = self._to_wire({k: v for k, v in self.state.written.items() if v is not UNKNOWN})
        for name in self.profile.fields:
            if name in now:
                return {name: now[name], coverage.MARKER: "preflight"}
        return {**coverage.probe_body(self.profile), coverage.MARKER: "preflight"}

    # -- after the run: leave the event as found ----------------------------------------------------
    def restore(self) -> dict[str, Any]:
        """Write the original values back and read again; say how it went. Never claims more than it saw."""
        state = self.state
        if self.no_restore:
            return {"status": "off", "why": "--no-restore"}
        if not state.wrote:
            return {"status": "unchanged", "why": "no update of it was accepted"}
        if state.original is None:
            return {"status": "not restored", "why": "the event could not be read before the run"}
        try:
            last_seen = state.seen
            expected = {k: state.expected(k) for k in self.profile.field_names.values()}  # before this read
            now = self.read_back(reserved=True)
            if now.stored is not None:
                seen = self._to_store({**self.profile.absent_reads_as, **now.stored})
                changed = sorted(
                    k
                    for k in self.profile.field_names.values()
                    if expected[k] is not UNKNOWN
                    and not checks.same_json(seen.get(k), expected[k])
                    and (last_seen is None or not checks.same_json(seen.get(k), last_seen.get(k)))
                )
                if changed:
                    return {
                        "status": "concurrent writer",
                        "why": f"{', '.join(self._to_wire(dict.fromkeys(changed)))} changed by someone else during the "
                        "run; not restored (each concurrent run needs its own event)",
                    }
            body = self._to_wire(state.original)
            notes = [f"{k} was unset; the API cannot unset it" for k in self.profile.fields if k not in body]
            ex = self.send(self.update(body), reserved=True)
            if ex.status != 200:
                return {"status": "could not restore", "why": f"the write-back was answered {ex.received()}"}
            state.written.update(state.original)
            after = self.read_back(reserved=True)
        except BudgetSpent:  # pragma: no cover - the reserve covers these three requests
            return {"status": "could not restore", "why": "the request budget was spent"}
        if after.stored is None:
            return {"status": "could not restore", "why": f"reading it back failed: {after.why}"}
        shown = {**self.profile.absent_reads_as, **after.stored}
        wrong = sorted(k for k in body if not checks.same_json(shown.get(k), body[k]))
        if wrong:
            return {"status": "could not restore", "why": f"read back differs in {', '.join(wrong)}"}
        unset_changed = [k for k in self.profile.fields if k not in body and k in after.stored]
        return {"status": "partly restored" if unset_changed else "restored", "why": "; ".join(notes)}


_READ_PROBLEMS = {
    "no-route": "the target serves no read-back",
    "garbage": "the read-back answered garbage",
    "": "unknown",
}


def _round_robin(groups: list[list[Case]]) -> list[Case]:
    out: list[Case] = []
    for i in range(max((len(g) for g in groups), default=0)):
        out += [g[i] for g in groups if i < len(g)]
    return out
