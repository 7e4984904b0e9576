"""What a contract test does with its clause: take the coverage table's verdict, explore, settle.

    reckon(target, "UE-BODY-02")            fail with what the coverage table found for the clause
    explore(target, "UE-BODY-02", requests) random examples within the budget (fpjs_conformance.explore)
    settle(target, "UE-BODY-02")            skip, naming why, when nothing informed the clause

Every response is judged by every clause it informs wherever it was sent: a test fails with the
violations of its own clause (from the table) or with whatever its own examples broke.
"""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import strategies as st

from fpjs_conformance import checks
from fpjs_conformance.coverage import Case
from fpjs_conformance.explore import explore
from fpjs_conformance.model import Body, Credentials, Request
from fpjs_conformance.target import Target

__all__ = ["explore", "reckon", "require", "run_case", "settle", "updates"]
SHOWN = 3  # violations quoted in one failure; the reports keep the rest


def reckon(target: Target, clause_id: str) -> None:
    """Fail with the violations the coverage table recorded for `clause_id` (distinct ones first)."""
    distinct: dict[tuple, checks.Violation] = {}
    for violation in target.found.get(clause_id, []):
        distinct.setdefault(violation.key(), violation)
    found = list(distinct.values())
    if found:
        shown = found[:SHOWN]
        if len(found) > SHOWN:
            shown[-1].add_note(f"... and {len(found) - SHOWN} more violation(s) of {clause_id}: see the reports")
        checks.raise_all(shown)


def settle(target: Target, clause_id: str) -> None:
    """Skip with the reason when nothing at all informed the clause (the budget, or nothing to send)."""
    tally = target.ledger.clauses.get(clause_id)
    if tally is not None and tally.exercised:
        return
    if target.unreachable:
        pytest.fail(f"{clause_id} was not exercised: {target.unreachable}", pytrace=False)
    if tally is not None and tally.planned and not tally.covered:
        pytest.skip(f"the request budget was spent before {clause_id}'s cases were sent")
    pytest.skip(f"{clause_id} was not exercised: no request of this run informed it")


def require(ok: Any, why: str) -> None:
    if not ok:
        pytest.skip(why)


def updates(
    target: Target,
    bodies: st.SearchStrategy,
    credentials: st.SearchStrategy | None = None,
    event_ids: st.SearchStrategy | None = None,
    **extra: Any,
) -> st.SearchStrategy[Request]:
    """Updates of the designated event (or of `event_ids`) with these bodies and credentials."""
    from fpjs_conformance import strategies

    creds = credentials if credentials is not None else strategies.valid_credentials(target.profile)
    ids = event_ids if event_ids is not None else st.just(target.events.live)
    extras = {k: (v if isinstance(v, st.SearchStrategy) else st.just(v)) for k, v in extra.items()}

    def build(body: Body | dict, cred: Credentials, event_id: str, **kw: Any) -> Request:
        return target.update(body, credentials=cred, event_id=event_id, **kw)

    return st.builds(build, bodies, creds, ids, **extras)


def run_case(target: Target, case: Case) -> None:
    """An exploration step for sequences (send, then read back): run it like a coverage case, fail on what it broke."""
    checks.raise_all(target.run_case(case, observe=False))
