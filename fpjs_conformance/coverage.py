"""The coverage table: a designed set of cases, each sent once, derived from the profile.

It runs before any random example. Every case comes from a clause's rule
(`fpjs_conformance.rules`), built from what the profile says (fields and their JSON types, limits,
key places and schemes, retired places, id shapes), so the table grows with the contract and
carries over to a new version unchanged. Whatever may be answered 200 on the designated event is
read back after a 200. Case ids are stable: the behaviour snapshot and the drift report key on them.
"""

from __future__ import annotations

from typing import Any

from fpjs_conformance import rules
from fpjs_conformance.model import Events
from fpjs_conformance.profile import Profile
from fpjs_conformance.table import Case, Table, marked
from fpjs_conformance.target import Target
from fpjs_conformance.transport import BudgetSpent

# The order the families' cases run in: cheap, broad probes first, sequences that read back last.
FAMILY_ORDER = ("auth", "body", "left_open", "http", "ids", "transient", "semantics")


def cases(profile: Profile, events: Events, *, wrong_region: bool) -> list[Case]:
    """Every case of every rule, each request in it sent once in the run: a case that repeats an earlier
    one is dropped, and a step of a sequence that would repeat one is told apart by a marker property
    (the schema allows extra properties; UE-SEM-04's repeat is the one repeat on purpose)."""
    table = Table(profile, events, wrong_region=wrong_region)
    out, seen = [], set()
    makers = sorted(rules.CASE_MAKERS, key=lambda fm: FAMILY_ORDER.index(fm[0]) if fm[0] in FAMILY_ORDER else 99)
    for _family, make in makers:
        for case in make(table):
            keys = [r.fingerprint() for r in case.requests]
            if len(keys) == 1 and keys[0] in seen:
                continue
            requests = tuple(
                marked(r, case.id) if key in seen and isinstance(r.body.json_value, dict) else r
                for r, key in zip(case.requests, keys, strict=True)
            )
            seen.update(r.fingerprint() for r in requests)
            out.append(Case(case.id, case.clause_id, requests, case.compare))
    return out


def requests_of(case: Case) -> int:
    """How many requests a case sends: its own, and its read-backs (and the repeat itself)."""
    reads = {None: 0, "fold": 1, "repeat": 3}
    return len(case.requests) + reads[case.compare]


def cover(target: Target, table: list[Case], selected: set[str]) -> dict[str, Any]:
    """Run the cases of the selected clauses; the plan and what was left out.

    Cases go round-robin over their clauses, so a budget too small for the whole table still
    exercises as many clauses as it can.
    """
    target.phase = "coverage"
    by_clause: dict[str, list[Case]] = {}
    for case in table:
        if case.clause_id in selected:
            by_clause.setdefault(case.clause_id, []).append(case)
    for clause_id, mine in by_clause.items():
        target.ledger.tally(clause_id).planned += len(mine)
    order = _round_robin(list(by_clause.values()))
    sent = 0
    for case in order:
        try:
            target.run_case(case)
        except BudgetSpent:
            break
        target.ledger.tally(case.clause_id).covered += 1
        sent += 1
    return {"cases": len(order), "sent": sent, "left_out": [c.id for c in order[sent:]]}


def _round_robin(groups: list[list[Case]]) -> list[Case]:
    out: list[Case] = []
    for i in range(max((len(g) for g in groups), default=0)):
        out += [g[i] for g in groups if i < len(g)]
    return out
