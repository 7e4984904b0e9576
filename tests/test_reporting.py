"""Reports: rendered from a hand-made model (escaping, scrubbing, statuses, stable JUnit names, failed
first), then written by real runs of the suite: against the bundled server, and against a broken
server whose failure entry must replay with curl and whose run must not leak a canary key anywhere."""

from __future__ import annotations

import json
import os
import re
import secrets
import shutil
import subprocess
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

from fpjs_conformance import clauses, reporting
from fpjs_conformance.refserver.launch import ServerProcess
from tests.runner import ROOT, SUITE, clean_env, files_text, run_suite

KINDS = ("summary.json", "summary.md", "junit.xml", "report.html", "behaviour.json")
HOSTILE = '<script>alert("x")</script> & </pre>'


# -- rendering --------------------------------------------------------------------------------------
def example(key: str, body: str) -> dict:
    return {
        "clause": "UE-AUTH-03",
        "version": "v3",
        "check": "outcome_as_expected",
        "expected": "403 TokenNotFound",
        "received": f"200 text/html {body}",
        "summary": f"[v3] UE-AUTH-03 violated | received 200 {body}",
        "test": "contracts/test_auth.py::test_wrong_key_is_refused_as_unknown[v3]",
        "request": {
            "summary": "PUT /events/x",
            "method": "PUT",
            "url": "http://127.0.0.1:9/events/x",
            "headers": {"Auth-API-Key": "${FPJS_API_KEY%?}"},
            "body": "{}",
        },
        "response": {
            "status": 200,
            "headers": {"content-type": "text/html"},
            "body": body,
            "error": None,
            "elapsed_s": 0.01,
            "attempts": 1,
        },
        "curl": 'curl -sS -i -X PUT "http://127.0.0.1:9/events/x" -H "Auth-API-Key: ${FPJS_API_KEY%?}"',
    }


def cell(status: str, **kw) -> dict:
    return {
        "status": status,
        "passed": 0,
        "failed": 0,
        "requests": 0,
        "skipped": [],
        "examples": [],
        "errors": [],
        "deviation": None,
        **kw,
    }


def model(key: str, body: str | None = None) -> dict:
    ex = example(key, body or f"echoed {key} and {key[:-1]} {HOSTILE}")
    rows = []
    for cid, c in clauses.server_clauses().items():
        versions = {}
        for v in ("v3", "v4"):
            if not c.applies_to(v):
                versions[v] = cell("not-applicable", skipped=[f"not applicable to {v}"])
            elif cid == "UE-AUTH-03" and v == "v3":
                versions[v] = cell(
                    "failed",
                    failed=2,
                    requests=9,
                    examples=[ex],
                    requirement="A wrong key ...",
                    spec_pointer="/x",
                    spec_text="spec text",
                    rerun="pytest -k 'UE-AUTH-03 and v3'",
                )
            elif cid == "UE-AUTH-06":
                versions[v] = cell("skipped", skipped=["needs --wrong-region-api-key"])
            else:
                versions[v] = cell("passed", passed=3, requests=3)
        rows.append({"id": cid, "area": c.area, "level": c.level, "title": c.title, "versions": versions})
    stats = {"requests_sent": 7, "retries_429": 2, "retries_409": 1, "statuses": {"200": 5, "403": 2}}
    return {
        "suite": reporting.SUITE,
        "generated_at": "2026-11-26T00:00:00Z",
        "result": "failed",
        "exit_status": 1,
        "stopped": None,
        "stopped_versions": {},
        "whole_run_stopped": None,
        "duration_s": 1.5,
        "first_violation_s": 0.4,
        "seed": "12345",
        "hypothesis_profile": "nightly",
        "options": {"api_key": "[redacted]"},
        "deviations": None,
        "versions": [
            {
                "version": v,
                "document": "d",
                "operation": "PUT /events/{request_id}",
                "target": "http://127.0.0.1:9",
                "embedded": False,
                "stats": stats,
                "plan": {"cases": 10, "sent": 10, "left_out": []},
                "restore": {"status": "restored", "why": ""},
            }
            for v in ("v3", "v4")
        ],
        "totals": {"v3": {}, "v4": {}},
        "incomplete": [{"clause": "UE-AUTH-06", "version": "v3", "why": "needs"}],
        "budget_left_out": [],
        "failures": [ex],
        "drift": {
            "compared": 3,
            "changes": [{"probe": "v3::body/empty-object", "field": "status", "before": 400, "after": 200}],
            "only_before": [],
            "only_after": [],
        },
        "clauses": rows,
    }


def render(tmp_path: Path, body: str | None = None) -> tuple[str, dict[str, str]]:
    key = "canary" + secrets.token_hex(16)
    paths = reporting.write_all(tmp_path, model(key, body), {"format": "x", "versions": {}}, [key])
    return key, {p.name: p.read_text(encoding="utf-8") for p in paths}


def test_every_kind_from_one_model(tmp_path):
    _, files = render(tmp_path)
    assert sorted(files) == sorted(KINDS)
    for name in ("summary.json", "summary.md", "report.html", "junit.xml"):
        assert "12345" in files[name], name  # the seed is in every report
    for name in ("summary.md", "report.html"):
        assert "v3::body/empty-object" in files[name] and "drift" in files[name].lower()


def test_junit_one_stable_testcase_per_version_and_clause(tmp_path):
    _, files = render(tmp_path)
    cases = ET.fromstring(files["junit.xml"]).find("testsuite").findall("testcase")
    names = [c.get("name") for c in cases]
    assert names == [f"{v}::{cid}" for cid in clauses.server_clauses() for v in ("v3", "v4")]
    by_name = {c.get("name"): c for c in cases}
    assert by_name["v3::UE-AUTH-03"].find("failure") is not None
    assert by_name["v4::UE-AUTH-05"].find("skipped").get("message") == "not applicable to v4"
    assert by_name["v3::UE-AUTH-04"].find("failure") is None and by_name["v3::UE-AUTH-04"].find("skipped") is None


def test_a_stopped_version_has_one_error_case_and_no_pass(tmp_path):
    """Dashboards read junit: a version that was not judged shows its stop, never a pass."""
    stopped = model("canary" + secrets.token_hex(16))
    line = "v4 is not served at http://127.0.0.1:9: ..."
    stopped["stopped"], stopped["stopped_versions"] = line, {"v4": line}
    for row in stopped["clauses"]:
        if row["versions"]["v4"]["status"] != "not-applicable":
            row["versions"]["v4"] = cell("not-judged", skipped=[line])
    paths = reporting.write_all(tmp_path, stopped, {"format": "x", "versions": {}}, [])
    suite = ET.parse(tmp_path / "junit.xml").getroot().find("testsuite")
    v4 = [c for c in suite.findall("testcase") if c.get("name").startswith("v4::")]
    assert [c.get("name") for c in v4 if c.find("error") is not None] == ["v4::stopped"]
    assert all(c.find("failure") is None and c.find("error") is None for c in v4 if c.get("name") != "v4::stopped")
    assert all(c.find("skipped") is not None for c in v4 if c.get("name") != "v4::stopped")  # not applicable only
    assert suite.get("errors") == "1"
    assert any(p.name == "summary.md" and "stopped: v4 is not served" in p.read_text() for p in paths)


def test_html_is_escaped_self_contained_failed_first_and_readable(tmp_path):
    _, files = render(tmp_path)
    page = files["report.html"]
    assert "<script" not in page and "&lt;script&gt;" in page
    assert not re.search(r"""(src|href)=["']?(https?:)?//""", page)  # no external assets
    rows = re.findall(r"<tr><td>(UE-[A-Z]+-\d+)</td>", page)
    assert rows[0] == "UE-AUTH-03"  # failed clauses first
    assert '{"200"' not in page and "200: 5" in page  # statuses as text, not a raw JSON dict
    assert "${FPJS_API_KEY%?}" in page


def test_secrets_and_near_misses_are_scrubbed(tmp_path):
    key, files = render(tmp_path)
    for name, text in files.items():
        assert key not in text and key[:-1] not in text, name


def test_control_characters_keep_junit_valid(tmp_path):
    _, files = render(tmp_path, body="nul \x00 bell \x07 esc \x1b")
    ET.fromstring(files["junit.xml"])


# -- real runs ----------------------------------------------------------------------------------------
def test_bundled_server_run_writes_every_report_for_both_versions(tmp_path):
    report_dir = tmp_path / "reports"
    cmd = [*SUITE, f"--report-dir={report_dir}"]
    proc = subprocess.run(
        [*cmd, "--hypothesis-profile=ci", "--api-version=v3,v4"],
        cwd=ROOT,
        env=clean_env(),
        capture_output=True,
        text=True,
        timeout=240,
    )
    assert proc.returncode == 0, (proc.stdout + proc.stderr)[-3000:]
    assert sorted(p.name for p in report_dir.iterdir()) == sorted([*KINDS, "restore.json", "traffic.har"])
    summary = json.loads((report_dir / "summary.json").read_text())
    assert summary["result"] == "passed" and [v["version"] for v in summary["versions"]] == ["v3", "v4"]
    assert all(v["embedded"] and v["stats"]["requests_sent"] > 0 for v in summary["versions"])
    statuses = {c["versions"][v]["status"] for c in summary["clauses"] for v in ("v3", "v4")}
    assert statuses <= {"passed", "not-applicable"}
    assert all(
        c["versions"][v]["requests"] > 0
        for c in summary["clauses"]
        for v in ("v3", "v4")
        if c["versions"][v]["status"] == "passed"
    )  # requests per clause
    behaviour = json.loads((report_dir / "behaviour.json").read_text())
    assert set(behaviour["versions"]) == {"v3", "v4"} and len(behaviour["versions"]["v4"]) > 100
    ET.parse(report_dir / "junit.xml")


@pytest.fixture(scope="module")
def broken(tmp_path_factory):
    """One failing run against `auth-ignored`, with a canary key; the server stays up to replay."""
    key = "canary" + secrets.token_hex(16)
    tmp = tmp_path_factory.mktemp("broken")
    args = ["-m", "tests.variants", "auth-ignored", "--port", "0", "--api-key", key]
    with ServerProcess(args, env={"PYTHONPATH": str(ROOT)}) as server:
        run = run_suite(server.url, key, tmp / "reports", "-x", f"--junitxml={tmp / 'reports' / 'pytest.xml'}")
        yield key, server, run, tmp / "reports"


def replay(curl: str, key: str | None) -> int:
    env = {k: v for k, v in os.environ.items() if k != "FPJS_API_KEY"}
    if key is not None:
        env["FPJS_API_KEY"] = key
    out = subprocess.run(["bash", "-c", curl], env=env, capture_output=True, text=True, timeout=30).stdout
    return int(re.match(r"HTTP/\S+ (\d{3})", out).group(1))


@pytest.mark.skipif(shutil.which("curl") is None, reason="needs curl")
def test_failure_entry_replays_with_curl(broken, tmp_path):
    key, server, run, _ = broken
    assert run.returncode == 1, run.output[-3000:]
    example = run.summary["failures"][0]
    assert replay(example["curl"], key) == example["response"]["status"]
    # The same line against a correct server gets the answer the clause asked for: it replays the defect.
    with ServerProcess(["-m", "fpjs_conformance.refserver", "--port", "0", "--api-key", key]) as clean:
        assert replay(example["curl"].replace(server.url, clean.url), key) != example["response"]["status"]


def test_no_canary_key_in_any_output(broken):
    key, _, run, report_dir = broken
    written = sorted(p.name for p in report_dir.iterdir())
    assert set(KINDS) <= set(written) and "pytest.xml" in written
    assert key not in run.output and key not in files_text(report_dir)


def test_rerun_line_is_relative_to_where_pytest_runs(broken):
    _, _, run, _ = broken
    failed = [c for c in run.summary["clauses"] if c["versions"]["v3"]["status"] == "failed"]
    rerun = failed[0]["versions"]["v3"]["rerun"]
    assert rerun.startswith("pytest -k") and "--api-version=v3" in rerun and "--pyargs" not in rerun
