"""Bad option values are one `ERROR:` line, exit 4, before any request; missing optional values are named skips."""

import secrets
import shutil
import subprocess

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from fpjs_conformance import options
from fpjs_conformance import profile as profiles
from tests.runner import (
    IDS,
    ROOT,
    SUITE,
    clean_env,
    reap,
    reference_server,
    run_suite,
    start_suite,
    wait_for_first_test,
)

REMOTE = ["--base-url=http://127.0.0.1:9", "--api-key=abcdefgh12345678", f"--request-id={IDS.request_id}"]


def pytest_cli(*args, env=None, cwd=ROOT):
    return subprocess.run(
        [*SUITE, *args],
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=60,
        env=env or clean_env(),
    )


@pytest.mark.parametrize(
    ("args", "says"),
    [
        (["--base-url=http://127.0.0.1:9"], "--api-key and --request-id"),
        (["--base-url=http://127.0.0.1:9", "--api-key=abcdefgh"], "--request-id"),
        (["--region=mars"], "--region must be one of"),
        (["--base-url=ftp://x"], "must start with http"),
        (["--base-url=http://::1:8080", "--api-key=k1234567", "--request-id=x"], "brackets"),
        (["--base-url=http://", "--api-key=k1234567", "--request-id=x"], "names no host"),
        (["--base-url=http://127.0.0.1:9/proxy?x=1", "--api-key=k1234567", "--request-id=x"], "query or fragment"),
        (["--base-url=http://127.0.0.1:99999", "--api-key=k1234567", "--request-id=x"], "port"),
        (["--rate-limit=fast"], "--rate-limit must be a positive"),
        (["--rate-limit=nan"], "--rate-limit must be a positive, finite"),
        (["--request-timeout=nan"], "--request-timeout must be a positive, finite"),
        (["--request-timeout=inf"], "--request-timeout must be a positive, finite"),
        (["--run-timeout=nan"], "--run-timeout must be a positive, finite"),
        (["--rate-limit=1e-9", "--run-timeout=60"], "cannot send even one request"),
        (["--max-requests=0"], "--max-requests must be a positive whole number"),
        (["--connections=0"], "--connections must be a positive whole number"),
        (["--connections=many"], "--connections must be a positive whole number"),
        (["--api-version=v9"], "--api-version must be one or more of"),
        (["--require=most"], "--require must be"),
        (["--fail-on-drift"], "--fail-on-drift needs --baseline"),
        (["--baseline=/nonexistent/behaviour.json"], "--baseline"),
        ([*REMOTE[:2], "--request-id=a b"], "not a plain event id"),
        ([*REMOTE[:2], "--request-id=a/b"], "not a plain event id"),
        ([*REMOTE[:2], "--request-id=\xff"], "not a plain event id"),
        (["--report-dir=/proc/fpjs/reports"], "--report-dir"),
    ],
)
def test_usage_errors(args, says):
    run = pytest_cli(*args)
    assert run.returncode == 4, run.stdout + run.stderr
    assert says in run.stderr and "Traceback" not in run.stderr + run.stdout
    assert len([line for line in run.stderr.splitlines() if line.startswith("ERROR:")]) == 1


@pytest.mark.parametrize(
    "key", ["abc\r\ndef123", " leadingspace1", "trailing\n", "n\u00e4\u00efve-key-123", "tab\tkey123"]
)
def test_key_that_cannot_go_on_the_wire_is_a_usage_error(key):
    run = pytest_cli("--base-url=http://127.0.0.1:9", f"--request-id={IDS.request_id}", env=clean_env(FPJS_API_KEY=key))
    assert run.returncode == 4, run.stdout + run.stderr
    assert "--api-key must be printable ASCII" in run.stderr and "Traceback" not in run.stderr
    assert key.strip() not in run.stdout + run.stderr


def test_report_dir_that_is_a_file_is_refused_before_any_request(tmp_path):
    a_file = tmp_path / "not-a-folder"
    a_file.write_text("x")
    run = pytest_cli(f"--report-dir={a_file}")
    assert run.returncode == 4 and "--report-dir" in run.stderr, run.stdout + run.stderr


def test_deviations_file_that_is_not_utf8_is_one_error_line(tmp_path):
    bad = tmp_path / "deviations.toml"
    bad.write_bytes(b'[prism]\ndescription = "caf\xe9"\n')
    run = pytest_cli(f"--deviations-file={bad}")
    assert run.returncode == 4, run.stdout + run.stderr
    assert "known deviations" in run.stderr and "INTERNALERROR" not in run.stdout + run.stderr


def test_base_url_ending_in_a_version_path_implies_that_version():
    parsed = options.parse(
        lambda name: {"base_url": "https://api.fpjs.io/v4", "api_key": "k" * 10, "request_id": IDS.request_id}.get(
            name
        ),
        ROOT,
    )
    assert parsed.versions == ("v4",) and parsed.base_urls == {"v4": "https://api.fpjs.io/v4"}
    both = options.parse(
        lambda name: {
            "base_url": "https://api.fpjs.io/v4",
            "api_key": "k" * 10,
            "request_id": IDS.request_id,
            "api_version": "v3,v4",
        }.get(name),
        ROOT,
    )
    assert both.base_urls == {"v3": "https://api.fpjs.io", "v4": "https://api.fpjs.io/v4"}
    region = options.parse(
        lambda name: {"region": "eu", "api_key": "k" * 10, "request_id": IDS.request_id, "api_version": "v4"}.get(name),
        ROOT,
    )
    assert region.base_urls == {"v4": profiles.load("v4").servers["eu"]}


def test_event_id_is_an_alias_of_request_id():
    run = pytest_cli("--base-url=http://127.0.0.1:9", "--api-key=abcdefgh", "--event-id=a/b")
    assert run.returncode == 4 and "not a plain event id" in run.stderr, run.stderr


def test_optional_values_skip_with_their_option_named(tmp_path):
    key = "k" + secrets.token_hex(10)
    with reference_server(key) as s:
        run = run_suite(s.url, key, tmp_path, "-rs", "-k", "UE-AUTH-06 or UE-ID-03 or UE-TRANS-01")
    assert run.returncode == 0, run.output[-2000:]
    for option in ("--wrong-region-api-key", "--expired-request-id", "--not-ready-request-id"):
        assert option in run.output
    # Without --require all, clauses that need optional inputs leave a green run green, named in a note
    # (a green run narrowed by -k reads partial: it judged three clauses of the catalogue).
    assert run.summary["result"] == "partial" and "not exercised without optional inputs" in run.output


def test_require_all_fails_a_run_that_left_a_must_clause_unexercised(tmp_path):
    key = "k" + secrets.token_hex(10)
    with reference_server(key) as s:
        run = run_suite(s.url, key, tmp_path, "-k", "UE-AUTH-06 or UE-AUTH-01", "--require=all")
    assert run.returncode == 7, run.output[-2000:]
    assert {i["clause"] for i in run.summary["incomplete"]} == {"UE-AUTH-06"}


def test_full_run_against_a_separate_reference_server(tmp_path):
    """Every optional value given, a separately started server, both versions: all pass, nothing skipped."""
    key, eu_key, other = "k" + secrets.token_hex(10), "eu" + secrets.token_hex(10), "fw" + secrets.token_hex(10)
    with reference_server(key, wrong_region_api_key=eu_key, foreign_api_key=other) as s:
        run = run_suite(
            s.url,
            key,
            tmp_path,
            "--api-version=v3,v4",
            f"--expired-request-id={IDS.expired_request_id}",
            f"--not-ready-request-id={IDS.not_ready_request_id}",
            f"--foreign-request-id={IDS.foreign_request_id}",
            f"--wrong-region-api-key={eu_key}",
            "-rs",
            env={"FPJS_HYPOTHESIS_PROFILE": "ci", "FPJS_FOREIGN_API_KEY": other},
        )
    assert run.returncode == 0, run.output[-3000:]
    assert "skipped" not in run.output and key not in run.output and eu_key not in run.output
    assert other not in run.output
    assert run.summary["result"] == "passed" and not run.summary["incomplete"]


def test_run_timeout_stops_the_run(tmp_path):
    key = "k" + secrets.token_hex(10)
    with reference_server(key) as s:
        run = run_suite(s.url, key, tmp_path, "--run-timeout=0.001")
    assert run.returncode == 1 and "--run-timeout" in run.output and "Traceback" not in run.output


def test_run_timeout_holds_inside_a_slow_pacing_wait(tmp_path):
    """A rate that spaces requests 2 s apart and a 3 s run timeout: the run ends at the deadline, not later."""
    key = "k" + secrets.token_hex(10)
    with reference_server(key) as s:
        run = run_suite(s.url, key, tmp_path, "--rate-limit=0.5", "--run-timeout=3", "-k", "UE-BODY-01", timeout=30)
    assert run.returncode == 1, run.output[-2000:]
    assert "run timeout" in run.output and "Traceback" not in run.output


def test_reports_that_cannot_be_written_at_the_end_fail_a_passing_run(tmp_path):
    """The folder took the placeholder before the first request, then became a file: exit 9, not 0."""
    key = "k" + secrets.token_hex(10)
    report_dir = tmp_path / "reports"
    with reference_server(key) as s:
        args = [f"--base-url={s.url}", f"--request-id={IDS.request_id}", f"--report-dir={report_dir}"]
        # the default profile, paced: the run is still exploring when the folder goes
        proc = start_suite(*args, "--rate-limit=100", env=clean_env(FPJS_API_KEY=key))
        try:
            seen = wait_for_first_test(proc)
            shutil.rmtree(report_dir)
            report_dir.write_text("not a folder any more")
            output = seen + proc.communicate(timeout=120)[0]
        finally:
            reap(proc)
    assert proc.returncode == 9, output[-2000:]
    assert "could not write the reports" in output


def test_region_and_base_url_together_are_ambiguous():
    run = pytest_cli("--region=eu", "--base-url=https://api.fpjs.io", "--api-key=abcdefgh", "--request-id=x")
    assert run.returncode == 4 and "not both" in run.stderr, run.stderr


def test_the_foreign_event_and_key_and_the_settle_time_are_options():
    base = {"base_url": "https://api.fpjs.io", "api_key": "k" * 10, "request_id": IDS.request_id}
    parsed = options.parse(
        lambda name: {**base, "foreign_request_id": IDS.foreign_request_id, "foreign_api_key": "f" * 12}.get(name),
        ROOT,
    )
    assert parsed.foreign_request_id == IDS.foreign_request_id and parsed.settle_time == 2.0
    assert "f" * 12 not in repr(parsed) and parsed.shown()["foreign_api_key"] == "[redacted]"
    assert "foreign_api_key" in options.SECRET_OPTIONS  # scrubbed wherever the other keys are
    with pytest.raises(options.OptionError, match="--foreign-request-id"):
        options.parse(lambda name: {**base, "foreign_api_key": "f" * 12}.get(name), ROOT)
    assert options.parse(lambda name: {**base, "settle_time": "0"}.get(name), ROOT).settle_time == 0.0
    with pytest.raises(options.OptionError, match="--settle-time"):
        options.parse(lambda name: {**base, "settle_time": "nan"}.get(name), ROOT)


@settings(max_examples=50, deadline=None)
@given(st.one_of(st.integers(-5, 10_000).map(str), st.text(max_size=6)))
def test_connections_is_a_positive_whole_number_default_a_few(given_value):
    base = {"base_url": "https://api.fpjs.io", "api_key": "k" * 10, "request_id": IDS.request_id}
    assert options.parse(base.get, ROOT).connections == options.CONNECTIONS > 1
    try:
        wanted = int(given_value)
    except ValueError:
        wanted = 0
    get = {**base, "connections": given_value}.get
    if wanted >= 1:
        assert options.parse(get, ROOT).connections == wanted
    else:
        with pytest.raises(options.OptionError, match="--connections"):
            options.parse(get, ROOT)


def test_connections_from_the_environment(monkeypatch):
    monkeypatch.setenv("FPJS_CONNECTIONS", "1")
    base = {"base_url": "https://api.fpjs.io", "api_key": "k" * 10, "request_id": IDS.request_id}
    assert options.parse(base.get, ROOT).connections == 1
