"""The target under test as the contract tests see it: send, predict, judge, read back."""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import Any

from contracts import checks, oracle
from contracts.checks import Expectation, Violation
from contracts.ledger import Ledger
from contracts.model import HEADER_KEY, QUERY_KEY, Body, Credentials, Exchange, Request
from contracts.transport import Transport

PROBE_BODY = {"linkedId": "fpjs-conformance-suite"}
RESTORABLE = ("linkedId", "tag", "suspect")
BOTH_SCHEMES = (HEADER_KEY, QUERY_KEY)


@dataclass(repr=False)
class Target:
    base_url: str
    events: oracle.Events
    transport: Transport
    ledger: Ledger = field(default_factory=Ledger)
    has_wrong_region_key: bool = False
    embedded: bool = False  # the bundled reference server, started for this run
    _reads_back: bool | None = None
    _accepted: set[tuple] = field(default_factory=set)  # fingerprints of updates answered 200

    def __repr__(self) -> str:  # shown in Hypothesis falsifying examples: no secrets here
        return f"Target({self.base_url})"

    # -- requests ---------------------------------------------------------------------------------
    def update(
        self,
        body: Body | dict | None = None,
        *,
        request_id: str | None = None,
        credentials: Credentials = HEADER_KEY,
        **extra: Any,
    ) -> Request:
        """A PUT to the designated event; by default a small valid update with the header key."""
        if body is None:
            body = Body.of(dict(PROBE_BODY))
        elif not isinstance(body, Body):
            body = Body.of(body)
        return Request(request_id or self.events.live, credentials, body, **extra)

    def send(self, request: Request) -> Exchange:
        return self.transport.send(request)

    def expect(self, request: Request, clause_id: str = "UE-BODY-01") -> Expectation:
        return oracle.expect(request, self.events, clause_id)

    def judge(self, ex: Exchange, expectation: Expectation) -> None:
        """Run every check on `ex`, tally each clause, raise the first violation."""
        for clause_id, check in checks.checks_for(expectation):
            try:
                check(ex)
            except Violation as violation:
                self.ledger.failed(violation)
                raise
            self.ledger.passed(clause_id)

    def verify(self, request: Request, clause_id: str = "UE-BODY-01") -> Exchange:
        """Send `request` and judge the answer against what the contract allows.

        An update identical to one accepted earlier in the run must be accepted again: if it is
        not, the repeat clause (UE-SEM-04) is the one broken, whichever test repeated it.
        """
        expectation = self.expect(request, clause_id)
        if request.fingerprint() in self._accepted:
            expectation = replace(
                expectation,
                clause_id="UE-SEM-04",
                refusals={},
                why="an identical update was accepted earlier in this run",
            )
        ex = self.send(request)
        self.judge(ex, expectation)
        if ex.status == 200 and request.method == "PUT":
            self._accepted.add(request.fingerprint())
        return ex

    def verify_both_schemes(
        self, body: Body | dict | None = None, clause_id: str = "UE-BODY-01", **extra: Any
    ) -> list[Exchange]:
        """The same request with the key in the header, then in the query parameter.

        Both schemes are declared for the operation, so no answer may depend on which one
        carried the key: every generated body and id goes with both.
        """
        return [self.verify(self.update(body, credentials=creds, **extra), clause_id) for creds in BOTH_SCHEMES]

    # -- reading back -----------------------------------------------------------------------------
    def read_back(self, request_id: str | None = None) -> dict[str, Any] | None:
        """`products.identification.data` of the event, or None where the target serves no GET."""
        ex = self.send(Request(request_id or self.events.live, method="GET"))
        try:
            checks.transport_completed(ex)
        except Violation as violation:
            self.ledger.failed(violation)
            raise
        try:
            data = ex.json()["products"]["identification"]["data"]
        except (ValueError, KeyError, TypeError, UnicodeDecodeError):
            return None
        return data if ex.status == 200 and isinstance(data, dict) else None

    @property
    def reads_back(self) -> bool:
        """Whether the target serves GET /events/{request_id} (asked once)."""
        if self._reads_back is None:
            self._reads_back = self.read_back() is not None
        return self._reads_back

    # -- leaving data as found --------------------------------------------------------------------
    def snapshot(self) -> dict[str, Any] | None:
        """The designated event's updatable fields before the run (None: cannot be read)."""
        try:
            data = self.read_back()
        except Violation:
            return None
        if data is None:
            return None
        return {name: data[name] for name in RESTORABLE if name in data}

    def restore(self, original: dict[str, Any] | None) -> dict[str, Any]:
        """Write `original` back, read again, and say how it went (for the summary)."""
        if original is None:
            return {"status": "not restored", "why": "the target serves no GET /events/{request_id} to read it first"}
        body = dict(original)
        notes = []
        body.setdefault("tag", {})
        if "suspect" not in body:
            body["suspect"] = False
            notes.append("suspect was unset; written back as false")
        if "linkedId" not in body:
            notes.append("linkedId was unset; the API cannot unset it")
        ex = self.send(self.update(body))
        if ex.status != 200:
            return {"status": "could not restore", "why": f"the write-back was answered {ex.received()}"}
        try:
            now = self.read_back() or {}
        except Violation as violation:
            return {"status": "could not restore", "why": f"reading it back failed: {violation.received}"}
        wrong = sorted(k for k in body if now.get(k) != body[k])
        if wrong:
            return {"status": "could not restore", "why": f"read back differs in {', '.join(wrong)}"}
        unset_changed = "linkedId" not in original and "linkedId" in now
        status = "partly restored" if unset_changed else "restored"
        return {"status": status, "why": "; ".join(notes)}
