"""The kill matrix: a signal (SIGTERM or SIGINT) at 20 points of a run (the preflight, the coverage table, the
random phase, the restore) and the run timeout at 18. Whatever stops the run, the designated event ends as it
was found, or the journal in the report folder holds its original values; a signal always ends the run
with exit 2, at a safe point (no traceback, no "Exception ignored").

The reference server runs separately (one per xdist worker), so the event outlives each run. A
front forwards every request to it and counts them: a signal goes out when the n-th request arrives
(or a few milliseconds later, inside the pacing wait), so each point lands in its phase however busy
the machine is. Where the phases lie is measured once per worker by an undisturbed run of the same
command (the `ci` profile is derandomized: the same requests in the same order every time).

Both signals take one path in a run (`Run._on_signal`), so each point gets one of them, in turn, so that
every phase sees both, paced and not (20 runs); `--full-kill-matrix` sends both at every point (40).
"""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from fpjs_conformance import designated
from tests.hostile import HostileServer, forwarding
from tests.runner import IDS, clean_env, reap, reference_server, start_suite
from tests.test_restore import ORIGINAL, put_original, stored, wire

RATE = 100  # requests per second: a run of a few seconds (the ci profile sends about 200 requests)
ARGS = ("--hypothesis-profile=ci", f"--rate-limit={RATE}")
RUN_BOUND = 90  # seconds any one run may take here, however busy the machine
BAD_WORDS = ("Traceback", "SystemError", "Exception ignored", "INTERNALERROR")
WRITE_BACK = wire("v3", ORIGINAL)  # the restore's write-back: the only update carrying the original values

# (phase, where in the phase from 0 to 1, seconds after the request arrives that the signal goes out:
# 0 while the request is in flight, else inside the pacing wait that follows it)
POINTS = [
    *[("preflight", f, 0.0) for f in (0.0, 0.5, 1.0)],
    *[("table", i / 7, 0.004 * (i % 2)) for i in range(8)],
    *[("random", i / 5, 0.004 * (i % 2)) for i in range(6)],
    *[("restore", f, 0.0) for f in (0.0, 0.5, 1.0)],  # the read before, the write-back, the read after
]
SIGNALS = ("SIGTERM", "SIGINT")
TIMEOUT_POINTS = [i / 17 for i in range(18)]  # --run-timeout as fractions of the undisturbed run
HELD = ("write-back", "read-after")  # and two with the deadline passing inside the restore


@dataclass
class Front:
    """Counts the requests reaching it; at the n-th it signals the suite (now, or `after` seconds later).
    Also notes every request (method, body) and when the first one came."""

    n: int = 0
    signum: int = 0
    after: float = 0.0
    proc: subprocess.Popen | None = None
    fired: bool = False
    requests: list[tuple[str, bytes]] = field(default_factory=list)
    first_at: float | None = None  # time.monotonic() of the first request
    write_back_at: float | None = None  # and of the restore's write-back
    hold: Callable[[bytes, bytes, bytes], float] | None = None  # the front's `hold`
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def __call__(self, head: bytes, body: bytes) -> None:
        with self._lock:
            self.requests.append((head.split(b" ", 1)[0].decode(), body))
            now = time.monotonic()
            self.first_at = self.first_at or now
            if self.write_back_at is None and self.is_write_back(body):
                self.write_back_at = now
            hit = len(self.requests) == self.n
        if hit and self.after:
            threading.Timer(self.after, self._fire).start()
        elif hit:
            self._fire()

    def _fire(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.send_signal(self.signum)
            self.fired = True

    @staticmethod
    def is_write_back(body: bytes) -> bool:
        try:
            return json.loads(body) == WRITE_BACK
        except ValueError:
            return False


@dataclass
class Backend:
    url: str
    key: str


@dataclass
class Timeline:
    """Where the phases of an undisturbed run lie: request numbers (from 1) and its duration."""

    preflight: tuple[int, int]
    table: tuple[int, int]
    random: tuple[int, int]
    restore: tuple[int, int]
    duration: float  # seconds, from the run's start (its configuration) to its reports
    to_write_back: float  # seconds from the first request to the write-back

    def request(self, phase: str, where: float) -> int:
        lo, hi = getattr(self, phase)
        return lo + round(where * (hi - lo))


@pytest.fixture(scope="module")
def backend():
    key = "km" + os.urandom(10).hex()
    with reference_server(key) as server:
        yield Backend(server.url, key)


def suite(backend: Backend, front: Front, report_dir: Path, *extra: str) -> tuple[int, str]:
    """One run through a front to the backend, the event holding the known original values first."""
    put_original(backend.url, backend.key)
    with HostileServer(forwarding(backend.url, observe=front, hold=front.hold)) as server:
        args = (f"--base-url={server.url}", f"--request-id={IDS.request_id}", f"--report-dir={report_dir}")
        proc = start_suite(*args, *ARGS, *extra, env=clean_env(FPJS_API_KEY=backend.key))
        front.proc = proc
        try:
            output = proc.communicate(timeout=RUN_BOUND)[0]
        finally:
            reap(proc)
    return proc.returncode, output


@pytest.fixture(scope="module")
def timeline(backend: Backend, tmp_path_factory) -> Timeline:
    """The undisturbed run, once per worker: where each phase lies."""
    front = Front()
    report_dir = tmp_path_factory.mktemp("undisturbed")
    code, output = suite(backend, front, report_dir)
    assert code == 0, output[-3000:]
    summary = json.loads((report_dir / "summary.json").read_text())
    total = len(front.requests)
    write_back = next(i for i, (_, body) in enumerate(front.requests, 1) if front.is_write_back(body))
    assert write_back == total - 1, f"the write-back is not the restore's second request of {total}"
    preflight = max(i for i, (_, body) in enumerate(front.requests[:10], 1) if b'"preflight"' in body)
    table_end = preflight + summary["versions"][0]["estimate"]["coverage_requests"]
    assert table_end + 2 < write_back - 2, f"no random phase between {table_end} and {write_back}"
    return Timeline(
        preflight=(1, preflight),
        table=(preflight + 1, table_end),
        random=(table_end + 1, write_back - 2),
        restore=(write_back - 1, total),
        duration=summary["duration_s"],
        to_write_back=front.write_back_at - front.first_at,
    )


def assert_left_as_found(backend: Backend, report_dir: Path, output: str) -> None:
    """The event holds its original values, or an unfinished journal holds exactly them."""
    if stored(backend.url, backend.key) == ORIGINAL:
        return
    journal = designated.read(report_dir / designated.JOURNAL)
    assert journal is not None, f"event changed and no journal: {output[-3000:]}"
    assert journal["state"] not in designated.FINISHED, journal["state"]
    assert journal["original"] == ORIGINAL, journal["original"]


def assert_clean(output: str) -> None:
    for bad in BAD_WORDS:
        assert bad not in output, output[-3000:]


def signal_points(full: bool) -> list[tuple[str, str, float, float]]:
    """(phase, where, after, signal) for each run: by default one signal per point, SIGTERM and SIGINT taking
    turns within each phase so that each goes out both in flight and inside a pacing wait; `full`: both."""
    out = []
    for phase in dict.fromkeys(p for p, _, _ in POINTS):
        for k, point in enumerate(pt for pt in POINTS if pt[0] == phase):
            chosen = SIGNALS if full else (SIGNALS[(k + k // 2) % 2],)
            out += [(*point, signame) for signame in chosen]
    return out


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    if "signame" in metafunc.fixturenames:
        points = signal_points(metafunc.config.getoption("full_kill_matrix"))
        ids = [f"{p}-{w:.2f}{'-paced' if a else ''}-{s}" for p, w, a, s in points]
        metafunc.parametrize(("phase", "where", "after", "signame"), points, ids=ids)


def test_every_phase_gets_both_signals_in_flight_and_inside_a_pacing_wait():
    points = signal_points(full=False)
    assert len(points) == len(POINTS)
    for phase in {p for p, _, _ in POINTS}:
        seen = {(s, bool(a)) for p, _, a, s in points if p == phase}
        paced = {bool(a) for p, _, a in POINTS if p == phase}
        assert seen == {(s, a) for s in SIGNALS for a in paced}, phase
    assert len(signal_points(full=True)) == 2 * len(POINTS)


def test_a_signal_at_any_point_leaves_the_event_as_found(backend, timeline, tmp_path, signame, phase, where, after):
    front = Front(n=timeline.request(phase, where), signum=getattr(signal, signame), after=after)
    code, output = suite(backend, front, tmp_path)
    assert front.fired, f"request {front.n} never came ({len(front.requests)} did): {output[-2000:]}"
    assert code == 2, output[-3000:]
    assert_clean(output)
    assert_left_as_found(backend, tmp_path, output)
    summary = json.loads((tmp_path / "summary.json").read_text())
    assert summary["result"] == "interrupted", summary["result"]


@pytest.mark.parametrize("where", TIMEOUT_POINTS, ids=[f"{w:.2f}" for w in TIMEOUT_POINTS])
def test_the_run_timeout_at_any_point_leaves_the_event_as_found(backend, timeline, tmp_path, where):
    run_timeout = max(0.05, where * timeline.duration)
    code, output = suite(backend, Front(), tmp_path, f"--run-timeout={run_timeout:.3f}")
    assert code in (0, 1), output[-3000:]
    # Paced, the request before the restore goes out no sooner than this after the first (and the run began
    # before that): a deadline earlier than it passes while the run is still judging, on any machine.
    if run_timeout < (timeline.restore[0] - 2) / RATE:
        assert code == 1 and re.search(r"run[- ]timeout", output), output[-3000:]
    assert_clean(output)
    assert_left_as_found(backend, tmp_path, output)


@pytest.mark.parametrize("held", HELD)
def test_the_run_timeout_passing_inside_the_restore_leaves_the_event_as_found(backend, timeline, tmp_path, held):
    """The front holds the restore's write-back (or the read after it) until the run's deadline has passed:
    the restore goes on under its own deadline."""
    run_timeout = 2 * timeline.to_write_back + 3  # the run reaches its restore well before its deadline
    front = Front()
    released: list[float] = []

    def hold(head: bytes, body: bytes, answer: bytes) -> float:
        if held == "write-back":
            ours = Front.is_write_back(body)
        else:  # the first read after the write-back
            ours = head.startswith(b"GET ") and front.write_back_at is not None
        if not ours or released:
            return 0.0
        # The run started before its first request: its deadline has passed by then.
        released.append(front.first_at + run_timeout + 0.3)
        return max(0.0, released[0] - time.monotonic())

    front.hold = hold
    code, output = suite(backend, front, tmp_path, f"--run-timeout={run_timeout:.3f}", "--request-timeout=30")
    assert released, f"the run never reached its restore: {output[-3000:]}"
    assert code in (0, 1), output[-3000:]
    assert_clean(output)
    assert stored(backend.url, backend.key) == ORIGINAL, output[-3000:]
    summary = json.loads((tmp_path / "summary.json").read_text())
    assert summary["versions"][0]["restore"]["status"] == "restored", summary["versions"][0]["restore"]
