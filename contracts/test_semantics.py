"""Semantics: what an accepted update does to the stored event (read back with the version's GET)."""

from hypothesis import strategies as st

from fpjs_conformance import strategies
from fpjs_conformance.clauses import clause
from fpjs_conformance.contract import explore, reckon, require, run_case, settle
from fpjs_conformance.coverage import Case


def _reading(target):
    require(target.reads_back, "the target serves no read-back of the designated event")


@clause("UE-SEM-01")
def test_accepted_update_is_stored(target):
    _reading(target)
    reckon(target, "UE-SEM-01")
    cases = st.builds(
        lambda body, creds: Case("random", "UE-SEM-01", (target.update(body, credentials=creds),), "fold"),
        strategies.valid_bodies(target.profile, extra=False),
        strategies.valid_credentials(target.profile),
    )
    explore(target, "UE-SEM-01", cases, run_case)
    settle(target, "UE-SEM-01")


@clause("UE-SEM-02")
def test_update_is_partial(target):
    _reading(target)
    reckon(target, "UE-SEM-02")
    p = target.profile
    base = {f: f"fpjs-partial-{f}" if p.field_types[f] == "string" else None for f in p.fields}
    base = {f: v for f, v in base.items() if v is not None} | {f: {"base": f} for f in p.fields_of_type("object")}
    base |= {f: True for f in p.fields_of_type("boolean")}

    def case(field, value):
        return Case("random", "UE-SEM-02", (target.update(dict(base)), target.update({field: value})), "fold")

    fields = st.sampled_from(p.fields)
    cases = fields.flatmap(lambda f: strategies.field_values(p, f).map(lambda v, f=f: case(f, v)))
    explore(target, "UE-SEM-02", cases, run_case, weight=0.5)
    settle(target, "UE-SEM-02")


@clause("UE-SEM-03")
def test_sent_object_replaces_the_stored_one(target):
    _reading(target)
    reckon(target, "UE-SEM-03")
    settle(target, "UE-SEM-03")


@clause("UE-SEM-04")
def test_repeated_update_same_outcome(target):
    _reading(target)
    reckon(target, "UE-SEM-04")
    cases = strategies.valid_bodies(target.profile).map(
        lambda body: Case("random", "UE-SEM-04", (target.update(body),), "repeat")
    )
    explore(target, "UE-SEM-04", cases, run_case, weight=0.5)
    settle(target, "UE-SEM-04")
