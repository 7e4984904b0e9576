"""The nightly gate sees drift: a change of behaviour inside the contract, against an earlier snapshot."""

import json
import secrets

from fpjs_conformance import behaviour
from tests.runner import reference_server, run_suite


def test_snapshot_comparison_lists_each_change():
    before = {"format": behaviour.FORMAT, "versions": {"v3": {"p": {"status": 400, "code": "X", "headers": ["a"]}}}}
    after = {
        "format": behaviour.FORMAT,
        "versions": {"v3": {"p": {"status": 200, "code": None, "headers": ["a", "b"]}}},
    }
    changes = behaviour.compare(before, after)["changes"]
    assert sorted((c["field"], str(c["before"]), str(c["after"])) for c in changes) == [
        ("code", "X", "None"),
        ("headers", "['a']", "['a', 'b']"),
        ("status", "400", "200"),
    ]


def test_changed_behaviour_is_reported_and_fails_the_run_when_asked(tmp_path):
    """Run 1 against the reference server; then a server that accepts `{}` (inside the contract: 200 or 400)."""
    key = "k" + secrets.token_hex(10)
    with reference_server(key) as server:
        first = run_suite(server.url, key, tmp_path / "1", "--hypothesis-profile=table")
    baseline = tmp_path / "1" / "behaviour.json"
    assert first.returncode == 0 and baseline.is_file(), first.output[-2000:]
    with reference_server(key, "-m", "tests.variants", "empty-update-accepted") as server:
        second = run_suite(server.url, key, tmp_path / "2", "--hypothesis-profile=table", f"--baseline={baseline}")
        third = run_suite(
            server.url, key, tmp_path / "3", "--hypothesis-profile=table", f"--baseline={baseline}", "--fail-on-drift"
        )
    assert second.returncode == 0, second.output[-2000:]
    changes = second.summary["drift"]["changes"]
    assert {"probe": "v3::body/empty-object", "field": "status", "before": 400, "after": 200} in changes
    assert "v3::body/empty-object" in (tmp_path / "2" / "summary.md").read_text()
    assert "DRIFT" in second.output
    assert third.returncode == 8 and third.summary["result"] == "drift", third.output[-2000:]
    assert json.loads(baseline.read_text())["format"] == behaviour.FORMAT
