"""The in-process path of the self-test fails closed: a key in what the run said, or state it left behind
in the worker, is a verdict of its own, never a kill; and a run the library cannot judge as pytest would
is refused. That both paths reach the same verdicts is checked on the sampled mutants (test_variants.py)."""

import logging
import signal
import socket
import sys

import pytest

from fpjs_conformance import inprocess, options
from tests import harness
from tests.runner import ROOT
from tests.variants import load_all

VARIANT = load_all()["null-accepted"]  # killed by the table's first cases: a short run


def judge_then(act):
    """`inprocess.judge`, then `act(opts)` in the run's thread, as a faulty library would."""
    real = inprocess.judge

    def judge(opts, *args, **kwargs):
        result = real(opts, *args, **kwargs)
        act(opts)
        return result

    return judge


@pytest.mark.parametrize(
    "say",
    [
        pytest.param(lambda opts: logging.getLogger("httpx").warning("sent %s", opts.api_key), id="log"),
        pytest.param(lambda opts: sys.stderr.write(f"key {opts.api_key[2:20]}\n"), id="stderr"),
        pytest.param(lambda opts: print(opts.wrong_region_api_key), id="stdout"),
    ],
)
def test_a_key_in_what_the_run_said_is_a_leak(monkeypatch, tmp_path, say):
    monkeypatch.setattr(inprocess, "judge", judge_then(say))
    outcomes = harness.run(VARIANT, tmp_path / "report", path=harness.IN_PROCESS)
    assert [o.verdict for o in outcomes] == ["key leaked"] * len(VARIANT.versions)


KEPT: list = []  # what a faulty run keeps referenced (so no garbage collection closes it)


@pytest.mark.parametrize(
    ("leave", "named"),
    [
        pytest.param(lambda opts: signal.signal(signal.SIGTERM, lambda *a: None), "signal handlers", id="handler"),
        pytest.param(lambda opts: KEPT.append(socket.socket()), "open files", id="socket"),
    ],
)
def test_state_left_behind_is_an_error(monkeypatch, tmp_path, leave, named):
    before = signal.getsignal(signal.SIGTERM)
    monkeypatch.setattr(inprocess, "judge", judge_then(leave))
    try:
        outcomes = harness.run(VARIANT, tmp_path / "report", path=harness.IN_PROCESS)
    finally:
        signal.signal(signal.SIGTERM, before)
        while KEPT:
            KEPT.pop().close()
    assert {o.verdict for o in outcomes} == {"error"}
    assert all(named in o.evidence for o in outcomes)


def test_a_clean_run_leaves_the_worker_as_found(tmp_path):
    before = harness.inprocess.state()
    outcomes = harness.run(VARIANT, tmp_path / "report", path=harness.IN_PROCESS)
    assert [o.verdict for o in outcomes] == ["killed"] * len(VARIANT.versions)
    assert harness.inprocess.left_behind(before, harness.inprocess.state()) == []


def test_what_the_library_cannot_judge_without_pytest_is_refused(tmp_path):
    values = {"deviations": "prism", "report_dir": str(tmp_path)}
    with pytest.raises(ValueError):
        inprocess.judge(options.parse(values.get, ROOT))
    control = load_all()["different-wording"]  # the default profile: random examples, end to end only
    with pytest.raises(ValueError):
        harness.run(control, tmp_path / "report", path=harness.IN_PROCESS)


def test_the_tests_run_in_the_plugins_order():
    """`-x` stops at the same test both ways only if the tests come in pytest's order: by area, then version."""
    tests = inprocess.contract_tests(("v3", "v4"))
    assert tests[0] == ("v3", "UE-AUTH-01")
    areas = [inprocess.clauses.get(cid).area for _, cid in tests]
    ranks = [inprocess.plugin.area_rank(a) for a in areas]
    assert ranks == sorted(ranks)
    assert len(tests) == len(set(tests))


def test_disagreements_name_the_version_and_the_field():
    a = harness.Outcome(
        "m", "mutant", "v3", ["UE-BODY-02"], named="UE-BODY-02", verdict="killed", exit_code=1, all_named=["UE-BODY-02"]
    )
    b = harness.Outcome(
        "m", "mutant", "v3", ["UE-BODY-02"], named="UE-BODY-03", verdict="killed", exit_code=1, all_named=["UE-BODY-02"]
    )
    assert harness.disagreements([a], [a]) == []
    slow = harness.Outcome(
        "m",
        "mutant",
        "v3",
        ["UE-BODY-02"],
        named="UE-BODY-02",
        verdict="killed",
        exit_code=1,
        all_named=["UE-BODY-02", "UE-TRANSPORT-01"],
    )  # a clause the mutant does not break failed on one path only (a timeout on a busy machine)
    assert harness.disagreements([a], [slow]) == []
    assert harness.disagreements([a], [b]) == ["[v3] named: end to end 'UE-BODY-02', in process 'UE-BODY-03'"]
    assert harness.disagreements([a], [])[0].startswith("[v3] verdict")
