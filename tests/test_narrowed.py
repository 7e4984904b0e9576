"""A narrowed run (`-k`, `--deselect`, node ids) may exit 0, but reads `partial`, and no clause it did not
fully judge (one it did not select, or one every response informs) shows as passed in junit or the
summary. Read from summary.json and junit.xml, never from the terminal."""

from __future__ import annotations

import secrets
import xml.etree.ElementTree as ET

from hypothesis import given
from hypothesis import strategies as st

from fpjs_conformance import clauses, narrowing
from fpjs_conformance import profile as profiles
from tests.runner import reference_server, run_suite

VERSIONS = profiles.versions()


def junit_passes(report_dir) -> set[str]:
    """The junit cases with no failure, error or skipped element: what a dashboard counts as passed."""
    root = ET.parse(report_dir / "junit.xml").getroot()
    return {case.get("name") for case in root.iter("testcase") if len(case) == 0}


def summary_passes(run, version: str) -> set[str]:
    return {cid for cid, status in run.statuses(version).items() if status == "passed"}


def test_one_clause_rerun_against_a_server_breaking_another_reads_partial(tmp_path):
    """The issue's case: -k UE-BODY-01 against a server that answers a missing key with 401. The run may
    exit 0 (the clause it selected passed), but UE-RESP-01, which a full run fails, is not passed."""
    key = "narrow-" + secrets.token_hex(10)
    with reference_server(key, "-m", "tests.variants", "unauthorized-401") as server:
        run = run_suite(
            server.url + "/v4", key, tmp_path / "r", "-k", "UE-BODY-01", "--hypothesis-profile=table", timeout=300
        )
    assert run.returncode == 0, run.output[-3000:]
    assert run.summary["result"] == "partial"
    assert summary_passes(run, "v4") <= {"UE-BODY-01"}
    assert junit_passes(tmp_path / "r") <= {"v4::UE-BODY-01"}
    assert run.statuses("v4")["UE-RESP-01"] in ("partly-judged", "not-run", "failed")
    assert set(run.summary["narrowed"]["v4"]) == set(narrowing.narrowed({"v4": {"UE-BODY-01"}}, ["v4"])["v4"])


def test_a_deselected_clause_makes_the_universal_ones_partly_judged(tmp_path):
    key = "narrow-" + secrets.token_hex(10)
    node = "contracts/test_clauses.py::test_clause[v3-UE-AUTH-03]"
    with reference_server(key) as server:
        run = run_suite(server.url, key, tmp_path / "r", "--deselect", node, "--hypothesis-profile=table")
    assert run.returncode == 0, run.output[-3000:]
    assert run.summary["result"] == "partial"
    statuses = run.statuses("v3")
    assert statuses["UE-AUTH-03"] != "passed"
    for cid in narrowing.universal():
        assert statuses[cid] in ("partly-judged", "failed"), (cid, statuses[cid])
    assert "v3::UE-AUTH-03" not in junit_passes(tmp_path / "r")
    assert not {f"v3::{c}" for c in narrowing.universal()} & junit_passes(tmp_path / "r")


@given(st.sampled_from(VERSIONS), st.data())
def test_what_a_narrowed_run_judged_in_part(version, data):
    applies = sorted(c for c, clause in clauses.server_clauses().items() if clause.applies_to(version))
    chosen = set(data.draw(st.lists(st.sampled_from(applies), unique=True)))
    partly = narrowing.partly_judged({version: chosen}, version)
    if chosen == set(applies):
        assert not partly and not narrowing.narrowed({version: chosen}, [version])
        return
    assert set(applies) - chosen <= partly  # every clause it did not select
    assert narrowing.universal() & set(applies) <= partly  # and every clause each response informs
    assert partly - narrowing.universal() == set(applies) - chosen - narrowing.universal()
