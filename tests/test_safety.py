"""Safe to point at production: whatever ends a run (its timeout, a spent budget, 429s, an answer that
never came, another run on the same event, SIGKILL), the designated event is left as found or its
original values are on record; nothing secret reaches a file pytest writes; nothing a server says goes
raw into the terminal or the reports; a command line that cannot be run safely is refused before any
request. (Signals at every point of a run: tests/test_kill_matrix.py.)
"""

from __future__ import annotations

import json
import os
import re
import secrets
import signal
import subprocess
import threading
import time
from dataclasses import dataclass, field

import httpx
import pytest

from fpjs_conformance import designated
from fpjs_conformance import profile as profiles
from fpjs_conformance.designated import EventState
from fpjs_conformance.options import RESTORE_RESERVE
from fpjs_conformance.preflight import looks_like_probe, most_requests
from tests.hostile import BEHAVIOURS, HostileServer, always, answer, echoing_key, forwarding
from tests.runner import (
    IDS,
    ROOT,
    SUITE,
    clean_env,
    files_text,
    reap,
    reference_server,
    run_suite,
    start_suite,
    wait_for_first_test,
)
from tests.test_restore import ORIGINAL, put_original, stored, wire

RUN = 8  # characters of a secret that must never show up together
LIMITED = answer(
    "429 Too Many Requests", {"error": {"code": "TooManyRequests", "message": "slow down"}}, "Retry-After: 0\r\n"
)


def exposes(secret: str, text: str, run: int = RUN) -> bool:
    """Whether any `run` consecutive characters of `secret` appear in `text`."""
    return any(secret[i : i + run] in text for i in range(len(secret) - run + 1))


def assert_clean(output: str) -> None:
    for bad in ("Traceback", "INTERNALERROR", "SystemError", "Exception ignored"):
        assert bad not in output, output[-3000:]


@dataclass
class Seen:
    """Every request a front saw, as (method, path, body); an `observe` for `forwarding`."""

    requests: list[tuple[str, str, bytes]] = field(default_factory=list)
    first_at: float = 0.0  # time.monotonic() of the first request
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def __call__(self, head: bytes, body: bytes) -> None:
        method, path, _ = head.split(b"\r\n", 1)[0].decode("latin-1").split(" ", 2)
        with self._lock:
            self.first_at = self.first_at or time.monotonic()
            self.requests.append((method, path, body))

    def writes(self, event_id: str = IDS.request_id) -> list[bytes]:
        """The bodies of every update of `event_id` (PUT or PATCH of its path)."""
        return [b for m, p, b in self.requests if m in ("PUT", "PATCH") and f"/{event_id}" in p.split("?")[0]]


def is_write(head: bytes, event_id: str = IDS.request_id) -> bool:
    method, path = head.split(b" ", 2)[:2]
    return method in (b"PUT", b"PATCH") and path.split(b"?")[0].endswith(f"/{event_id}".encode())


def status_of(data: bytes) -> int:
    return int(data.split(b" ", 2)[1])


def read_wire(base: str, key: str, version: str = "v3") -> dict:
    """The event's fields as the read-back shows them (wire names)."""
    p = profiles.load(version)
    place = p.key_places[0]
    value = f"{place.scheme} {key}" if place.scheme else key
    address = base + p.server_path + p.path_for(p.read_back_path, IDS.request_id)
    return p.stored(httpx.get(address, headers={place.field: value}, timeout=10).json())


def restore_status(run) -> str:
    return run.summary["versions"][0]["restore"]["status"]


# -- 1. the run timeout passes mid-run: the restore has its own deadline --------------------------------
def test_the_run_timeout_passing_mid_run_still_restores_the_event(tmp_path):
    """Every answer 100 ms late: a 5 s run timeout passes inside the coverage table. The restore runs
    under its own deadline (grace after the run's), and a request the deadline cut short is the run's
    doing, never the server's (no UE-TRANSPORT-01 for an answer that was on its way)."""
    key = "k" + secrets.token_hex(10)
    with reference_server(key) as backend:
        put_original(backend.url, key)
        with HostileServer(forwarding(backend.url, hold=lambda head, body, data: 0.1)) as front:
            run = run_suite(front.url, key, tmp_path, "--hypothesis-profile=ci", "--run-timeout=5", timeout=120)
        after = stored(backend.url, key)
    assert run.returncode == 1, run.output[-3000:]
    assert "run-timeout" in (run.summary["stopped"] or ""), run.summary["stopped"]
    assert restore_status(run) == "restored", run.summary["versions"][0]["restore"]
    assert after == ORIGINAL
    assert "UE-TRANSPORT-01" not in run.failed("v3"), [f["received"] for f in run.summary["failures"]][:3]
    assert_clean(run.output)


# -- 2. 429s during the restore: its own reserve, 429 retries included ---------------------------------
@pytest.mark.parametrize("cap", [["--max-requests=120"], []], ids=["max-requests", "ci-cap"])
def test_429s_during_the_restore_are_covered_by_its_reserve(tmp_path, cap):
    """Every other request is answered 429 (Retry-After: 0): each costs two tries. The run spends its cap
    (--max-requests, or the ci profile's own); the restore, its three requests answered 429 first too,
    still has the tries it needs."""
    key = "k" + secrets.token_hex(10)
    count, limited_write_back = [0], []
    lock = threading.Lock()

    def respond(head: bytes, body: bytes) -> bytes | None:
        with lock:
            count[0] += 1
            if count[0] % 2:
                if is_write(head) and _json(body) == wire("v3", ORIGINAL):
                    limited_write_back.append(True)
                return LIMITED
        return None

    with reference_server(key) as backend:
        put_original(backend.url, key)
        with HostileServer(forwarding(backend.url, respond=respond)) as front:
            run = run_suite(front.url, key, tmp_path, "--hypothesis-profile=ci", *cap, timeout=120)
        after = stored(backend.url, key)
    assert run.returncode not in (2, 3, 4), run.output[-3000:]
    stats = run.summary["versions"][0]["stats"]
    assert run.summary["budget_left_out"] or stats["requests_sent"] >= 200, stats  # the cap was spent
    assert limited_write_back, "the write-back was never answered 429"
    assert restore_status(run) == "restored", run.summary["versions"][0]["restore"]
    assert after == ORIGINAL
    assert_clean(run.output)


def _json(body: bytes):
    try:
        return json.loads(body)
    except ValueError:
        return None


# -- 3. a write whose answer never came is this run's own --------------------------------------------
def test_a_write_whose_answer_never_came_is_not_a_concurrent_writers(tmp_path):
    """The front forwards an update (the server stores it) and answers only after the request timeout. The
    budget ends the run right after it, so no read-back shows the value before the restore does: the run
    sent it, so it is restored, not left to a 'concurrent writer'; and because it got no answer, the restore
    reads once more after its write-back (the write may land late). Which request to hold: the first
    update of the coverage table that changes the event, found by an undisturbed run of the same
    (deterministic) command."""
    key = "k" + secrets.token_hex(10)
    args = ("--hypothesis-profile=table", "-k", "UE-SEM", "--request-timeout=1")
    least = most_requests(profiles.load("v3"))  # --max-requests must cover the preflight and the reserve
    with reference_server(key) as backend:
        put_original(backend.url, key)
        # The undisturbed run: for every request, whether it changed the event.
        changed: list[bool] = []
        last = [read_wire(backend.url, key)]

        def note(head: bytes, body: bytes, data: bytes) -> float:
            now = read_wire(backend.url, key) if is_write(head) and status_of(data) == 200 else last[0]
            changed.append(now != last[0])
            last[0] = now
            return 0.0

        with HostileServer(forwarding(backend.url, hold=note)) as front:
            first = run_suite(front.url, key, tmp_path / "undisturbed", *args)
        assert first.returncode == 0, first.output[-3000:]
        held = next(n for n, change in enumerate(changed, 1) if change and n >= least)

        # The same run, that update answered 2 s late and the budget spent with it.
        count = [0]

        def late(head: bytes, body: bytes, data: bytes) -> float:
            count[0] += 1
            return 2.0 if count[0] == held else 0.0

        put_original(backend.url, key)
        with HostileServer(forwarding(backend.url, hold=late)) as front:
            budget = f"--max-requests={held + RESTORE_RESERVE}"
            run = run_suite(front.url, key, tmp_path / "late", *args, budget)
        after = stored(backend.url, key)
    assert count[0] == held + 4, f"{count[0]} requests: the held update, then the restore's four: {run.output[-3000:]}"
    assert run.returncode == 1, run.output[-3000:]
    assert "UE-TRANSPORT-01" in run.failed("v3"), run.summary["failures"][:3]
    assert restore_status(run) == "restored", run.summary["versions"][0]["restore"]
    assert after == ORIGINAL


# -- 4. two runs on one event ---------------------------------------------------------------------------
def test_a_second_run_on_an_event_in_use_stops_before_writing(tmp_path):
    """Run A is held mid-run (its front stops forwarding once the event holds A's probe values); run B,
    on the same target and event with its own report folder, stops as a setup problem without one update.
    Then A goes on and puts the original values back."""
    key = "k" + secrets.token_hex(10)
    v3 = profiles.load("v3")
    in_use, b_done = threading.Event(), threading.Event()

    def wait_for_b(head: bytes, body: bytes) -> None:
        if in_use.is_set():
            b_done.wait(90)

    def arm(head: bytes, body: bytes, data: bytes) -> float:
        if is_write(head) and status_of(data) == 200 and looks_like_probe(v3, read_wire(backend.url, key)):
            in_use.set()
        return 0.0

    seen_b = Seen()
    with reference_server(key) as backend:
        put_original(backend.url, key)
        with (
            HostileServer(forwarding(backend.url, observe=wait_for_b, hold=arm)) as front_a,
            HostileServer(forwarding(backend.url, observe=seen_b)) as front_b,
        ):
            args = (f"--request-id={IDS.request_id}", "--hypothesis-profile=table", "--request-timeout=120")
            env = clean_env(FPJS_API_KEY=key)
            a = start_suite(f"--base-url={front_a.url}", f"--report-dir={tmp_path / 'a'}", *args, env=env)
            try:
                deadline = time.monotonic() + 90
                while not in_use.wait(0.2):
                    assert a.poll() is None and time.monotonic() < deadline, "run A wrote no probe value"
                b = run_suite(front_b.url, key, tmp_path / "b", "--hypothesis-profile=table")
                b_done.set()
                output_a = a.communicate(timeout=120)[0]
            finally:
                b_done.set()
                reap(a)
        after = stored(backend.url, key)
    assert b.returncode == 6, b.output[-3000:]
    assert b.summary["result"] == "setup-problem"
    assert seen_b.requests and not seen_b.writes(), seen_b.writes()[:3]
    assert a.returncode == 0, output_a[-3000:]
    summary_a = json.loads((tmp_path / "a" / "summary.json").read_text())
    assert summary_a["versions"][0]["restore"]["status"] == "restored", summary_a["versions"][0]["restore"]
    assert after == ORIGINAL


# -- 5. -n: one process, refused before any request ------------------------------------------------------
def test_several_processes_are_refused_before_any_request(tmp_path):
    seen = Seen()
    key = "k" + secrets.token_hex(10)
    with reference_server(key) as backend, HostileServer(forwarding(backend.url, observe=seen)) as front:
        args = [f"--base-url={front.url}", f"--request-id={IDS.request_id}", f"--report-dir={tmp_path}"]
        run = subprocess.run(
            [*SUITE, "-n", "2", *args],
            cwd=ROOT,
            env=clean_env(FPJS_API_KEY=key),
            capture_output=True,
            text=True,
            timeout=120,
            stdin=subprocess.DEVNULL,
        )
    assert run.returncode == 4, run.stdout + run.stderr
    assert "-n" in run.stderr and "Traceback" not in run.stdout + run.stderr
    assert not seen.requests, seen.requests[:3]


# -- 6. a field that was unset is restored as what unset reads as ---------------------------------------
@pytest.mark.parametrize("version", ["v3", "v4"])
def test_an_event_without_suspect_is_restored(tmp_path, version):
    """The seeded event has no `suspect` (absent reads as false); the run sets it true and restores false."""
    key = "k" + secrets.token_hex(10)
    with reference_server(key) as backend:
        before = stored(backend.url, key, version)
        assert before["suspect"] is None  # absent
        base = backend.url + profiles.load(version).server_path
        run = run_suite(base, key, tmp_path, "--hypothesis-profile=table", f"--api-version={version}")
        after = stored(backend.url, key, version)
    assert run.returncode == 0, run.output[-3000:]
    journal = designated.read(tmp_path / designated.JOURNAL)
    assert designated.digest(True) in journal["sent"]["suspect"]  # the run did set it
    assert restore_status(run) == "restored", run.summary["versions"][0]["restore"]
    assert after["suspect"] in (None, False), after


# -- 7. SIGKILL: the journal, --restore-from, and a later run that finds the journal --------------------
def test_after_sigkill_the_journal_holds_the_original_and_restore_from_puts_it_back(tmp_path):
    """SIGKILL after the first test: the journal holds the original values (store names), still open. A
    later run on that target and event with the journal in its report folder stops before any request,
    naming --restore-from; --restore-from puts the values back and closes the journal."""
    key = "k" + secrets.token_hex(10)
    report_dir = tmp_path / "reports"
    journal_path = report_dir / designated.JOURNAL
    env = clean_env(FPJS_API_KEY=key)
    seen = Seen()
    with reference_server(key) as backend, HostileServer(forwarding(backend.url, observe=seen)) as front:
        put_original(backend.url, key)
        args = [f"--base-url={front.url}", f"--request-id={IDS.request_id}", f"--report-dir={report_dir}"]
        proc = start_suite(*args, "--hypothesis-profile=ci", "--rate-limit=100", env=env)
        try:
            wait_for_first_test(proc)
            proc.kill()
            proc.communicate(timeout=30)
        finally:
            reap(proc)
        journal = designated.read(journal_path)
        assert journal is not None and journal["state"] == "open", journal
        assert journal["original"] == ORIGINAL and journal["event_id"] == IDS.request_id
        changed = stored(backend.url, key)
        assert changed != ORIGINAL  # the run had changed it

        seen.requests.clear()
        later = run_suite(front.url, key, report_dir, "--hypothesis-profile=table")
        assert later.returncode == 6, later.output[-3000:]
        assert "--restore-from" in later.summary["stopped"]
        assert not seen.writes(), seen.writes()[:3]
        assert stored(backend.url, key) == changed  # nothing written
        assert designated.read(journal_path)["state"] == "open"  # left for --restore-from

        restore = subprocess.run(
            [
                *SUITE,
                f"--restore-from={journal_path}",
                f"--base-url={front.url}",
                f"--request-id={IDS.request_id}",
                f"--report-dir={tmp_path / 'r'}",
            ],
            cwd=ROOT,
            env=env,
            capture_output=True,
            text=True,
            timeout=120,
            stdin=subprocess.DEVNULL,
        )
        after = stored(backend.url, key)
    assert restore.returncode == 0, restore.stdout[-3000:] + restore.stderr[-2000:]
    assert after == ORIGINAL
    assert designated.read(journal_path)["state"] == "restored"
    assert_clean(restore.stdout + restore.stderr)


# -- 8. secrets in the files pytest writes ---------------------------------------------------------------
def test_the_log_file_holds_no_key_and_no_password(tmp_path):
    """httpx logs every URL (v3's query place carries the key; the base URL carries user:password)."""
    key = "K" + secrets.token_urlsafe(30)[:39]
    password = "pw" + secrets.token_urlsafe(20)[:22]
    log = tmp_path / "pt.log"
    with reference_server(key) as backend:
        base = backend.url.replace("http://", f"http://fpjs-user:{password}@")
        run = run_suite(
            base,
            key,
            tmp_path / "reports",
            "--hypothesis-profile=table",
            "-k",
            "UE-AUTH-04 or UE-AUTH-05",
            f"--log-file={log}",
            "--log-file-level=INFO",
        )
    assert run.returncode == 0, run.output[-3000:]
    text = log.read_text(encoding="utf-8", errors="replace")
    assert "HTTP Request" in text and "[secret]" in text  # httpx logged the URLs, the key scrubbed out
    for secret in (key, password):
        assert not exposes(secret, text), "a secret in the log file"
        assert not exposes(secret, run.output + files_text(tmp_path / "reports"))


@pytest.mark.parametrize("server", ["wrong-key-echoed", "key-in-error-code"])
def test_the_debug_file_holds_no_key_a_server_echoed(tmp_path, server):
    """A mutant quoting the keys it refuses in its messages; a server quoting the valid key in its error code,
    which goes into the stop line, the skip of every test, and with them --debug's trace of the hooks."""
    key = "K" + secrets.token_urlsafe(30)[:39]
    debug = tmp_path / "dbg.log"
    args = ("--hypothesis-profile=table", "-k", "UE-AUTH", f"--debug={debug}")
    if server == "wrong-key-echoed":
        with reference_server(key, "-m", "tests.variants", server) as variant:
            run = run_suite(variant.url, key, tmp_path / "reports", *args)
        assert run.returncode == 1, run.output[-3000:]
    else:
        with HostileServer(echoing_key) as front:
            run = run_suite(front.url, key, tmp_path / "reports", *args)
        assert run.returncode == 6, run.output[-3000:]
    text = debug.read_text(encoding="utf-8", errors="replace")
    assert "pytest_runtest_logreport" in text  # the trace was written
    if server == "key-in-error-code":
        assert "[secret]" in text  # the echo reached the trace, scrubbed
    assert not exposes(key, text)
    assert not exposes(key, run.output + files_text(tmp_path / "reports"))


# -- 9. --full-trace and -l after Ctrl-C ------------------------------------------------------------------
@pytest.mark.parametrize("when", ["after-the-first-test", "twice-inside-a-request"])
def test_full_trace_with_locals_after_ctrl_c_shows_no_part_of_the_key(tmp_path, when):
    """pytest prints every frame with its arguments (`--full-trace`), each repr shortened, as `-l` shortens
    locals: a 42-character key cut in two by the shortening would escape a scrubber that looks for the whole
    key. Ctrl-C after the first test stops the run at the next test. Two signals while a request is on the
    wire stop it at once, inside the transport, whose frames hold the request as sent (key and all)."""
    key = "K" + secrets.token_urlsafe(32)[:41]
    assert len(key) == 42
    proc: list[subprocess.Popen] = []
    seen = Seen()
    fired = []

    def interrupt(head: bytes, body: bytes) -> None:
        seen(head, body)
        # A read-back: a write of the designated event is awaited to its answer (the write gate), a read is not.
        if when == "twice-inside-a-request" and len(seen.requests) >= 20 and head.startswith(b"GET ") and not fired:
            fired.append(True)
            proc[0].send_signal(signal.SIGINT)  # a stop request...
            proc[0].send_signal(signal.SIGTERM)  # ...and a second signal: now, wherever the run is

    with reference_server(key) as backend, HostileServer(forwarding(backend.url, observe=interrupt)) as front:
        args = [f"--base-url={front.url}", f"--request-id={IDS.request_id}", f"--report-dir={tmp_path}"]
        extra = ("--full-trace", "-l", "--rate-limit=100", "--hypothesis-profile=ci")
        proc.append(start_suite(*args, *extra, env=clean_env(FPJS_API_KEY=key)))
        try:
            output = ""
            if when == "after-the-first-test":
                output = wait_for_first_test(proc[0])
                proc[0].send_signal(signal.SIGINT)
            output += proc[0].communicate(timeout=120)[0]
        finally:
            reap(proc[0])
    assert proc[0].returncode == 2, output[-3000:]
    assert "KeyboardInterrupt" in output and ".py:" in output  # the trace was printed
    if when == "twice-inside-a-request":
        assert "_once" in output and "[secret]" in output  # the request as sent went through a repr, scrubbed
    assert not exposes(key, output), "part of the key in the output"
    assert not exposes(key, files_text(tmp_path)), "part of the key in a report"


# -- 10, 14, 15, 16. refused before any request --------------------------------------------------------
REMOTE = ("--api-key=abcdefgh12345678", f"--request-id={IDS.request_id}")
# id -> (arguments, environment, a word of the one ERROR line); {url}: a front that notes every request,
# {userinfo}: the same with user:password, {not_pem}: a file that is not PEM
USAGE = {
    "v4-userinfo": (["--base-url={userinfo}/v4", *REMOTE], {}, "user:password"),
    **{
        f"max-requests-{n}": (["--base-url={url}", *REMOTE, f"--max-requests={n}"], {}, "--max-requests")
        for n in range(1, 6)
    },
    "ca-bundle-not-pem": (["--base-url={url}", *REMOTE, "--ca-bundle={not_pem}"], {}, "--ca-bundle"),
    "ipv6-unclosed": (["--base-url=http://[::1", *REMOTE], {}, "--base-url"),
    "profile-typo": (["--hypothesis-profile=nighty"], {}, "--hypothesis-profile"),
    "profile-typo-env": ([], {"FPJS_HYPOTHESIS_PROFILE": "nighty"}, "FPJS_HYPOTHESIS_PROFILE"),
    "request-timeout-1e300": (["--base-url={url}", *REMOTE, "--request-timeout=1e300"], {}, "--request-timeout"),
    "deviations-file-dev-zero": (["--base-url={url}", *REMOTE, "--deviations-file=/dev/zero"], {}, "/dev/zero"),
}


@pytest.mark.parametrize("case", sorted(USAGE))
def test_unsafe_command_lines_are_refused_before_any_request(tmp_path, case):
    args, env, says = USAGE[case]
    not_pem = tmp_path / "ca.pem"
    not_pem.write_text("this is not a certificate\n")
    seen = Seen()
    with HostileServer(forwarding("http://127.0.0.1:9", observe=seen)) as front:
        userinfo = front.url.replace("http://", "http://fpjs-user:pw12345678@")
        argv = [a.format(url=front.url, userinfo=userinfo, not_pem=not_pem) for a in args]
        started = time.monotonic()
        run = subprocess.run(
            [*SUITE, *argv, f"--report-dir={tmp_path / 'reports'}"],
            cwd=ROOT,
            env=clean_env(**env),
            capture_output=True,
            text=True,
            timeout=60,
            stdin=subprocess.DEVNULL,
        )
    assert run.returncode == 4, run.stdout[-2000:] + run.stderr[-2000:]
    assert time.monotonic() - started < 45  # quickly, whatever the file is (/dev/zero never ends)
    errors = [line for line in run.stderr.splitlines() if line.startswith("ERROR:")]
    assert len(errors) == 1 and says in errors[0], run.stderr[-2000:]
    assert "Traceback" not in run.stdout + run.stderr and "INTERNALERROR" not in run.stdout + run.stderr
    assert not seen.requests
    assert not (tmp_path / "reports").exists()  # nothing written either


# -- 11. server text goes escaped into the terminal and the reports ---------------------------------------
FORGED = "\x1b[2K\r\n=== 35 passed in 1.00s ===\r\n\x1b[32m"


@pytest.fixture(scope="module")
def forged_run(tmp_path_factory):
    """A server whose 403 refuses the key with an error code (and message) that would, printed raw, erase
    the line and forge pytest's verdict on a line of its own."""
    key = "k" + secrets.token_hex(10)
    report_dir = tmp_path_factory.mktemp("forged")
    refused = answer("403 Forbidden", {"error": {"code": FORGED, "message": FORGED}})
    with HostileServer(always(refused)) as server:
        return run_suite(server.url, key, report_dir, "-rs", "--hypothesis-profile=table")


def test_server_text_is_escaped_in_the_terminal_and_the_reports(forged_run):
    run = forged_run
    assert run.returncode == 6, run.output[-3000:]
    assert_not_forged(run.output, "the terminal")
    summary = run.summary
    assert summary["result"] == "setup-problem" and "\\x1b" in summary["stopped"]  # shown, escaped
    for raw in ("\x1b", "\r", "\n"):
        assert raw not in summary["stopped"]
    for name in ("summary.json", "junit.xml"):
        assert_not_forged((run.report_dir / name).read_bytes().decode("utf-8"), name)
    import xml.etree.ElementTree as ET

    ET.parse(run.report_dir / "junit.xml")  # still XML


@pytest.mark.parametrize("name", ["summary.md", "report.html"])
def test_server_text_is_escaped_in_the_markdown_and_html_reports(forged_run, name):
    assert forged_run.returncode == 6, forged_run.output[-3000:]
    assert_not_forged((forged_run.report_dir / name).read_bytes().decode("utf-8"), name)


def assert_not_forged(text: str, where: str) -> None:
    assert "\x1b" not in text and "\r" not in text, f"raw ESC or CR from the server in {where}"
    forged = [line for line in text.splitlines() if line.lstrip(" \t>*`-#|").startswith("=== 35 passed")]
    assert not forged, f"a forged line in {where}: {forged[:2]}"


# -- 12. a server dripping its headers, under a run timeout -----------------------------------------------
def test_dripping_headers_end_within_the_request_and_run_timeouts(tmp_path):
    key = "canary" + secrets.token_hex(8)
    started = time.monotonic()
    with HostileServer(BEHAVIOURS["drip-headers"]) as server:
        run = run_suite(server.url, key, tmp_path, "--request-timeout=2", "--run-timeout=15", timeout=90)
    assert time.monotonic() - started < 60, run.output[-2000:]
    assert run.returncode == 1, run.output[-3000:]
    assert_clean(run.output)
    assert key not in run.output


# -- bugs found on the way -------------------------------------------------------------------------------
def test_a_run_timeout_inside_the_last_tests_random_examples_fails_the_run(tmp_path):
    """One clause; the front holds the first request after the coverage table (the first random example)
    until the run's deadline has passed. The test is skipped as not judged and no later test notices: the
    run must still end as timed out (exit 1), never green."""
    key = "k" + secrets.token_hex(10)
    run_timeout = 4.0  # the preflight and a one-case table fit in it on any machine
    seen = Seen()
    planned: list[int] = []
    known = threading.Event()
    preflight: list[int] = []

    def hold(head: bytes, body: bytes, data: bytes) -> float:
        n = len(seen.requests)  # this request's number: requests go one at a time
        if not preflight and b'"preflight"' not in body:
            preflight.append(n - 1)
        if not preflight or not known.wait(60) or n != preflight[0] + planned[0] + 1:
            return 0.0
        # The run began before its first request: its deadline has passed by the end of this wait.
        return max(0.0, seen.first_at + run_timeout + 0.5 - time.monotonic())

    with reference_server(key) as backend:
        put_original(backend.url, key)
        with HostileServer(forwarding(backend.url, observe=seen, hold=hold)) as front:
            args = (f"--base-url={front.url}", f"--request-id={IDS.request_id}", f"--report-dir={tmp_path}")
            extra = ("-k", "UE-BODY-01", "--hypothesis-profile=ci", f"--run-timeout={run_timeout}")
            proc = start_suite(*args, *extra, env=clean_env(FPJS_API_KEY=key))
            try:
                output = ""
                while not planned:
                    line = proc.stdout.readline()
                    assert line, output
                    output += line
                    if found := re.search(r"\((\d+) for the coverage table\)", line):
                        planned.append(int(found.group(1)))
                known.set()
                output += proc.communicate(timeout=120)[0]
            finally:
                known.set()
                reap(proc)
        after = stored(backend.url, key)
    assert len(seen.requests) > preflight[0] + planned[0] + 3, output[-3000:]  # held, then the restore
    assert proc.returncode == 1, output[-3000:]
    summary = json.loads((tmp_path / "summary.json").read_text())
    assert summary["result"] != "passed" and "run-timeout" in (summary["stopped"] or ""), summary["stopped"]
    assert summary["versions"][0]["restore"]["status"] == "restored"
    assert after == ORIGINAL


def test_a_refused_repeat_does_not_hide_an_earlier_write_that_got_no_answer():
    """A write got no answer (the server may have stored it); the same value sent again is refused. The
    read-back showing that value is still the run's own write, never mistaken for an older one."""
    state = EventState(original={"linked_id": "customer-42"})
    state.written = {"linked_id": "customer-42"}
    state.sending({"linked_id": "fpjs-probe"})  # no answer came
    state.sending({"linked_id": "fpjs-probe"})  # e.g. with a wrong key
    state.refused({"linked_id": "fpjs-probe"})
    assert state.explain("linked_id", "fpjs-probe") == "pending"


def test_restore_reserve_covers_every_restore_request_with_its_429_retries():
    from fpjs_conformance.limits import Budget, BudgetSpent, Policy

    budget = Budget(30, reserve=RESTORE_RESERVE)
    while budget.left:
        budget.take()
    for _ in range(3 * (1 + Policy().max_429_retries)):  # read, write back, read again; each 429'd to the end
        budget.take(reserved=True)
    with pytest.raises(BudgetSpent):
        budget.take()


# -- 13. a signal before the first request ------------------------------------------------------------------
PAUSE = '''
import pytest


@pytest.hookimpl(trylast=True)
def pytest_collection_finish(session):
    """After the suite printed its plan, before the first test: a pause to signal the run in."""
    import time

    reporter = session.config.pluginmanager.get_plugin("terminalreporter")
    reporter.write_line("paused before the first test")
    time.sleep(5)
'''


def test_sigterm_between_the_plan_and_the_first_request_is_exit_2(tmp_path):
    (tmp_path / "fpjs_pause.py").write_text(PAUSE)
    key = "k" + secrets.token_hex(10)
    with reference_server(key) as server:
        args = [f"--base-url={server.url}", f"--request-id={IDS.request_id}", f"--report-dir={tmp_path / 'reports'}"]
        env = clean_env(FPJS_API_KEY=key, PYTHONPATH=f"{ROOT}{os.pathsep}{tmp_path}")
        proc = start_suite(*args, "-p", "fpjs_pause", "--hypothesis-profile=table", env=env)
        try:
            seen = ""
            while "paused before the first test" not in seen:
                line = proc.stdout.readline()
                assert line, seen
                seen += line
            proc.send_signal(signal.SIGTERM)
            output = seen + proc.communicate(timeout=120)[0]
        finally:
            reap(proc)
    assert proc.returncode == 2, output[-3000:]
    assert json.loads((tmp_path / "reports" / "summary.json").read_text())["result"] == "interrupted"
