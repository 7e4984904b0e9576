"""The suite proves itself: it fails every mutant for the right reason and passes every control.

Each case judges one variant (tests/harness.py): controls, mutants that need random examples and a
sample of mutants as a user would (a server process, `python -m pytest` in a subprocess), the other
mutants from this worker (the variant served in a thread, the suite run through the library). The
sampled mutants are judged both ways, and the two must agree. Results go to reports/variants/;
tests/conftest.py turns them into the mutation score.
"""

import re

import pytest

from fpjs_conformance import clauses
from tests import harness
from tests.variants import KNOWN_GAPS, load_all

VARIANTS = load_all()


def _params():
    # Controls first: they run the whole suite, so xdist should start them early.
    ordered = sorted(VARIANTS.values(), key=lambda v: (v.kind != "control", v.name))
    for v in ordered:
        gap = KNOWN_GAPS.get(v.name)
        marks = [pytest.mark.xfail(strict=True, reason=f"known gap: {gap}")] if gap else []
        yield pytest.param(v.name, id=f"{v.kind}:{v.name}", marks=marks)


def test_catalogue_is_complete():
    """Every known gap names a mutant, every mutant a real clause, and docs/self-test.md lists them all."""
    assert set(KNOWN_GAPS) <= {n for n, v in VARIANTS.items() if v.kind == "mutant"}
    assert sum(v.kind == "mutant" for v in VARIANTS.values()) >= 45
    known = set(clauses.catalogue())
    assert all(v.clauses and set(v.clauses) <= known for v in VARIANTS.values() if v.kind == "mutant")
    for v in VARIANTS.values():  # a mutant is judged under a version where one of its clauses applies
        assert v.versions and all(
            any(clauses.get(c).applies_to(ver) for c in v.clauses) for ver in v.versions if v.clauses
        )
    words = set(re.findall(r"[a-z0-9-]+", (harness.ROOT / "docs" / "self-test.md").read_text()))
    assert sorted(set(VARIANTS) - words) == []


def test_verdict_is_read_from_the_summary_records():
    summary = {
        "clauses": [{"id": "UE-RESP-02", "versions": {"v3": {"status": "failed"}, "v4": {"status": "passed"}}}],
        "failures": [
            {"clause": "UE-RESP-04", "check": "error_body_matches_schema", "version": "v3", "summary": "x"},
            {"clause": "UE-RESP-02", "check": "no_server_error", "version": "v3", "summary": "y"},
        ],
    }
    for version, verdict in (("v3", "killed"), ("v4", "survived")):
        outcome = harness.Outcome("m", "mutant", version, ["UE-RESP-02"], exit_code=1)
        harness.judge(outcome, summary, "", leaked=[])
        assert outcome.verdict == verdict
    assert (outcome.named, outcome.killed_by) == (None, None)
    outcome = harness.Outcome("m", "mutant", "v3", ["UE-RESP-02"], exit_code=1)
    harness.judge(outcome, summary, "", leaked=[])
    assert (outcome.named, outcome.killed_by) == ("UE-RESP-02", "no_server_error")


def test_canary_catches_the_key_and_near_misses():
    key = "k" + "0123456789abcdef" * 2
    assert harness.exposes(f"message: secret key '{key[:-1]}' is required", key)
    assert not harness.exposes("message: secret key [secret]x is required", key)


def test_a_check_that_killed_nothing_is_reported():
    verdict = {"mutant": "killed", "control": "passed"}
    results = [
        {
            "name": n,
            "kind": v.kind,
            "version": "v3",
            "verdict": verdict[v.kind],
            "killed_by": "no_server_error",
            "known_gap": None,
        }
        for n, v in VARIANTS.items()
    ]
    assert "same_outcome" in harness.score(results, VARIANTS)["checks_that_killed_nothing"]
    assert harness.score(results[1:], VARIANTS)["checks_that_killed_nothing"] is None  # not the whole catalogue


def test_the_sample_covers_every_area():
    """One mutant of each module of tests/variants/ that has mutants goes end to end (and in process)."""
    modules = {v.server.__module__ for v in VARIANTS.values() if v.kind == "mutant"}
    sample = harness.end_to_end_sample()
    assert {VARIANTS[n].server.__module__ for n in sample} == modules
    assert all(harness.end_to_end(VARIANTS[n]) for n in sample)


@pytest.mark.parametrize("name", _params())
def test_variant(name, tmp_path, results_dir, request):
    variant = VARIANTS[name]
    gap = KNOWN_GAPS.get(name)
    path = harness.END_TO_END if request.config.getoption("end_to_end") else None
    outcomes = harness.run(variant, tmp_path / "report", known_gap=gap, path=path)
    for outcome in outcomes:
        outcome.write(results_dir)
    if name in harness.end_to_end_sample():  # the in-process path must judge it as the user's path did
        again = harness.run(variant, tmp_path / "in-process", known_gap=gap, path=harness.IN_PROCESS)
        differ = harness.disagreements(outcomes, again)
        assert not differ, f"{name}: the paths disagree:\n" + "\n".join(differ)
    want = "fail naming " + " or ".join(variant.clauses) if variant.kind == "mutant" else "pass"
    wrong = [o for o in outcomes if not o.ok]
    assert not wrong, "\n".join(
        f"{variant.kind} {name} [{o.version}] ({variant.description}): the suite should {want}; "
        f"verdict {o.verdict}, exit {o.exit_code}, named {o.all_named or 'nothing'}\n{o.evidence}"
        for o in wrong
    )
