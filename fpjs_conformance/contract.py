"""What the contract test of a clause does: take the coverage table's verdict, explore, settle.

    judge_clause(target, "UE-BODY-02")

reckons (fails with what the coverage table found for the clause), explores (its rule's random
examples within the budget, `fpjs_conformance.explore`), and settles (skips, naming why, when
nothing informed the clause or the budget cut its cases). What a clause needs, what it explores and
how each example is sent come from its rule (`fpjs_conformance.rules`): one test covers every
clause of the catalogue.
"""

from __future__ import annotations

from typing import Any

import pytest

from fpjs_conformance import checks, registry
from fpjs_conformance.explore import explore, submit_and_judge
from fpjs_conformance.target import Target

__all__ = ["judge_clause", "reckon", "settle"]
SHOWN = 3  # violations quoted in one failure; the reports keep the rest


def judge_clause(target: Target, clause_id: str) -> None:
    rule = registry.get(clause_id)
    for need in rule.needs:
        if not _has(target, need):
            pytest.skip(registry.NEEDS[need])
    reckon(target, clause_id)
    if rule.exploring is not None:
        strategy = rule.exploring.strategy(target.table())
        if strategy is not None:
            explore(target, clause_id, strategy, _step(rule.exploring.step, clause_id), weight=rule.exploring.weight)
    settle(target, clause_id)


def _has(target: Target, need: str) -> Any:
    return {
        "wrong_region_key": target.has_wrong_region_key,
        "expired_event": target.events.expired,
        "not_ready_event": target.events.not_ready,
        "foreign_event": target.events.foreign,
        "read_back": target.reads_back,
    }[need]


def _step(kind: str, clause_id: str):
    if kind == "also":
        return lambda t, request: checks.raise_all(t.submit(request, also=(clause_id,)).violations)
    if kind == "case":
        return lambda t, case: checks.raise_all(t.run_case(case, observe=False))
    return submit_and_judge


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
    """Skip with the reason when the clause was not judged as planned: the budget cut its coverage cases,
    or nothing at all informed it. A test passes only when its clause was exercised as designed."""
    tally = target.ledger.clauses.get(clause_id)
    if target.timed_out:
        pytest.skip(f"not judged: {target.timed_out}")
    if target.unreachable and not (tally and tally.exercised):
        pytest.fail(f"{clause_id} was not exercised: {target.unreachable}", pytrace=False)
    if tally is not None and tally.covered < tally.planned:
        cut = tally.planned - tally.covered
        pytest.skip(f"the request budget was spent before {cut} of {clause_id}'s {tally.planned} coverage cases")
    if tally is not None and tally.exercised:
        return
    pytest.skip(f"{clause_id} was not exercised: no request of this run informed it")
