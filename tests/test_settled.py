"""Verdicts are settled before any test reports (`fpjs_conformance.contract`): a failed pytest test is
always the clause that was broken, whichever request found the violation and whenever, and no other
test fails for it. Read from pytest's own junit report (test names and outcomes) and summary.json."""

from __future__ import annotations

import secrets
import xml.etree.ElementTree as ET

from tests.runner import reference_server, run_suite


def outcomes(junit: str) -> dict[str, str]:
    """pytest's junit: test parameter id (`v4-UE-AUTH-08`) -> failed / skipped / passed."""
    out = {}
    for case in ET.fromstring(junit).iter("testcase"):
        name = case.get("name", "")
        ident = name[name.find("[") + 1 : -1] if "[" in name else name
        kinds = {child.tag for child in case}
        out[ident] = "failed" if kinds & {"failure", "error"} else "skipped" if "skipped" in kinds else "passed"
    return out


def test_a_clause_broken_only_by_a_later_clauses_examples_fails_its_own_test(tmp_path):
    key = "settled-" + secrets.token_hex(12)
    junit = tmp_path / "pytest-junit.xml"
    with reference_server(key, "-m", "tests.late_server") as server:
        run = run_suite(
            server.url + "/v4", key, tmp_path / "reports", "--hypothesis-profile=default", f"--junitxml={junit}"
        )
    tests = outcomes(junit.read_text(encoding="utf-8"))
    assert run.returncode == 1, run.output[-3000:]
    assert tests["v4-UE-AUTH-08"] == "failed", run.output[-3000:]
    failed_tests = sorted(t for t, outcome in tests.items() if outcome == "failed")
    assert set(failed_tests) <= {f"v4-{c}" for c in run.failed("v4")}, (failed_tests, run.failed("v4"))
    assert "UE-AUTH-08" in run.failed("v4")
    # The auth clause's test comes before those of the id clauses whose examples found it.
    order = list(tests)
    assert order.index("v4-UE-AUTH-08") < order.index("v4-UE-ID-01")
    example = next(c for c in run.summary["clauses"] if c["id"] == "UE-AUTH-08")["versions"]["v4"]["examples"][0]
    assert example["test"] and "UE-AUTH-08" not in example["test"]  # found by another clause's examples
