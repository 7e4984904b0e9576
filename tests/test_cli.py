"""Usage errors are one line, before any request; optional values missing mean named skips."""

import os
import secrets
import subprocess
import sys

import pytest

from tests.runner import ROOT, reference_server, run_suite


def pytest_cli(*args, env=None):
    return subprocess.run(
        [sys.executable, "-m", "pytest", "-p", "no:cacheprovider", "-q", *args],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
        env=env,
    )


@pytest.mark.parametrize(
    ("args", "says"),
    [
        (["--base-url=http://127.0.0.1:9"], "--api-key and --request-id"),
        (["--base-url=http://127.0.0.1:9", "--api-key=abcdefgh"], "--request-id"),
        (["--region=mars"], "--region must be one of"),
        (["--base-url=ftp://x"], "must start with http"),
        (["--rate-limit=fast"], "--rate-limit must be a positive number"),
    ],
)
def test_usage_errors(args, says):
    env = {k: v for k, v in os.environ.items() if not k.startswith("FPJS_")}
    run = pytest_cli(*args, env=env)
    assert run.returncode == 4, run.stdout + run.stderr
    assert says in run.stderr and "Traceback" not in run.stderr


def test_optional_values_skip_with_their_option_named(tmp_path):
    key = "k" + secrets.token_hex(10)
    with reference_server(key) as s:
        run = run_suite(s.url, key, tmp_path, "-rs", "-k", "UE-AUTH-06 or UE-ID-03 or UE-TRANS-01")
    assert run.returncode == 0, run.output[-2000:]
    for option in ("--wrong-region-api-key", "--expired-request-id", "--not-ready-request-id"):
        assert option in run.output


def test_full_run_against_a_separate_reference_server(tmp_path):
    """Issue 2's acceptance line: every optional value given, a separately started server, all pass."""
    key, eu_key = "k" + secrets.token_hex(10), "eu" + secrets.token_hex(10)
    from refserver import Settings

    ids = Settings()
    with reference_server(key, wrong_region_api_key=eu_key) as s:
        run = run_suite(
            s.url,
            key,
            tmp_path,
            f"--expired-request-id={ids.expired_request_id}",
            f"--not-ready-request-id={ids.not_ready_request_id}",
            f"--wrong-region-api-key={eu_key}",
            "-rs",
            env={"FPJS_HYPOTHESIS_PROFILE": "ci"},
        )
    assert run.returncode == 0, run.output[-3000:]
    assert "skipped" not in run.output and key not in run.output and eu_key not in run.output


def test_run_timeout_stops_the_run(tmp_path):
    key = "k" + secrets.token_hex(10)
    with reference_server(key) as s:
        run = run_suite(s.url, key, tmp_path, "--run-timeout=0.001")
    assert run.returncode == 1 and "--run-timeout" in run.output and "Traceback" not in run.output
