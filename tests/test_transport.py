"""The one request path: replay lines rebuild the exact key, secrets never leave, pacing and every wait
hold their bounds, bodies are decoded within the cap."""

import gzip
import secrets
import subprocess
import time
import zlib

import pytest
from hypothesis import given

from fpjs_conformance import profile as profiles
from fpjs_conformance import redact, strategies
from fpjs_conformance.content import ContentDecoder, uncompress
from fpjs_conformance.endpoint import is_loopback, split_userinfo
from fpjs_conformance.keys import Secrets
from fpjs_conformance.limits import Policy
from fpjs_conformance.model import NEAR_MISSES, Body, Credentials, Key, Request
from fpjs_conformance.options import rate_limit
from fpjs_conformance.transport import RunTimedOut, Transport
from tests.runner import reference_server, run_suite

V3, V4 = profiles.load("v3"), profiles.load("v4")


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


@pytest.mark.parametrize("p", [V3, V4], ids=["v3", "v4"])
def test_curl_line_replays_with_exported_key(p):
    key = "k" + secrets.token_hex(8)
    transport = Transport(p, "http://127.0.0.1:9", Secrets(key))
    place = p.key_places[-1].name
    built = transport.codec.encode(Request("a/b", Credentials.of(**{place: Key("valid")}), Body.of({})))
    line = transport.codec.curl(built, transport.policy.timeout)
    assert key not in line and "${FPJS_API_KEY}" in line
    out = subprocess.run(
        ["bash", "-c", f"for a in {line.removeprefix('curl ')}; do printf '%s\\n' \"$a\"; done"],
        env={"FPJS_API_KEY": key, "PATH": "/usr/bin:/bin"},
        capture_output=True,
        text=True,
        timeout=10,
    )
    words = out.stdout.splitlines()
    assert built.url in words  # the URL as really sent, key and all, once the shell expands it
    assert all(f"{k}: {v}" in words for k, v in built.headers.items())


def test_userinfo_is_a_secret_and_replays_from_the_environment():
    transport = Transport(
        V3, "http://user:pa55w0rd-secret@127.0.0.1:9", Secrets("k" * 12, userinfo="user:pa55w0rd-secret")
    )
    built = transport.codec.encode(Request("x", Credentials.of(header=Key("valid")), Body.of({})))
    line = transport.codec.curl(built, transport.policy.timeout)
    assert "pa55w0rd" not in line + built.shown_url and '-u "${FPJS_BASE_URL_USERINFO}"' in line
    assert split_userinfo("http://u:p@h:1/x") == ("http://h:1/x", "u:p")


def test_scrub_removes_key_and_identifying_near_misses():
    key = "Secret" + secrets.token_hex(8)
    s = Secrets(key)
    near = [s.value(Key("near", v))[0] for v in NEAR_MISSES]
    text = s.scrub(" ".join([key, *near]))
    assert key not in text and not any(n in text for n in near)


def test_scrub_leaves_short_fragments_of_a_short_key_alone():
    """Half of `test-key` is the word `test`: scrubbing it would garble file names and pytest's output."""
    text = "tests/test_auth.py::test_x test-key test-keyx"
    assert redact.scrub(text, ["test-key"]) == "tests/test_auth.py::test_x [secret] [secret]"


@given(strategies.unknown_event_ids(V3))
def test_fuzzed_ids_cannot_name_a_real_event(event_id):
    if V3.live_id.match(event_id):
        assert int(event_id.split(".")[0]) < 1.3e12  # before any Fingerprint event existed


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


@pytest.mark.parametrize(
    ("option", "base_url", "expected"),
    [
        (None, None, None),
        (None, "http://127.0.0.1:8080", None),
        (None, "https://api.fpjs.io", 5.0),
        (None, "https://eu.api.fpjs.io/v4", 5.0),
        ("20/s", "https://api.fpjs.io", 20.0),
        ("0", "https://api.fpjs.io", None),
        ("2.5", None, 2.5),
    ],
)
def test_default_pacing_is_the_live_limit_off_loopback(option, base_url, expected):
    assert rate_limit(option, base_url) == expected


def test_waits_never_pass_the_run_deadline():
    transport = Transport(V3, "http://127.0.0.1:9", Secrets("k" * 12), Policy(deadline=time.monotonic() + 0.2))
    started = time.monotonic()
    with pytest.raises(RunTimedOut):
        transport._wait(5)
    assert time.monotonic() - started < 1  # refused up front, not the 5 s slept


@pytest.mark.parametrize("coding", ["gzip", "deflate", "raw-deflate"])
def test_bodies_are_decoded(coding):
    data = b'{"error": {"code": "x", "message": "' + b"y" * 5000 + b'"}}'
    packed = {
        "gzip": gzip.compress(data),
        "deflate": zlib.compress(data),
        "raw-deflate": zlib.compress(data)[2:-4],
    }[coding]
    decoder = ContentDecoder("deflate" if "deflate" in coding else coding)
    out = b"".join(decoder.feed(packed[i : i + 100], 10**6) for i in range(0, len(packed), 100))
    assert out + decoder.flush(10**6) == data


def test_a_gzip_bomb_stays_within_the_cap():
    bomb = gzip.compress(b"\0" * (50 * 1024 * 1024))
    decoder = ContentDecoder("gzip")
    out = decoder.feed(bomb, 1024 * 1024 + 1)
    assert len(out) <= 1024 * 1024 + 1 and decoder.overflowed


@pytest.mark.parametrize("coding", ["gzip", "deflate", "raw-deflate", "identity", "br"])
def test_a_whole_body_is_decoded_once_and_capped(coding):
    """`uncompress` (the proxy's judged body) undoes what `ContentDecoder` undoes; what it cannot decode, or was not
    asked to, stays the bytes that came; a bomb stops at the cap."""

    data = b'{"error": {"code": "x", "message": "' + b"y" * 5000 + b'"}}'
    packed = {"gzip": gzip.compress(data), "deflate": zlib.compress(data), "raw-deflate": zlib.compress(data)[2:-4]}
    header = "deflate" if "deflate" in coding else coding
    assert uncompress(packed.get(coding, data), header, 10**6) == data
    assert uncompress(packed.get(coding, data), header, 100) == data[:100]
    assert uncompress(b"not gzip at all", "gzip", 10**6) == b"not gzip at all"
    assert len(uncompress(gzip.compress(b"\0" * (50 * 1024 * 1024)), "gzip", 1024)) == 1024


def test_rate_limit_caps_the_peak(tmp_path):
    key = "k" + secrets.token_hex(10)
    with reference_server(key) as server:
        run = run_suite(server.url, key, tmp_path, "--rate-limit=20/s", "--hypothesis-profile=table", "-k", "UE-AUTH")
    assert run.returncode == 0, run.output[-2000:]
    stats = run.summary["versions"][0]["stats"]
    assert stats["requests_sent"] > 20 and stats["peak_requests_per_second"] <= 20


def test_a_failure_shows_the_path_as_sent():
    """`/events/%2F` is what went on the wire, not `/events//`."""
    from fpjs_conformance.model import Exchange

    transport = Transport(V4, "http://127.0.0.1:9/v4", Secrets("k" * 12))
    request = Request("/", Credentials.of(header=Key("valid")), Body.of({}))
    built = transport.codec.encode(request)
    ex = Exchange(request, built.method, built.shown_url, built.shown_headers)
    assert ex.describe_request().startswith(f"{V4.update_method} /v4/events/%2F [")


def test_the_target_shows_a_short_repr():
    """Hypothesis prints the arguments of a failing example: never the target's internals."""
    from fpjs_conformance.ledger import Ledger
    from fpjs_conformance.model import Events
    from fpjs_conformance.target import Target

    transport = Transport(V3, "http://127.0.0.1:9", Secrets("k" * 12))
    target = Target(V3, "http://127.0.0.1:9", Events("x"), transport, Ledger("v3"))
    assert repr(target) == "Target(v3 http://127.0.0.1:9)"


def test_a_read_back_finding_counts_its_request_once():
    """A failed read-back check and the restore's finding count one request under their clause, as a
    passed check does (they were counted twice)."""
    from fpjs_conformance.checks import Violation
    from fpjs_conformance.ledger import Ledger
    from fpjs_conformance.model import Events
    from fpjs_conformance.target import Target

    target = Target(
        V3, "http://127.0.0.1:9", Events("x"), Transport(V3, "http://127.0.0.1:9", Secrets("k" * 12)), Ledger("v3")
    )

    def broken():
        raise Violation("UE-SEM-01", "the written value", "another")

    with pytest.raises(Violation):
        target.record_check("UE-SEM-01", broken)
    target.record_check("UE-SEM-02", lambda: None)
    target.record_violation(Violation("UE-SEM-03", "the original", "another"))
    counts = {c: (t.requests, t.passed, t.failed) for c, t in target.ledger.clauses.items()}
    assert counts == {"UE-SEM-01": (1, 0, 1), "UE-SEM-02": (1, 1, 0), "UE-SEM-03": (1, 0, 1)}


@pytest.mark.parametrize(
    ("value", "expected"),
    [("7", 7.0), ("Thu, 01 Jan 2026 00:00:09 GMT", 9.0), ("Thu, 01 Jan 2026 00:00:00 GMT", 0.0), ("soon", 1.0)],
    ids=["seconds", "http-date", "http-date-past", "unreadable"],
)
def test_retry_after_is_read_in_both_forms_rfc_9110_allows(value, expected):
    from fpjs_conformance.transport import _retry_after

    now = 1767225600.0  # 2026-01-01T00:00:00Z
    assert _retry_after({"retry-after": value}, now=now) == expected
