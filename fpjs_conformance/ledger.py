"""Per-clause tally of every verdict one version's run made: the data behind every report.

A violation at SHOULD level (it breaks only what rests on the suite's judgement, or it is a deviation the
vendor's own evidence makes plausible) is a warning, not a failure, unless the run is `--strict`: it
is tallied as `warned`, kept with the warnings, and does not fail the run.
"""

from __future__ import annotations

import bisect
from dataclasses import dataclass, field
from typing import Any

from fpjs_conformance.checks import Violation
from fpjs_conformance.model import READ, Exchange
from fpjs_conformance.sources import SHOULD

MAX_EXAMPLES = 5  # distinct failing examples kept per clause: the shortest
MAX_FAILURES = 100  # violations kept in discovery order (the self-test reads the first ones)


def exchange_record(ex: Exchange) -> dict[str, Any]:
    """An exchange as report data (already redacted by the transport)."""
    req = ex.request
    return {
        "request": {
            "summary": ex.describe_request(),
            "method": ex.method,
            "url": ex.url,
            "headers": dict(ex.headers),
            "body": req.body.describe(2000) if req.op != READ else "",
        },
        "response": {
            "status": ex.status,
            "headers": dict(ex.response_headers),
            "body": ex.body_excerpt(2000),
            "error": ex.error,
            "elapsed_s": round(ex.elapsed, 3),
            "attempts": ex.attempts,
        },
        "curl": ex.curl,
    }


def violation_record(v: Violation, test: str = "") -> dict[str, Any]:
    """A violation as data: what the reports write and the self-test and benchmarks read."""
    out: dict[str, Any] = {
        "clause": v.clause_id,
        "version": v.version,
        "check": v.check,
        "expected": v.expected,
        "received": v.received,
        "summary": v.summary(),
        "test": test,
        "level": v.level,
        "source": [s.as_record() for s in v.basis] if v.basis is not None else None,  # None: the clause's own
    }
    if v.deviation:
        out["deviation"] = v.deviation
    if v.differences:
        out["differences"] = list(v.differences)
    if v.exchange is not None:
        out.update(exchange_record(v.exchange))
    if v.cause is not None:
        out["cause"] = exchange_record(v.cause)
        out["curl"] = f"{v.cause.curl}; {out.get('curl', '')}"  # the likely cause first, then what failed
    return out


@dataclass
class ClauseTally:
    passed: int = 0
    failed: int = 0
    requests: int = 0  # responses that informed the clause
    skipped: list[str] = field(default_factory=list)
    examples: list[dict[str, Any]] = field(default_factory=list)
    tests: set[str] = field(default_factory=set)
    planned: int = 0  # coverage cases for the clause
    covered: int = 0  # of them, sent
    warned: int = 0  # SHOULD findings that did not fail the run
    warnings: list[dict[str, Any]] = field(default_factory=list)  # distinct ones, as records
    _seen: set = field(default_factory=set, repr=False)
    _sizes: list[int] = field(default_factory=list, repr=False)  # of `examples`, which are kept shortest first

    @property
    def exercised(self) -> bool:
        return bool(self.passed or self.failed or self.warned)


class Ledger:
    def __init__(self, version: str = "", *, strict: bool = False) -> None:
        self.version = version
        self.strict = strict  # --strict: a SHOULD finding fails like any other
        self.clauses: dict[str, ClauseTally] = {}
        self.failures: list[dict[str, Any]] = []  # in the order they were found
        self.warnings: list[dict[str, Any]] = []  # SHOULD findings that did not fail the run, in order
        self.current_test = ""

    def binds(self, violation: Violation) -> bool:
        """Whether a violation fails the run: always under --strict, else unless it is a SHOULD finding."""
        return self.strict or violation.level != SHOULD

    def tally(self, clause_id: str) -> ClauseTally:
        tally = self.clauses.setdefault(clause_id, ClauseTally())
        if self.current_test:
            tally.tests.add(self.current_test)
        return tally

    def record(self, verdicts: list[tuple[str, Violation | None]]) -> None:
        """The verdicts of one response: each clause counts the request once, and passes or fails."""
        for clause_id in dict.fromkeys(c for c, _ in verdicts):
            self.tally(clause_id).requests += 1
        for clause_id, violation in verdicts:
            if violation is None:
                self.passed(clause_id)
            else:
                self.failed(violation)

    def passed(self, clause_id: str) -> None:
        self.tally(clause_id).passed += 1

    def failed(self, violation: Violation) -> None:
        if getattr(violation, "tallied", False):
            return
        violation.tallied = True  # type: ignore[attr-defined]
        violation.binding = self.binds(violation)
        tally = self.tally(violation.clause_id)
        if violation.binding:
            tally.failed += 1
        else:
            tally.warned += 1
        key = violation.key()
        if key in tally._seen:
            return
        tally._seen.add(key)
        record = violation_record(violation, self.current_test)
        size = violation.size()  # the shortest examples are kept, the shortest first: the one a reader sees
        if violation.binding:
            where = bisect.bisect_right(tally._sizes, size)
            if where < MAX_EXAMPLES:
                tally._sizes.insert(where, size)
                tally.examples.insert(where, record)
                del tally._sizes[MAX_EXAMPLES:], tally.examples[MAX_EXAMPLES:]
            if len(self.failures) < MAX_FAILURES:
                self.failures.append(record)
        else:  # a SHOULD finding without --strict: a warning, kept apart
            if len(tally.warnings) < MAX_EXAMPLES:
                tally.warnings.append(record)
            if len(self.warnings) < MAX_FAILURES:
                self.warnings.append(record)

    def skipped(self, clause_id: str, reason: str) -> None:
        tally = self.tally(clause_id)
        if reason not in tally.skipped:
            tally.skipped.append(reason)

    def violations_of(self, clause_id: str) -> list[dict[str, Any]]:
        tally = self.clauses.get(clause_id)
        return list(tally.examples) if tally else []
