"""The random phase: Hypothesis explores past the coverage table, within the run's request budget.

Each clause test hands a strategy of requests (or of whatever its step needs) to `explore`, which
runs it as a Hypothesis test of its own, with the settings of the run profile (`default`, `ci`,
`nightly`), the run's seed, and a database key per version and clause. A request sent earlier in
the run is judged again without being resent; once the budget is spent, examples are rejected
without a request, so the phase ends quietly and the report says what the budget cut.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from hypothesis import HealthCheck, Phase, given, reject, seed, settings
from hypothesis import strategies as st
from hypothesis.database import DirectoryBasedExampleDatabase
from hypothesis.errors import Flaky, Unsatisfiable

from fpjs_conformance import checks
from fpjs_conformance.limits import BudgetSpent
from fpjs_conformance.transport import RunTimedOut


@dataclass(frozen=True)
class HypothesisProfile:
    """How much a run explores: examples per clause after the table, and a cap per version. Registered
    with Hypothesis under its name and chosen with Hypothesis's own `--hypothesis-profile`."""

    name: str
    examples: int
    requests_per_version: int
    derandomize: bool
    database: bool = False


HYPOTHESIS_PROFILES = {
    "table": HypothesisProfile(
        "table", examples=0, requests_per_version=400, derandomize=True
    ),  # the coverage table only
    "default": HypothesisProfile("default", examples=8, requests_per_version=400, derandomize=True),
    # ci: 200 requests per version in all, the restore's 3 (read, write back, read back) included
    "ci": HypothesisProfile("ci", examples=2, requests_per_version=197, derandomize=True),
    "nightly": HypothesisProfile("nightly", examples=120, requests_per_version=3000, derandomize=False, database=True),
}
# No explain phase: its "lines always run by failing cases" notes point into the suite, not the target.
PHASES = (Phase.explicit, Phase.reuse, Phase.generate, Phase.target, Phase.shrink)


@dataclass(frozen=True)
class Exploration:
    """The run's exploration settings (one per run, shared by every version's target)."""

    hypothesis_profile: HypothesisProfile
    seed: int | None = None

    def settings(self, examples: int) -> settings:
        database = None
        if self.hypothesis_profile.database:
            database = DirectoryBasedExampleDatabase(os.environ.get("FPJS_HYPOTHESIS_DB", ".hypothesis/examples"))
        return settings(
            max_examples=max(1, examples),
            derandomize=self.hypothesis_profile.derandomize,
            database=database,
            deadline=None,
            phases=PHASES,
            print_blob=True,
            suppress_health_check=list(HealthCheck),
        )


class _NoMoreExamples(BaseException):
    """The budget is spent or the run's deadline passed inside an example: Hypothesis stops at once (a
    BaseException it does not catch as a failure), instead of generating examples it would only reject."""


KEPT_PER_CLAUSE = 3  # requests of the budget kept for each clause whose random examples are still to come


def _exercised(target, clause_id: str) -> bool:
    tally = target.ledger.clauses.get(clause_id)
    return bool(tally and tally.exercised)


def explore(
    target,
    clause_id: str,
    strategy: st.SearchStrategy,
    step: Callable[[Any, Any], None],
    *,
    weight: float = 1.0,
) -> None:
    """Run `step(target, drawn)` for random draws of `strategy`: the clause's random examples. `step` raises
    the clause's violations (`contract`: only its own), which Hypothesis shrinks."""
    exploration: Exploration = target.exploration
    examples = round(exploration.hypothesis_profile.examples * weight)
    left = target.transport.budget_left()
    if left is not None:
        # Keep a few requests for every clause still to come, so that one explored last still gets
        # examples (a repeat costs nothing, so this only bounds the generation). When that is all that
        # is left, a clause the coverage table exercised gives way to those only random examples reach.
        later = target.unexplored - {clause_id}
        only_random = [c for c in later if not _exercised(target, c)]
        if _exercised(target, clause_id) and left <= KEPT_PER_CLAUSE * len(only_random):
            examples = 0
        examples = min(examples, max(1, left - KEPT_PER_CLAUSE * len(later)), left)
    target.unexplored.discard(clause_id)
    if examples < 1 or target.unreachable:
        return
    target.phase = "random"

    found: list[AssertionError] = []

    def explore_clause(drawn) -> None:
        try:
            if target.enough_failures():  # -x: no more examples, no shrinking
                raise BudgetSpent(target.stopped_early)
            step(target, drawn)
        except BudgetSpent:
            if found:  # shrinking a failure: it stands as found
                reject()
            raise _NoMoreExamples from None
        except RunTimedOut as exc:  # the run's deadline: no more examples, the clause is not judged
            target.timed_out = str(exc)
            raise _NoMoreExamples from None
        except (checks.Violation, checks.Violations) as failure:
            found.append(failure)
            raise

    explore_clause._hypothesis_internal_add_digest = f"{target.version}:{clause_id}".encode()  # type: ignore[attr-defined]
    test = exploration.settings(examples)(given(strategy)(explore_clause))
    if exploration.seed is not None:
        test = seed(exploration.seed)(test)
    try:
        with contextlib.suppress(Unsatisfiable, _NoMoreExamples):
            test()
    except Flaky:
        # The budget ran out while Hypothesis shrank or replayed a failure (or the server answered it
        # differently the second time): the failure stands as it was last seen.
        if not found:
            raise
        raise found[-1] from None
