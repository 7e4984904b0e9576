"""Hostile servers: every run ends within its bound with one clear failure, never a hang or a traceback,
and a failure is blamed on the answer that caused it."""

import secrets
import time

import pytest

from fpjs_conformance import profile as profiles
from tests.hostile import BEHAVIOURS, NO_CONTENT_WITH_BODY, HostileServer, forwarding, silent_tls
from tests.runner import reference_server, run_suite

# behaviour -> (clause the failure must name, a word the failure must carry)
EXPECTED = {
    "hang": ("UE-TRANSPORT-01", "timed out"),
    "drip": ("UE-TRANSPORT-01", "not complete"),
    "drip-headers": ("UE-TRANSPORT-01", "timed out"),
    "reset": ("UE-TRANSPORT-01", "Error"),
    "garbage": ("UE-TRANSPORT-01", "Error"),
    "huge": ("UE-TRANSPORT-01", "cap"),
    "gzip-bomb": ("UE-TRANSPORT-01", "cap"),
    "storm-429": ("UE-TRANS-02", "429"),
}


def first_record(run) -> dict:
    failures = run.summary.get("failures", [])
    assert failures, run.output[-3000:]
    return failures[0]


def assert_clean(run, key):
    for bad in ("Traceback", "INTERNALERROR", key):
        assert bad not in run.output


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_hostile_server_gives_one_clear_failure(name, tmp_path):
    key = "canary" + secrets.token_hex(8)
    started = time.monotonic()
    with HostileServer(BEHAVIOURS[name]) as server:
        run = run_suite(server.url, key, tmp_path, "-x", "--request-timeout=1", timeout=90)
    clause, word = EXPECTED[name]
    assert run.returncode == 1, run.output[-3000:]
    record = first_record(run)
    assert record["clause"] == clause and word in record["received"], record
    assert_clean(run, key)
    assert time.monotonic() - started < 60  # a few request timeouts, not one per request


def test_204_with_a_body_is_blamed_on_the_204_not_on_the_next_request(tmp_path):
    """A 204 carries no body: its stray bytes break the next read on the connection. The answer that left
    them is at fault, never the innocent request after it (even when the 204 answered the preflight,
    whose requests are otherwise not judged)."""
    key = "canary" + secrets.token_hex(8)
    with reference_server(key) as backend, HostileServer(forwarding(backend.url, first=NO_CONTENT_WITH_BODY)) as server:
        run = run_suite(server.url, key, tmp_path, "--hypothesis-profile=table", timeout=90)
    assert run.returncode == 1, run.output[-3000:]
    failures = run.summary["failures"]
    transport = [f for f in failures if f["clause"] == "UE-TRANSPORT-01"]
    assert transport and all(f["response"]["status"] == 204 for f in transport), transport
    assert all(f["response"]["error"] is None for f in failures)  # no request is blamed for lost answers
    assert_clean(run, key)


@pytest.mark.parametrize("version", ["v3", "v4"])
def test_a_keep_alive_timeout_racing_a_request_is_not_blamed(tmp_path, version):
    """RFC 9112 (9.5) lets a server close an idle connection at any time, racing the next request on it;
    the client resends on a fresh connection (9.3.1). A correct server whose keep-alive timeout races a
    request once passes, and the resend is a record in the reports. (Paced, so connections go idle.)"""
    key = "canary" + secrets.token_hex(8)
    with reference_server(key) as backend, HostileServer(forwarding(backend.url, idle_close=1.2)) as server:
        base = server.url + profiles.load(version).server_path
        args = ("-k", "UE-AUTH-01 or UE-TRANSPORT-01", "--rate-limit=0.6", f"--api-version={version}")
        run = run_suite(base, key, tmp_path, "--hypothesis-profile=table", *args, timeout=120)
    assert run.returncode == 0, run.output[-3000:]
    resends = run.summary["versions"][0]["transport"]["resends"]
    assert [r["kind"] for r in resends] == ["keep-alive race"], resends
    assert_clean(run, key)


@pytest.mark.parametrize("version", ["v3", "v4"])
def test_a_server_dropping_requests_it_has_read_fails_transport(tmp_path, version):
    """A server that closes busy connections without answering, again and again, is broken for every
    client that does not retry (the official SDKs do not): UE-TRANSPORT-01 fails, each drop on record."""
    key = "canary" + secrets.token_hex(8)
    with reference_server(key) as backend, HostileServer(forwarding(backend.url, per_connection=1)) as server:
        base = server.url + profiles.load(version).server_path
        run = run_suite(base, key, tmp_path, "--hypothesis-profile=table", f"--api-version={version}", timeout=90)
    assert run.returncode == 1, run.output[-3000:]
    assert "UE-TRANSPORT-01" in run.failed(version)
    drops = [f for f in run.summary["failures"] if f["clause"] == "UE-TRANSPORT-01"]
    assert drops and drops[0]["response"]["error"], drops[:1]
    assert any(r["kind"] == "dropped" for r in run.summary["versions"][0]["transport"]["resends"])
    assert_clean(run, key)


def test_tls_target_that_never_answers_the_hello_ends_within_a_few_timeouts(tmp_path):
    key = "canary" + secrets.token_hex(8)
    started = time.monotonic()
    with HostileServer(silent_tls) as server:
        url = server.url.replace("http://", "https://")
        run = run_suite(url, key, tmp_path, "--request-timeout=1", timeout=60)
    assert run.returncode == 1, run.output[-3000:]
    assert time.monotonic() - started < 20
    stops = [line for line in run.output.splitlines() if "cannot reach" in line]
    assert stops and "timed out" in stops[0], run.output[-2000:]
    assert_clean(run, key)


def test_header_name_case_matters_to_a_hand_written_stack(tmp_path):
    """ASGI servers lowercase header names, so no variant can break UE-HTTP-01: a raw-socket front does."""
    key = "canary" + secrets.token_hex(8)
    names = ("Auth-API-Key", "Authorization")
    with reference_server(key) as backend, HostileServer(forwarding(backend.url, names=names)) as server:
        run = run_suite(server.url, key, tmp_path, "--hypothesis-profile=table", timeout=90)
    assert run.returncode == 1, run.output[-3000:]
    assert "UE-HTTP-01" in run.failed("v3"), run.summary["failures"][:3]
    assert_clean(run, key)
