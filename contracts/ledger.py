"""Per-clause tally of every judgement the run made: the data behind every report."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from contracts.checks import Violation
from contracts.model import Exchange

MAX_EXAMPLES = 5  # failing examples kept per clause


def snapshot(ex: Exchange) -> dict[str, Any]:
    """An exchange as report data (already redacted by the transport)."""
    req = ex.request
    return {
        "request": {
            "summary": req.describe(),
            "method": req.method,
            "url": ex.url,
            "headers": dict(ex.headers),
            "body": req.body.describe(2000) if req.method != "GET" else "",
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


@dataclass
class ClauseTally:
    passed: int = 0
    failed: int = 0
    skipped: list[str] = field(default_factory=list)
    examples: list[dict[str, Any]] = field(default_factory=list)
    tests: set[str] = field(default_factory=set)


class Ledger:
    def __init__(self) -> None:
        self.clauses: dict[str, ClauseTally] = {}
        self.current_test = ""

    def tally(self, clause_id: str) -> ClauseTally:
        tally = self.clauses.setdefault(clause_id, ClauseTally())
        if self.current_test:
            tally.tests.add(self.current_test)
        return tally

    def passed(self, clause_id: str) -> None:
        self.tally(clause_id).passed += 1

    def failed(self, violation: Violation) -> None:
        violation.tallied = True  # type: ignore[attr-defined]  # the gate tallies the rest when a test fails
        tally = self.tally(violation.clause_id)
        tally.failed += 1
        if len(tally.examples) < MAX_EXAMPLES:
            entry = {
                "summary": violation.summary(),
                "expected": violation.expected,
                "received": violation.received,
                "check": violation.check,
                "test": self.current_test,
            }
            if violation.exchange is not None:
                entry.update(snapshot(violation.exchange))
            tally.examples.append(entry)

    def skipped(self, clause_id: str, reason: str) -> None:
        tally = self.tally(clause_id)
        if reason not in tally.skipped:
            tally.skipped.append(reason)
