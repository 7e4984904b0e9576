"""What the contract test of a clause does: report the verdict its version reached, settle.

    explore_selected(target, ["UE-AUTH-03", ...])   # once per version, before any test reports
    judge_clause(target, "UE-BODY-02")              # the test of one clause

Verdicts are settled before any test reports. One response informs every clause it can (a random
example of UE-ID-01 may break UE-AUTH-08), so a clause's verdict is complete only when every
request of its version has been sent. The coverage table and every selected clause's random
examples (`explore_selected`) therefore run when a version's target is prepared, in the first
test's setup; each test then only reports its own clause: the exploration failure Hypothesis shrank
for it, else what any request of the run found against it (`reckon`), else why it was not judged
(`settle`). So a test fails for its own clause and only for it, whichever request found the
violation and whenever; a violation found after the tests (the restore's read-back) is on the
reports and fails the run's exit status.

An example is a failure (and shrunk) only for the clause it explores; what it breaks elsewhere is
recorded under those clauses. What a clause needs, what it explores and how each example is sent
come from its rule (`fpjs_conformance.rules`): one test covers every clause of the catalogue.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

import pytest

from fpjs_conformance import checks, registry
from fpjs_conformance.explore import explore
from fpjs_conformance.target import Target, TargetUnreachable
from fpjs_conformance.transport import RunTimedOut

__all__ = ["explore_selected", "judge_clause", "reckon", "settle"]
SHOWN = 3  # violations quoted in one failure; the reports keep the rest


def judge_clause(target: Target, clause_id: str) -> None:
    rule = registry.get(clause_id)
    for need in rule.needs:
        if not _has(target, need):
            pytest.skip(registry.NEEDS[need])
    # a target prepared without `explore_selected` (or a clause added late); none after -x stopped it
    if clause_id in target.unexplored and not target.stopped_early:
        explore_selected(target, [clause_id])
    failure = target.explored.pop(clause_id, None)
    if failure is not None:
        raise failure
    reckon(target, clause_id)
    settle(target, clause_id)


def explore_selected(target: Target, clause_ids: Iterable[str], tests: Mapping[str, str] | None = None) -> None:
    """The random examples of each clause in `clause_ids`, in order, within the budget. A failure Hypothesis
    found and shrank for a clause is kept for its test (`target.explored`); a clause the table already
    failed is not explored (its share of the budget goes to the others). `tests` names each clause's
    test, for the failure records. Stops at the run's deadline; a target that stops answering raises."""
    for clause_id in clause_ids:
        if clause_id not in target.unexplored:
            continue
        if target.timed_out or target.unreachable or target.enough_failures():
            return
        rule = registry.get(clause_id)
        strategy = None
        # A profile without random examples (`table`) builds no strategy: schemathesis's take a second.
        drawn = target.exploration.hypothesis_profile.examples > 0
        runs = drawn and rule.exploring is not None and all(_has(target, need) for need in rule.needs)
        if runs and not target.found.get(clause_id):
            strategy = rule.exploring.strategy(target.table())
        if strategy is None:
            target.unexplored.discard(clause_id)
            continue
        before = target.ledger.current_test
        target.ledger.current_test = (tests or {}).get(clause_id, before)
        try:
            explore(target, clause_id, strategy, _step(rule.exploring.step, clause_id), weight=rule.exploring.weight)
        except (TargetUnreachable, RunTimedOut):
            raise
        except Exception as failure:  # the clause's own failure (or a fault of its exploration): its test's
            target.unexplored.discard(clause_id)
            target.explored[clause_id] = failure
        finally:
            target.ledger.current_test = before


def _has(target: Target, need: str) -> Any:
    return {
        "wrong_region_key": target.has_wrong_region_key,
        "expired_event": target.events.expired,
        "not_ready_event": target.events.not_ready,
        "foreign_event": target.events.foreign,
        "read_back": target.reads_back,
    }[need]


def own(clause_id: str, found: list[checks.Violation]) -> list[checks.Violation]:
    """The violations of `clause_id` among `found` (the others are on record under their clauses)."""
    return [v for v in found if v.clause_id == clause_id]


def _step(kind: str, clause_id: str):
    """How one random example of `clause_id` is sent; it fails only for that clause."""
    if kind == "also":
        return lambda t, request: checks.raise_all(own(clause_id, t.submit(request, also=(clause_id,)).violations))
    if kind == "case":
        return lambda t, case: checks.raise_all(own(clause_id, t.run_case(case, observe=False)))
    return lambda t, request: checks.raise_all(own(clause_id, t.submit(request).violations))


def reckon(target: Target, clause_id: str) -> None:
    """Fail with the violations the run recorded for `clause_id` (distinct ones, the shortest first)."""
    distinct: dict[tuple, checks.Violation] = {}
    for violation in target.found.get(clause_id, []):
        distinct.setdefault(violation.key(), violation)
    found = sorted(distinct.values(), key=checks.Violation.size)
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
    if target.stopped_early:
        pytest.skip(f"not judged: {target.stopped_early}")
    if target.unreachable and not (tally and tally.exercised):
        pytest.fail(f"{clause_id} was not exercised: {target.unreachable}", pytrace=False)
    if tally is not None and tally.covered < tally.planned:
        cut = tally.planned - tally.covered
        pytest.skip(f"the request budget was spent before {cut} of {clause_id}'s {tally.planned} coverage cases")
    if tally is not None and tally.exercised:
        return
    pytest.skip(f"{clause_id} was not exercised: no request of this run informed it")
