"""Every exchange of a run, as it happened: the traffic behind the verdicts.

Each record is one exchange (the request as sent, redacted, and what came back), the request in
symbolic form (a replay rebuilds it with another target's key and events), why it was sent (a
preflight, a coverage case, a random example, a read-back, the restore, a replay, a proxied client's
request, a migration's) and the verdict of every clause it informed. The reports write it as HAR (`har`), and the
surface of the contract a run observed (`observed`) is read from it.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Any

from fpjs_conformance.model import READ, Events, Exchange

KINDS = ("preflight", "coverage", "random", "read-back", "restore", "replay", "proxy", "migrate")


@dataclass
class Record:
    exchange: Exchange
    kind: str
    version: str
    case: str | None = None  # the coverage case it was sent for
    started_at: float = 0.0  # time.time() when it went out
    request: dict[str, Any] = field(default_factory=dict)  # Request.to_record(): symbolic, replayable
    verdicts: list[dict[str, Any]] = field(default_factory=list)  # {"clause", "verdict", "check"}
    retried: bool = False  # a try that was sent again (a 429 or 409 waited out, a connection lost)
    cut: dict[str, dict[str, int]] | None = None  # "request"/"response" -> {"kept", "received"}: a body cut short

    @property
    def clauses(self) -> list[str]:
        return list(dict.fromkeys(v["clause"] for v in self.verdicts))


@dataclass
class Traffic:
    """The records of one run (every version), in the order the exchanges went out (requests in flight
    together: in the order they were handed over, `inflight`)."""

    enabled: bool = True
    records: list[Record] = field(default_factory=list)
    # Whose traffic it is (provenance.record per version, by version): what a replay checks the HAR by.
    provenance: dict[str, dict[str, Any]] = field(default_factory=dict)
    _by_exchange: dict[int, Record] = field(default_factory=dict, repr=False)

    def add(
        self, ex: Exchange, *, kind: str, events: Events | None = None, case: str | None = None, retried: bool = False
    ) -> None:
        if not self.enabled:
            return
        if ex.request.op == READ and kind not in ("restore", "proxy"):
            kind = "read-back"
        record = Record(ex, kind, ex.version, case, time.time() - ex.elapsed, ex.request.to_record(events))
        record.retried = retried
        self.records.append(record)
        self._by_exchange[id(ex)] = record

    def judged(self, ex: Exchange, verdicts: list[tuple[str, Any]]) -> None:
        """The verdicts an exchange got (possibly again, under more clauses)."""
        record = self._by_exchange.get(id(ex))
        if record is None:
            return
        for clause_id, violation in verdicts:
            entry = {"clause": clause_id, "verdict": "passed" if violation is None else "failed"}
            if violation is not None:
                entry["check"] = violation.check
            record.verdicts.append(entry)

    def cut(self, ex: Exchange, cut: dict[str, dict[str, int]]) -> None:
        """The bodies of an exchange its record keeps only the first bytes of, and how large they were."""
        record = self._by_exchange.get(id(ex))
        if record is not None:
            record.cut = cut

    def of(self, version: str) -> list[Record]:
        return [r for r in self.records if r.version == version]
