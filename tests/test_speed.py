"""A verdict at network speed and a first failure in seconds (issue 27): `-x` stops at the first violation."""

import secrets

from tests.runner import reference_server, run_suite


def test_x_stops_at_the_first_violation_and_reports_it(tmp_path):
    """With `-x` the preparation stops at the first failing verdict: the failure is reported, far fewer requests
    are sent than by the whole table, no other clause passes (not judged) and the event is still restored."""
    key = "k" + secrets.token_hex(10)
    with reference_server(key, "-m", "tests.variants", "auth-ignored") as server:
        whole = run_suite(server.url, key, tmp_path / "whole", "--hypothesis-profile=table")
        early = run_suite(server.url, key, tmp_path / "early", "--hypothesis-profile=table", "-x")
    assert whole.returncode == 1 and early.returncode == 1, early.output[-2000:]
    sent = [r.summary["versions"][0]["stats"]["requests_sent"] for r in (whole, early)]
    assert sent[1] * 4 < sent[0], sent
    failed = early.failed("v3")  # the first one, and those answered in flight beside it
    assert failed and set(failed) <= set(whole.failed("v3")) and all(c.startswith("UE-AUTH-") for c in failed)
    statuses = early.statuses("v3")
    assert "passed" not in statuses.values(), statuses
    assert early.summary["versions"][0]["restore"]["status"] == "restored"


def test_x_on_one_connection_stops_at_the_first_violation_of_the_serial_order(tmp_path):
    """`--connections=1` keeps the plan's order: `-x` stops at the first case that breaks a clause, alone."""
    key = "k" + secrets.token_hex(10)
    with reference_server(key, "-m", "tests.variants", "null-accepted") as server:
        early = run_suite(server.url, key, tmp_path / "early", "--hypothesis-profile=table", "-x", "--connections=1")
    assert early.returncode == 1, early.output[-2000:]
    assert early.failed("v3") == ["UE-BODY-02"]
    assert early.summary["versions"][0]["stats"]["requests_sent"] < 60, early.summary["versions"][0]["stats"]
    assert "passed" not in early.statuses("v3").values()
    assert early.summary["versions"][0]["restore"]["status"] == "restored"


def test_a_store_that_drops_updates_fails_within_the_first_requests(tmp_path):
    """The table leads with one accepted update and its read: with `-x`, a server that answers 200 and stores
    nothing fails after a handful of requests, not after the cases that must change nothing."""
    key = "k" + secrets.token_hex(10)
    with reference_server(key, "-m", "tests.variants", "update-not-stored") as server:
        run = run_suite(server.url, key, tmp_path / "r", "--hypothesis-profile=table", "-x", "--settle-time=0.2")
    assert run.returncode == 1, run.output[-2000:]
    assert run.summary["versions"][0]["stats"]["requests_sent"] <= 25, run.summary["versions"][0]["stats"]
    assert run.failed("v3"), run.output[-2000:]
