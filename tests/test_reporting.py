"""Reports: rendered from a hand-made ledger (escaping, scrubbing, statuses, stable JUnit names), then
written by real runs of the suite: against the bundled server, and against a broken server whose
failure entry must replay with curl and whose run must not leak a canary key anywhere.
"""

from __future__ import annotations

import html
import json
import os
import re
import secrets
import shutil
import subprocess
import sys
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

from contracts import clauses, oracle, reporting
from contracts.checks import Violation
from contracts.ledger import Ledger
from contracts.model import Credentials, Exchange, Key, Request
from contracts.target import Target
from contracts.transport import Secrets, Transport
from refserver.launch import ServerProcess
from tests.runner import IDS, ROOT, files_text, run_suite

KINDS = ("summary.json", "summary.md", "junit.xml", "report.html")
HOSTILE = '<script>alert("x")</script> & </pre>'


# -- rendering --------------------------------------------------------------------------------------
def make_target(key: str) -> Target:
    transport = Transport("http://127.0.0.1:9", Secrets(key))  # never sends: only its scrubber is used
    return Target("http://127.0.0.1:9", oracle.Events(IDS.request_id), transport, Ledger())


def exchange(key: str, body: bytes) -> Exchange:
    request = Request(IDS.request_id, Credentials(header=Key("near", "drop-last")))
    ex = Exchange(request, f"http://127.0.0.1:9/events/{IDS.request_id}", {"Auth-API-Key": "${FPJS_API_KEY%?}"})
    ex.status, ex.response_headers, ex.body = 200, {"content-type": "text/html"}, body
    ex.curl = 'curl -sS -i -X PUT "http://127.0.0.1:9/events/x" -H "Auth-API-Key: ${FPJS_API_KEY%?}"'
    return ex


def render(tmp_path: Path, state: dict | None = None, exitstatus: int = 1, body: bytes | None = None):
    key = "canary" + secrets.token_hex(16)
    target = make_target(key)
    ledger = target.ledger
    ledger.current_test = "UE-AUTH-03"
    leak = f"echoed {key} and {key[:-1]} {HOSTILE}".encode()
    ledger.failed(Violation("UE-AUTH-03", "403 TokenNotFound", "200", exchange(key, body or leak)))
    ledger.passed("UE-AUTH-04")
    ledger.passed("UE-AUTH-05")
    ledger.skipped("UE-AUTH-06", "needs --wrong-region-api-key")
    state = {"seed": "12345", "options": {"hypothesis_profile": "nightly", "api_key": "[redacted]"}, **(state or {})}
    state.setdefault("stats", {"requests_sent": 7, "retries_429": 2, "retries_409": 1, "duration_s": 1.5})
    paths = reporting.write_all(tmp_path, target, state, exitstatus, [key])
    return key, {p.name: p.read_text(encoding="utf-8") for p in paths}


def test_all_four_kinds_from_one_model(tmp_path):
    _, files = render(tmp_path)
    assert sorted(files) == sorted(KINDS)
    summary = json.loads(files["summary.json"])
    status = {c["id"]: c["status"] for c in summary["clauses"]}
    assert status["UE-AUTH-03"] == "failed" and status["UE-AUTH-04"] == "passed"
    assert status["UE-AUTH-06"] == "skipped" and status["UE-OPEN-01"] == "not-run"
    assert set(status) == set(clauses.catalogue())
    assert summary["seed"] == "12345" and summary["exit_status"] == 1
    for text in files.values():  # the run's cost is in every report
        assert "12345" in text
        assert re.search(r"\b2\b.{0,40}429|429.{0,40}\b2\b", text, re.S), text[:400]


def test_junit_one_stable_testcase_per_clause(tmp_path):
    _, files = render(tmp_path / "a")
    _, again = render(tmp_path / "b", state={"seed": "999"})
    suite = ET.fromstring(files["junit.xml"]).find("testsuite")
    cases = suite.findall("testcase")
    assert [c.get("name") for c in cases] == [f"{c.id} {c.title}" for c in clauses.catalogue().values()]
    names = lambda text: [c.get("name") for c in ET.fromstring(text).iter("testcase")]  # noqa: E731
    assert names(files["junit.xml"]) == names(again["junit.xml"])
    by_id = {c.get("name").split()[0]: c for c in cases}
    failure = by_id["UE-AUTH-03"].find("failure")
    assert failure is not None and "curl" in failure.text and "Auth-API-Key" in failure.text
    assert by_id["UE-AUTH-04"].find("failure") is None and by_id["UE-AUTH-04"].find("skipped") is None
    assert by_id["UE-OPEN-01"].find("skipped").get("message") == "not exercised in this run"
    assert by_id["UE-AUTH-03"].get("classname") == "conformance.auth"
    assert suite.get("tests") == str(len(cases)) and suite.get("failures") == "1"


def test_html_is_escaped_and_self_contained(tmp_path):
    _, files = render(tmp_path)
    page = files["report.html"]
    assert "<script" not in page and "&lt;script&gt;" in page
    assert not re.search(r"""(src|href)=["']?(https?:)?//""", page)  # no external assets
    assert html.escape(clauses.get("UE-AUTH-03").spec_text) in page
    assert "--hypothesis-seed=12345" in page and "--hypothesis-profile=nightly" in page
    assert "${FPJS_API_KEY%?}" in page


def test_secrets_and_near_misses_are_scrubbed(tmp_path):
    key, files = render(tmp_path)
    for name, text in files.items():
        assert key not in text and key[:-1] not in text, name
    assert "[redacted]" in files["summary.json"]


def test_control_characters_keep_junit_valid(tmp_path):
    _, files = render(tmp_path, body=b"nul \x00 bell \x07 esc \x1b")
    ET.fromstring(files["junit.xml"])


def test_deviation_statuses(tmp_path):
    entry = {"reason": "never checks keys", "link": "https://example.invalid/1", "expires": "2099-12-31"}
    dev = {"profile": "p", "file": "f.toml", "entries": {"UE-AUTH-03": entry, "UE-AUTH-04": entry}, "stale": []}
    _, files = render(tmp_path, state={"deviations": dev}, exitstatus=0)
    status = {c["id"]: c["status"] for c in json.loads(files["summary.json"])["clauses"]}
    assert status["UE-AUTH-03"] == "known-deviation" and status["UE-AUTH-04"] == "stale-deviation"
    for name in ("summary.md", "report.html"):
        assert "known-deviation" in files[name] and "stale-deviation" in files[name]
    cases = {c.get("name").split()[0]: c for c in ET.fromstring(files["junit.xml"]).iter("testcase")}
    assert cases["UE-AUTH-03"].find("skipped") is not None and cases["UE-AUTH-04"].find("failure") is not None


# -- real runs ----------------------------------------------------------------------------------------
def test_bundled_server_run_writes_every_report(tmp_path):
    report_dir = tmp_path / "reports"
    cmd = [sys.executable, "-m", "pytest", "-p", "no:cacheprovider", "-q", f"--report-dir={report_dir}"]
    env = {k: v for k, v in os.environ.items() if not k.startswith("FPJS_")}
    proc = subprocess.run(
        [*cmd, "--hypothesis-profile=ci"], cwd=ROOT, env=env, capture_output=True, text=True, timeout=240
    )
    assert proc.returncode == 0, (proc.stdout + proc.stderr)[-3000:]
    assert sorted(p.name for p in report_dir.iterdir()) == sorted(KINDS)
    summary = json.loads((report_dir / "summary.json").read_text())
    assert summary["embedded"] and summary["result"] == "passed" and summary["stats"]["requests_sent"] > 0
    assert {c["status"] for c in summary["clauses"]} <= {"passed", "skipped", "not-run"}
    ET.parse(report_dir / "junit.xml")


@pytest.fixture(scope="module")
def broken(tmp_path_factory):
    """One failing run (-x) against `auth-ignored`, with a canary key; the server stays up to replay."""
    key = "canary" + secrets.token_hex(16)
    tmp = tmp_path_factory.mktemp("broken")
    args = ["-m", "tests.variants", "auth-ignored", "--port", "0", "--api-key", key]
    with ServerProcess(args, env={"PYTHONPATH": str(ROOT)}) as server:
        run = run_suite(server.url, key, tmp / "reports", "-x", f"--junitxml={tmp / 'reports' / 'pytest.xml'}")
        yield key, server, run, tmp / "reports"


def first_failure(report_dir: Path) -> dict:
    summary = json.loads((report_dir / "summary.json").read_text())
    failed = [c for c in summary["clauses"] if c["status"] == "failed"]
    assert failed and failed[0]["examples"], summary["totals"]
    return failed[0]["examples"][0]


def replay(curl: str, key: str | None) -> int:
    env = {k: v for k, v in os.environ.items() if k != "FPJS_API_KEY"}
    if key is not None:
        env["FPJS_API_KEY"] = key
    out = subprocess.run(["bash", "-c", curl], env=env, capture_output=True, text=True, timeout=30).stdout
    return int(re.match(r"HTTP/\S+ (\d{3})", out).group(1))


@pytest.mark.skipif(shutil.which("curl") is None, reason="needs curl")
def test_failure_entry_replays_with_curl(broken, tmp_path):
    key, server, run, report_dir = broken
    assert run.returncode == 1, run.output[-3000:]
    example = first_failure(report_dir)
    assert "${FPJS_API_KEY" in example["curl"] or "Auth-API-Key" not in example["curl"]
    assert replay(example["curl"], key) == example["response"]["status"]
    # The same line against a correct server gets the answer the clause asked for: it replays the defect.
    with ServerProcess(["-m", "refserver", "--port", "0", "--api-key", key]) as clean:
        fixed = example["curl"].replace(server.url, clean.url)
        assert replay(fixed, key) != example["response"]["status"]


def test_no_canary_key_in_any_output(broken):
    key, _, run, report_dir = broken
    assert run.returncode == 1
    written = sorted(p.name for p in report_dir.iterdir())
    assert set(KINDS) <= set(written) and "pytest.xml" in written
    assert key not in run.output
    assert key not in files_text(report_dir)


def test_read_back_violation_is_reported(tmp_path):
    """Violations raised by direct checks (the read-back comparison), not through Target.judge, still count."""
    key = "canary" + secrets.token_hex(16)
    args = ["-m", "tests.variants", "update-not-stored", "--port", "0", "--api-key", key]
    with ServerProcess(args, env={"PYTHONPATH": str(ROOT)}) as server:
        run = run_suite(server.url, key, tmp_path, "-x", "--hypothesis-profile=ci", "-k", "SEM")
    assert run.returncode == 1, run.output[-3000:]
    failed = [c for c in json.loads((tmp_path / "summary.json").read_text())["clauses"] if c["status"] == "failed"]
    assert failed and all(c["id"].startswith("UE-SEM-") for c in failed)
    assert failed[0]["examples"][0]["check"] in ("stored_fields_match", "same_outcome")  # direct checks
