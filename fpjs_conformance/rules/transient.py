"""Transient answers: 409 not-ready clears under bounded retries; 429 is waited out, not judged."""

from __future__ import annotations

from collections.abc import Iterator

from fpjs_conformance.checks import Violation
from fpjs_conformance.model import Exchange
from fpjs_conformance.profile import Profile
from fpjs_conformance.registry import cases, check, clause
from fpjs_conformance.table import Case, Table

NOT_READY_CLEARS = clause("UE-TRANS-01", needs=("not_ready_event",))
RATE_LIMIT_WAITED = clause("UE-TRANS-02")


@check(RATE_LIMIT_WAITED, universal=True)
def not_rate_limited(ex: Exchange, profile: Profile) -> None:
    if ex.status in profile.role("rate_limited").statuses:
        raise Violation(RATE_LIMIT_WAITED, "an answer once the wait has passed (retries exhausted)", ex.received(), ex)


@cases
def not_ready(t: Table) -> Iterator[Case]:
    if t.events.not_ready:
        yield t.case("id/not-ready", NOT_READY_CLEARS, t.update(event_id=t.events.not_ready))
