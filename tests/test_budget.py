"""A verdict in a few hundred requests: the coverage table first, a hard budget, nothing sent twice."""

import json
import secrets
import subprocess
import threading
from collections import Counter
from types import SimpleNamespace

import pytest
from hypothesis import strategies as st

from fpjs_conformance.checks import Violation
from fpjs_conformance.explore import HYPOTHESIS_PROFILES, Exploration, explore
from fpjs_conformance.limits import BudgetSpent
from tests.hostile import HostileServer, forwarding
from tests.runner import ROOT, SUITE, clean_env, reference_server, run_suite


def test_a_budget_too_small_ends_with_what_was_and_was_not_exercised(tmp_path):
    """`--max-requests=200` against the bundled server: the budget holds, the summary says what it left out,
    and the run does not pass (exit 7, incomplete); with a rate limit the plan is printed before it starts."""
    cmd = [*SUITE, f"--report-dir={tmp_path}", "--max-requests=200", "--rate-limit=200"]
    proc = subprocess.run(cmd, cwd=ROOT, env=clean_env(), capture_output=True, text=True, timeout=240)
    output = proc.stdout + proc.stderr
    assert proc.returncode == 7, output[-3000:]
    summary = json.loads((tmp_path / "summary.json").read_text())
    assert summary["result"] == "incomplete"
    stats = summary["versions"][0]["stats"]
    assert stats["requests_sent"] <= 200
    left_out = summary["budget_left_out"]
    assert left_out and all(b["sent"] < b["planned"] for b in left_out)
    exercised = [c["id"] for c in summary["clauses"] if c["versions"]["v3"]["status"] == "passed"]
    assert len(exercised) > 10  # round-robin: many clauses got a case before the budget ran out
    assert "at most 200 requests" in output and "at 200/s: about" in output  # said before the first request
    assert "INCOMPLETE [v3]: the request budget left" in output
    md = (tmp_path / "summary.md").read_text()
    assert "request budget" in md and "Not exercised" in md


def test_requests_per_clause_are_reported(tmp_path):
    key = "k" + secrets.token_hex(10)
    with reference_server(key) as server:
        run = run_suite(server.url, key, tmp_path, "--hypothesis-profile=table", "-k", "UE-BODY")
    assert run.returncode == 0, run.output[-2000:]
    by_clause = {c["id"]: c["versions"]["v3"] for c in run.summary["clauses"]}
    assert by_clause["UE-BODY-02"]["requests"] >= 20 and by_clause["UE-BODY-02"]["coverage_cases"]["planned"] >= 20
    assert "req)" in (tmp_path / "summary.md").read_text()


def test_the_coverage_table_sends_nothing_twice_but_the_repeat(tmp_path):
    """Only UE-SEM-04's repeat goes to the wire twice; read-backs (GET) are state, not repeats."""
    key = "k" + secrets.token_hex(10)
    seen: list[tuple] = []
    lock = threading.Lock()

    def record(head: bytes, body: bytes) -> None:
        with lock:
            seen.append((head, body))  # every header: the key places and their values tell requests apart

    with reference_server(key) as backend, HostileServer(forwarding(backend.url, observe=record)) as server:
        run = run_suite(server.url, key, tmp_path, "--hypothesis-profile=table", "--no-restore")
    assert run.returncode == 0, run.output[-2000:]
    updates = Counter(request for request in seen if not request[0].startswith(b"GET "))
    repeated = {r: n for r, n in updates.items() if n > 1}
    assert len(repeated) == 1 and next(iter(repeated.values())) == 2, repeated


def test_budget_spent_while_a_failure_is_replayed_still_reports_the_failure():
    """Hypothesis resends while it shrinks and replays a failure; when the budget runs out meanwhile, the
    failure is reported as found, never as Hypothesis's "unreliable assumption" traceback."""
    calls = []
    transport = SimpleNamespace(budget_left=lambda: 50)
    target = SimpleNamespace(
        exploration=Exploration(HYPOTHESIS_PROFILES["default"]),
        transport=transport,
        unreachable="",
        unexplored=set(),
        timed_out=None,
        ledger=SimpleNamespace(clauses={}),
        enough_failures=lambda: False,  # no -x
    )
    target.version = "v3"

    def step(_, drawn):
        calls.append(drawn)
        if len(calls) > 1:
            raise BudgetSpent("the request budget (1) is spent")
        raise Violation("UE-SEM-01", "the value as sent", "stored differently")

    with pytest.raises(Violation) as caught:
        explore(target, "UE-SEM-01", st.integers(), step)
    assert caught.value.clause_id == "UE-SEM-01" and len(calls) > 1
