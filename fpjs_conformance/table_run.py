"""The coverage table: a designed set of cases, each sent once, derived from the profile.

It runs before any random example. Every case comes from a clause's rule
(`fpjs_conformance.rules`), built from what the profile says (fields and their JSON types, limits,
key places and schemes, retired places, id shapes), so the table grows with the contract and
carries over to a new version unchanged. Case ids are stable: the behaviour snapshot and the drift
report key on them.

The table runs in two passes (`plan`), after one group of writers and its read (to fail fast). First every
case that must change nothing (refused for its key, body, id or method, or sent to another id), each request
carrying marks of its own: one read of the event after all of them finds what any of them changed, and the
marks name which (the state oracle).
Then the cases that write: whatever may be answered 200 on the designated event is read back after a
200, one read for cases in a row whose fields do not overlap (each field names its case).

A case the write gate says cannot change the designated event is sent beside others, on up to
`--connections` connections (`inflight`); any other goes alone, after every answer. With more than one
connection the cases of the group that must change nothing that may overlap go first, together (one read
judges the whole group); with one, every case goes in the plan's order, one after another.
"""

from __future__ import annotations

import contextlib
from collections.abc import Sequence
from typing import Any

from fpjs_conformance import inflight, oracle, rules, shapes
from fpjs_conformance.limits import BudgetSpent
from fpjs_conformance.model import Events, Request
from fpjs_conformance.profile import Profile
from fpjs_conformance.table import Case, Table, marked
from fpjs_conformance.target import GROUPED, Target

# The order the families' cases run in: cheap, broad probes first, sequences that read back last.
FAMILY_ORDER = (
    "auth",
    "body",
    "lenient",
    "left_open",
    "http",
    "methods",
    "ids",
    "lookalikes",
    "transient",
    "semantics",
)
READS = {None: 0, "fold": 1, "repeat": 3, "numbers": 1, "foreign": 1}  # read-backs a case takes on its own


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
    """How many requests a case sends at most: its own, and its read-backs (and the repeat itself)."""
    return len(case.requests) + READS[case.compare]


def quiet(profile: Profile, events: Events, case: Case) -> bool:
    """Every request of the case must change nothing on the designated event: sent elsewhere, with a method
    the document does not declare, or bound to be refused."""
    return all(_quiet(profile, events, r) for r in case.requests)


def _quiet(profile: Profile, events: Events, request: Request) -> bool:
    if request.method is not None or not shapes.designated(request, events):
        return True
    lead = oracle.expect(profile, request, events)[0]
    return lead.allowed is not None and 200 not in lead.allowed


def fields_of(profile: Profile, case: Case) -> set[str]:
    """The update fields the case's requests set (by name)."""
    out: set[str] = set()
    for request in case.requests:
        value = request.body.json_value
        if isinstance(value, dict):
            out |= {k for k in value if k in profile.fields}
    return out


def plan(profile: Profile, events: Events, table: list[Case], connections: int = 1) -> list[tuple[list[Case], bool]]:
    """The order the cases go in, as groups each followed by one read of the designated event (or not):
    the cases that must change nothing, then one read (with more than one connection, those that may
    overlap first); then the writers, a read after cases in a row whose fields do not overlap (a case that
    compares on its own: alone, its read its own)."""
    first = [c for c in table if quiet(profile, events, c)]
    if connections > 1:  # together on the connections, the rest after them (one read judges them all)
        together = [c for c in first if inflight.overlaps(profile, events, c)]
        first = together + [c for c in first if c not in together]
    rest = [c for c in table if not quiet(profile, events, c)]
    groups: list[tuple[list[Case], bool]] = [(first, True)] if first else []
    # Writers compared by no read of their own (accepted keys, shapes, lookalikes) first: each read after
    # them compares what they left.
    groups += [([c], False) for c in rest if c.compare is None]
    left = [c for c in rest if c.compare is not None]
    while left:
        case = left.pop(0)
        if case.compare not in GROUPED:
            groups.append(([case], False))
            continue
        group, taken = [case], fields_of(profile, case) or set(profile.fields)
        for other in list(left):  # cases further on whose fields do not overlap: one read for all
            mine = fields_of(profile, other)
            if other.compare in GROUPED and mine and not mine & taken:
                group.append(other)
                taken |= mine
                left.remove(other)
        groups.append((group, True))
    return _telling_first(groups, first_quiet=bool(first))


def _telling_first(groups: list[tuple[list[Case], bool]], *, first_quiet: bool) -> list[tuple[list[Case], bool]]:
    """Fail fast: the first group of writers read back on their own goes before the cases that must change
    nothing (one accepted update and its read: what most broken stores show), so `-x` stops within a few
    requests; the rest keeps its order. The read after it is the baseline of the group after."""
    start = 1 if first_quiet else 0
    lead = next((i for i in range(start, len(groups)) if groups[i][1]), None)
    if not first_quiet or lead is None:
        return groups
    return [groups[lead], *groups[:lead], *groups[lead + 1 :]]


def reads_of(groups: list[tuple[list[Case], bool]]) -> int:
    """The requests a plan sends: every case's own, a read per group that reads, each own compare's reads."""
    own = sum(
        len(c.requests) + (0 if c.compare in (None, *GROUPED) else READS[c.compare]) for g, _ in groups for c in g
    )
    return own + sum(1 for _, read in groups if read)


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
    window = inflight.Window(target)
    groups = plan(target.profile, target.events, order, window.size)
    done: list[Case] = []

    def covered(sent: list, answered: Sequence[tuple[Case, list | None]] = (), enough: bool = True) -> None:
        """Count the cases answered, those in flight in the order handed over (exchanges None: judged with a
        read of its own, not the group's); -x stops here, a safe point."""
        for case, exchanges in [*window.collect(), *answered]:
            if exchanges is not None:
                sent.append((case, exchanges))
            target.ledger.tally(case.clause_id).covered += 1
            done.append(case)
        if enough and target.enough_failures():  # -x: the first violation is reported now, the rest not sent
            raise _Enough

    try:
        for group, read in groups:
            sent: list[tuple[Case, list]] = []
            for case in group:
                if read and window.takes(case):
                    window.send(case)
                    covered(sent)
                    continue
                window.drain()  # nothing overlaps a case that goes alone
                covered(sent)
                if read and case.compare in (None, *GROUPED):
                    covered(sent, [(case, target.send_case(case)[1])])
                else:
                    target.run_case(case)
                    covered(sent, [(case, None)])
            window.drain()  # the group's read comes after every answer
            covered(sent)
            if read and target.reads_back:
                target.read_cases(sent, always=rules.state.NOTHING_CHANGED in selected)
    except (BudgetSpent, _Enough):
        with contextlib.suppress(BudgetSpent, _Enough):
            window.drain()  # what was in flight was sent: it counts
        covered([], enough=False)
    except BaseException:
        window.abandon()
        raise
    left = [c.id for c in order if c not in done]
    out = {"cases": len(order), "sent": len(done), "left_out": left}
    return {**out, "stopped_early": target.stopped_early} if target.stopped_early else out


class _Enough(Exception):
    """Enough clauses failed (`Target.fail_fast`): the table stops here."""


def _round_robin(groups: list[list[Case]]) -> list[Case]:
    out: list[Case] = []
    for i in range(max((len(g) for g in groups), default=0)):
        out += [g[i] for g in groups if i < len(g)]
    return out
