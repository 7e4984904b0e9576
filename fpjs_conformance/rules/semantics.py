"""Semantics: what an accepted update does to the stored event, read back with the version's read-back.

An accepted update is stored exactly; updates are partial; a sent object replaces the stored one;
an identical repeat gives the same outcome. Every case that may be answered 200 on the designated
event is read back (`compare`), wherever its family builds it. A partial update carries near misses
of the names of the fields it leaves out (a store that takes one as the field, even only when the
field is absent, changes what must keep its value); what the other families' cases left of the
string classes a single string field must carry goes last, a case each.
"""

from __future__ import annotations

from collections.abc import Iterator

from hypothesis import strategies as st

from fpjs_conformance import strategies
from fpjs_conformance.checks import Expectation, Violation
from fpjs_conformance.model import Exchange
from fpjs_conformance.registry import RULES, cases, check, clause, explores
from fpjs_conformance.table import PROBE_MARK, Case, Table

STORED = clause("UE-SEM-01", needs=("read_back",))
PARTIAL = clause("UE-SEM-02", needs=("read_back",))
REPLACES = clause("UE-SEM-03", needs=("read_back",))
REPEATABLE = clause("UE-SEM-04", needs=("read_back",))


def read_back_clause(case_clause: str) -> str:
    """The clause a case's read-back is judged under: its own when the clause is about what the read-back
    shows (it needs one), else STORED."""
    rule = RULES.get(case_clause)
    return case_clause if rule is not None and "read_back" in rule.needs else STORED


def accepted_before(why: str, defer: frozenset[int]) -> Expectation:
    """An update identical to one accepted earlier in the run must be accepted again."""
    return Expectation(REPEATABLE, why, allowed={200: None}, defer=defer)


@check(REPEATABLE)
def same_outcome(first: Exchange, second: Exchange) -> None:
    if (first.status, first.error_code()) != (second.status, second.error_code()):
        raise Violation(
            REPEATABLE,
            f"the repeat answered like the first ({first.status})",
            f"first {first.status}, repeat {second.received()}",
            second,
        )


@cases
def sequences(t: Table) -> Iterator[Case]:
    """Sequences read back at the end: the key in its first place (the place clauses are judged elsewhere)."""
    p, c, key = t.p, t.case, t.first_key()

    def u(body) -> object:
        return t.update(body, creds=key)

    for field in p.fields:
        # One field alone; the others keep what the event holds (the state oracle knows it, and compares
        # them: UE-SEM-02), near misses of their names riding along.
        changed = {field: t.valid_value(field, f"partial-{field}")}
        if p.field_types[field] == "boolean":
            changed = {field: False}
        left_out = [f for f in p.fields if f != field]
        if p.field_types[field] == "string":
            changed.update(t.ride(but=tuple(left_out)))
        changed.update(t.near_misses(left_out, f"partial-{field}", {}))
        yield c(
            f"semantics/partial:{field}", PARTIAL, t.update(changed, creds=key, **t.shaped("accepted")), compare="fold"
        )
    for field in p.fields_of_type("object"):
        first = {field: {PROBE_MARK: "first", "first": 1, "shared": {"a": 1}}}
        second = {field: {PROBE_MARK: "second", "second": 2, "shared": {"b": 2}}}
        yield c(f"semantics/replace:{field}", REPLACES, u(first), u(second), compare="fold")
    repeat = {f: t.valid_value(f, "repeat") for f in p.fields} | t.ride()
    yield c("semantics/repeat", REPEATABLE, t.update(repeat, creds=key, **t.shaped("accepted")), compare="repeat")


@cases
def classes_left(t: Table) -> Iterator[Case]:
    """The values of only one class no other case carried: one case each (after every other family's)."""
    for field, group, value in t.rides_left():
        yield t.case(f"semantics/{field}/class:{group}", STORED, t.update(t.hold({field: value})), compare="fold")


@explores(STORED, step="case")
def random_stored(t: Table):
    return st.builds(
        lambda body, creds: Case("random", STORED, (t.update(body, creds=creds),), "fold"),
        strategies.valid_bodies(t.p, extra=False),
        strategies.valid_credentials(t.p),
    )


@explores(PARTIAL, step="case", weight=0.5)
def random_partial(t: Table):
    p = t.p
    base = {f: f"fpjs-partial-{f}" for f in p.fields_of_type("string")}
    base |= {f: {PROBE_MARK: "base", "base": f} for f in p.fields_of_type("object")}
    base |= {f: True for f in p.fields_of_type("boolean")}
    key = t.first_key()

    def case(field, value):
        return Case("random", PARTIAL, (t.update(dict(base), creds=key), t.update({field: value}, creds=key)), "fold")

    return st.sampled_from(p.fields).flatmap(lambda f: strategies.field_values(p, f).map(lambda v, f=f: case(f, v)))


@explores(REPEATABLE, step="case", weight=0.5)
def random_repeats(t: Table):
    key = t.first_key()
    return strategies.valid_bodies(t.p).map(
        lambda body: Case("random", REPEATABLE, (t.update(body, creds=key),), "repeat")
    )
