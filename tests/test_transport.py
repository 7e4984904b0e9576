"""The one request path: replay lines rebuild the exact key, secrets never leave, pacing holds."""

import re
import secrets
import subprocess

import pytest
from hypothesis import given

import strategies
from contracts.model import NEAR_MISSES, Body, Credentials, Key, Request
from contracts.transport import Secrets, Transport, is_loopback
from tests.runner import reference_server, run_suite


@pytest.mark.parametrize("variant", sorted(NEAR_MISSES))
@pytest.mark.parametrize("key", ["Ab3dEf9hIjK1mN0pQr", "y0123456789abcdefXYZ", "1234567890"])
def test_replay_expression_rebuilds_the_near_miss(variant, key):
    value, shell = Secrets(key).value(Key("near", variant))
    assert value != key
    out = subprocess.run(
        ["bash", "-c", f'printf %s "{shell}"'],
        env={"FPJS_API_KEY": key, "PATH": "/usr/bin:/bin"},
        capture_output=True,
        text=True,
        timeout=10,
    )
    assert out.stdout == value


def test_curl_line_replays_with_exported_key():
    key = "k" + secrets.token_hex(8)
    transport = Transport("http://127.0.0.1:9", Secrets(key))
    url, shown_url, _headers, shown = transport._parts(Request("a/b", Credentials(query=Key("valid")), Body.of({})))
    line = transport.curl("PUT", shown_url, shown, b"{}", 1)
    assert key not in line and "${FPJS_API_KEY}" in line
    out = subprocess.run(
        ["bash", "-c", f"printf '%s' {line.split()[7]}"],
        env={"FPJS_API_KEY": key},
        capture_output=True,
        text=True,
        timeout=10,
    )
    assert out.stdout == url


def test_scrub_removes_key_and_near_misses():
    key = "Secret" + secrets.token_hex(8)
    s = Secrets(key)
    near = [s.value(Key("near", v))[0] for v in NEAR_MISSES]
    text = s.scrub(" ".join([key, *near]))
    assert key not in text and not any(n in text for n in near)


@given(strategies.unknown_request_ids())
def test_fuzzed_ids_cannot_name_a_real_event(request_id):
    match = re.match(r"^(\d{13})\.", request_id)
    assert match is None or int(match.group(1)) < 1.3e12  # before any Fingerprint event existed


@pytest.mark.parametrize(
    ("url", "loopback"),
    [
        ("http://127.0.0.1:8000", True),
        ("http://localhost", True),
        ("http://[::1]:80", True),
        ("https://api.fpjs.io", False),
    ],
)
def test_loopback_detection(url, loopback):
    assert is_loopback(url) is loopback


def test_rate_limit_caps_the_peak(tmp_path):
    key = "k" + secrets.token_hex(10)
    with reference_server(key) as server:
        run = run_suite(server.url, key, tmp_path, "--rate-limit=20/s", "-k", "UE-TRANS-02")
    assert run.returncode == 0, run.output[-2000:]
    sent, peak = map(int, re.search(r"fpjs: (\d+) requests, peak (\d+)/s", run.output).groups())
    assert sent > 20 and peak <= 20


@pytest.mark.parametrize(
    ("option", "base_url", "expected"),
    [
        (None, None, None),
        (None, "http://127.0.0.1:8080", None),
        (None, "https://api.fpjs.io", 5.0),
        (None, "https://eu.api.fpjs.io", 5.0),
        ("20/s", "https://api.fpjs.io", 20.0),
        ("0", "https://api.fpjs.io", None),
        ("2.5", None, 2.5),
    ],
)
def test_default_pacing_is_the_live_limit_off_loopback(option, base_url, expected):
    from contracts.plugin import rate_limit

    assert rate_limit(option, base_url) == expected
