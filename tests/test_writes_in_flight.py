"""A write of the designated event, once sent, is awaited to its answer: neither the run's deadline nor a
second signal abandons it, so none lands after the restore has written the original values back."""

from __future__ import annotations

import json
import secrets
import signal
import threading

from tests.hostile import HostileServer, forwarding
from tests.runner import IDS, clean_env, reap, reference_server, start_suite
from tests.test_restore import ORIGINAL, put_original, stored

BAD_WORDS = ("Traceback", "Exception ignored", "INTERNALERROR")


def _designated_write(head: bytes) -> bool:
    method, path = head.split(b" ", 2)[:2]
    return method == b"PUT" and path.split(b"?")[0].endswith(IDS.request_id.encode())


def test_the_run_timeout_passing_while_writes_are_late_leaves_the_event_as_found(tmp_path):
    """Every seventh request answered 400 ms late, the run timeout passing mid-run: the write on the wire
    when it passes is awaited, the restore comes after it, and the event ends as found."""
    key = "k" + secrets.token_hex(10)
    count = [0]
    lock = threading.Lock()

    def late(head: bytes, body: bytes, data: bytes) -> float:
        with lock:
            count[0] += 1
            return 0.4 if count[0] % 7 == 0 else 0.0

    with reference_server(key) as backend, HostileServer(forwarding(backend.url, hold=late)) as front:
        put_original(backend.url, key)
        args = [f"--base-url={front.url}", f"--request-id={IDS.request_id}", f"--report-dir={tmp_path}"]
        proc = start_suite(*args, "--run-timeout=4", "--hypothesis-profile=ci", env=clean_env(FPJS_API_KEY=key))
        try:
            output = proc.communicate(timeout=180)[0]
        finally:
            reap(proc)
        after = stored(backend.url, key)
    assert proc.returncode in (0, 1), output[-3000:]
    assert after == ORIGINAL, output[-3000:]
    for bad in BAD_WORDS:
        assert bad not in output, output[-3000:]


def test_a_second_signal_waits_for_the_write_on_the_wire(tmp_path):
    """Two signals while a write of the designated event is held by the server: the run waits for its
    answer (within the request timeout), then stops at its next safe point, restores and exits 2."""
    key = "k" + secrets.token_hex(10)
    proc: list = []
    fired: list[bool] = []

    def hold(head: bytes, body: bytes, data: bytes) -> float:
        if fired or not _designated_write(head) or b'"preflight"' in body:
            return 0.0
        fired.append(True)
        proc[0].send_signal(signal.SIGINT)
        proc[0].send_signal(signal.SIGTERM)
        return 1.5  # the update is stored; its answer comes 1.5 s later

    with reference_server(key) as backend, HostileServer(forwarding(backend.url, hold=hold)) as front:
        put_original(backend.url, key)
        args = [f"--base-url={front.url}", f"--request-id={IDS.request_id}", f"--report-dir={tmp_path}"]
        extra = ("--request-timeout=10", "--hypothesis-profile=table")
        proc.append(start_suite(*args, *extra, env=clean_env(FPJS_API_KEY=key)))
        try:
            output = proc[0].communicate(timeout=180)[0]
        finally:
            reap(proc[0])
        after = stored(backend.url, key)
    assert fired, output[-3000:]
    assert proc[0].returncode == 2, output[-3000:]
    assert after == ORIGINAL, output[-3000:]
    for bad in BAD_WORDS:
        assert bad not in output, output[-3000:]
    entries = json.loads((tmp_path / "traffic.har").read_text())["log"]["entries"]
    held = [e for e in entries if e["time"] >= 1400]  # the held write: its answer came 1.5 s later
    assert held and held[0]["response"]["status"] and not held[0]["_fpjs"]["error"], held[:1]  # awaited, answered


def test_signals_during_the_restore_end_with_exit_2_and_no_traceback(tmp_path):
    """The restore's write-back is held; SIGTERM, then SIGINT, arrive while it waits: the restore runs to its
    end, the run exits 2, and nothing is printed from a traceback."""
    key = "k" + secrets.token_hex(10)
    proc: list = []
    fired: list[bool] = []
    original = json.dumps({"linkedId": ORIGINAL["linked_id"]})[1:-1].encode()

    def hold(head: bytes, body: bytes, data: bytes) -> float:
        if fired or not _designated_write(head) or original not in body or b'"preflight"' in body:
            return 0.0
        fired.append(True)
        proc[0].send_signal(signal.SIGTERM)
        proc[0].send_signal(signal.SIGINT)
        return 1.0

    with reference_server(key) as backend, HostileServer(forwarding(backend.url, hold=hold)) as front:
        put_original(backend.url, key)
        args = [f"--base-url={front.url}", f"--request-id={IDS.request_id}", f"--report-dir={tmp_path}"]
        proc.append(start_suite(*args, "--hypothesis-profile=table", env=clean_env(FPJS_API_KEY=key)))
        try:
            output = proc[0].communicate(timeout=180)[0]
        finally:
            reap(proc[0])
        after = stored(backend.url, key)
    assert fired, output[-3000:]
    assert proc[0].returncode == 2, output[-3000:]
    assert after == ORIGINAL, output[-3000:]
    for bad in (*BAD_WORDS, "KeyboardInterrupt"):
        assert bad not in output, output[-3000:]
