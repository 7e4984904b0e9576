"""Green means green: no path where the gate passes without judging what it was asked to judge.

A baseline that cannot be used, a key or an event id without a target, a stopped run, a version the
target does not serve, a budget that cut a clause's cases: each is told apart from a pass, in the
exit code, in junit and in the first and last lines a user reads.
"""

import json
import secrets
import threading
import xml.etree.ElementTree as ET

from fpjs_conformance.refserver.launch import ServerProcess
from tests.hostile import HostileServer, forwarding
from tests.runner import IDS, ROOT, SUITE, clean_env, reference_server, run_suite


def variant(names: str, key: str) -> ServerProcess:
    return ServerProcess(
        ["-m", "tests.variants", names, "--port", "0", "--api-key", key], env={"PYTHONPATH": str(ROOT)}
    )


def counting(backend_url: str):
    """A front that counts the requests that reach the target."""
    seen: list[bytes] = []
    lock = threading.Lock()

    def observe(head: bytes, body: bytes) -> None:
        with lock:
            seen.append(head)

    return HostileServer(forwarding(backend_url, observe=observe)), seen


def test_a_baseline_that_is_not_a_snapshot_is_a_usage_error_before_any_request(tmp_path):
    key = "k" + secrets.token_hex(10)
    notsnap = tmp_path / "notsnap.json"
    notsnap.write_text(json.dumps({"result": "passed"}))
    with reference_server(key) as backend:
        front, seen = counting(backend.url)
        with front:
            run = run_suite(front.url, key, tmp_path / "r", f"--baseline={notsnap}")
    assert run.returncode == 4 and "not a behaviour snapshot" in run.output, run.output[-2000:]
    assert seen == []


def test_the_report_folders_own_snapshot_is_a_usable_baseline(tmp_path):
    """`--baseline=reports/behaviour.json`, the file the run itself replaces, is read before anything is written."""
    key = "k" + secrets.token_hex(10)
    reports = tmp_path / "reports"
    with reference_server(key) as backend:
        first = run_suite(backend.url, key, reports, "--hypothesis-profile=table")
        second = run_suite(
            backend.url,
            key,
            reports,
            "--hypothesis-profile=table",
            f"--baseline={reports / 'behaviour.json'}",
            "--fail-on-drift",
        )
    assert first.returncode == 0, first.output[-2000:]
    assert second.returncode == 0, second.output[-2000:]
    drift = second.summary["drift"]
    assert "error" not in drift and drift["compared"] > 100 and drift["changes"] == []


def test_the_first_line_names_the_target():
    proc = _pytest("-k", "UE-AUTH-01", "--hypothesis-profile=table")
    first = next(line for line in proc.stdout.splitlines() if line.startswith("fpjs"))
    assert proc.returncode == 0 and first.startswith("fpjs: target: bundled reference server"), proc.stdout[-2000:]


def test_a_key_or_an_event_without_a_target_is_a_usage_error():
    """A target left out (or misspelt: FPJS_BASEURL is a usage error of its own, tests/test_cmdline.py)
    would otherwise test the bundled server and pass."""
    for extra in ({"FPJS_API_KEY": "k" + secrets.token_hex(8)}, {"FPJS_REQUEST_ID": IDS.request_id}):
        proc = _pytest(env=clean_env(**extra))
        assert proc.returncode == 4 and "no target" in proc.stderr, proc.stdout + proc.stderr


def test_a_stopped_run_publishes_no_verdict(tmp_path):
    """An unknown designated event: exit 6, one junit error case and no pass, the stop line last."""
    key = "k" + secrets.token_hex(10)
    with reference_server(key) as backend:
        run = run_suite(backend.url, key, tmp_path, request_id="1000000000000.unknwn")
    assert run.returncode == 6, run.output[-2000:]
    suite = ET.parse(tmp_path / "junit.xml").getroot().find("testsuite")
    cases = suite.findall("testcase")
    assert [c.get("name") for c in cases if c.find("error") is not None] == ["v3::stopped"]
    passes = [c.get("name") for c in cases if not list(c)]
    assert passes == []
    assert all(c["versions"]["v3"]["status"] in ("not-judged", "not-applicable") for c in run.summary["clauses"])
    assert (tmp_path / "summary.md").read_text().split("\n\n")[1].startswith("**stopped:")
    ours = [line for line in run.output.splitlines() if line.startswith("fpjs")]
    assert ours[-1].startswith("fpjs: STOPPED: setup problem"), ours[-3:]
    assert "_pytest.outcomes.Exit" not in run.output and "Traceback" not in run.output


def test_a_version_the_target_does_not_serve_does_not_block_the_others(tmp_path):
    """v3,v4 against a v4-only server: v4 is judged, v3 reported not served (exit 6); the hint leads to a
    run of v4 alone, which passes; a violation under v4 makes it exit 1 all the same."""
    key = "k" + secrets.token_hex(10)
    with variant("only-latest-version", key) as server:
        both = run_suite(server.url, key, tmp_path / "both", "--api-version=v3,v4", "--hypothesis-profile=table")
        v4 = run_suite(server.url + "/v4", key, tmp_path / "v4", "--hypothesis-profile=table")
    assert both.returncode == 6, both.output[-2000:]
    stopped = {v["version"]: v["stopped"] for v in both.summary["versions"]}
    assert stopped["v3"] and "not served" in stopped["v3"] and "--api-version" in stopped["v3"] and not stopped["v4"]
    assert both.statuses("v4")["UE-AUTH-01"] == "passed" and both.statuses("v3")["UE-AUTH-01"] == "not-judged"
    assert v4.returncode == 0, v4.output[-2000:]
    with variant("only-latest-version+wrong-key-missing-code", key) as server:
        broken = run_suite(server.url, key, tmp_path / "broken", "--api-version=v3,v4", "--hypothesis-profile=table")
    assert broken.returncode == 1 and "UE-AUTH-03" in broken.failed("v4"), broken.output[-2000:]


def test_clauses_needing_optional_inputs_leave_a_green_run_green(tmp_path):
    key = "k" + secrets.token_hex(10)
    with reference_server(key) as backend:
        run = run_suite(backend.url, key, tmp_path, "--hypothesis-profile=table")
    assert run.returncode == 0 and run.summary["result"] == "passed", run.output[-2000:]
    heading = (tmp_path / "summary.md").read_text().splitlines()[0]
    assert "passed" in heading and "incomplete" not in heading
    assert "not exercised without optional inputs" in run.output


def test_a_clause_whose_cases_the_budget_cut_is_skipped_not_passed(tmp_path):
    """pytest's own line agrees with the verdict: with --max-requests, a test whose clause the budget cut
    is skipped with the reason."""
    key = "k" + secrets.token_hex(10)
    with reference_server(key) as backend:
        run = run_suite(backend.url, key, tmp_path, "--max-requests=110", f"--junitxml={tmp_path / 'pytest.xml'}")
    assert run.returncode == 7, run.output[-2000:]
    cut = {
        c["id"]
        for c in run.summary["clauses"]
        if c["versions"]["v3"].get("coverage_cases", {}).get("sent", 0)
        < c["versions"]["v3"].get("coverage_cases", {}).get("planned", 0)
    }
    assert cut
    cases = ET.parse(tmp_path / "pytest.xml").getroot().iter("testcase")
    passed = {c.get("name").split("-", 1)[1].rstrip("]") for c in cases if not list(c)}
    assert not cut & passed, cut & passed


def test_a_merging_store_is_named_as_such_never_a_concurrent_writer(tmp_path):
    key = "k" + secrets.token_hex(10)
    with variant("object-deep-merged", key) as server:
        run = run_suite(server.url, key, tmp_path, "--hypothesis-profile=ci")
    assert run.returncode == 1, run.output[-2000:]
    assert run.summary["versions"][0]["restore"]["status"] != "concurrent writer", run.summary["versions"][0]
    assert "UE-SEM-03" in run.failed("v3")


def test_a_failed_read_back_names_the_write_that_likely_caused_it(tmp_path):
    key = "k" + secrets.token_hex(10)
    with variant("nul-breaks-read-back", key) as server:
        run = run_suite(server.url, key, tmp_path, "--hypothesis-profile=table")
    assert run.returncode == 1, run.output[-2000:]
    reads = [f for f in run.summary["failures"] if f["request"]["method"] == "GET" and f["clause"] == "UE-RESP-02"]
    assert reads and "cause" in reads[0], reads[:1]
    assert "\\u0000" in reads[0]["cause"]["request"]["body"] or "\\x00" in reads[0]["cause"]["request"]["body"]
    assert reads[0]["curl"].count("curl ") == 2  # the likely cause replays first


def _pytest(*args, env=None):
    import subprocess

    return subprocess.run(
        [*SUITE, *args], cwd=ROOT, capture_output=True, text=True, timeout=120, env=env or clean_env()
    )
