"""The proxy's bounds and its front door: bodies stream and only their first bytes are kept (memory stays
flat, the records say what was cut, a stop is quick), what cannot go upstream unchanged gets a 4xx of the
proxy's own (never a traceback), the upstream gets its own Host, and each live line is the violation
just found. Read from exit codes, statuses, the reports and /proc, never from the proxy's wording."""

from __future__ import annotations

import contextlib
import json
import secrets
import signal
import socket
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from fpjs_conformance import profile as profiles
from fpjs_conformance import proxy_forward
from fpjs_conformance.refserver.launch import ServerProcess
from tests.hostile import HostileServer, _receive
from tests.runner import IDS, ROOT, files_text, reference_server

TIMEOUT = 30
MIB = 1024 * 1024


@contextlib.contextmanager
def proxy(upstream: str, report_dir: Path, version: str = "v4", key: str = "") -> Iterator[ServerProcess]:
    command = [
        "-m",
        "fpjs_conformance.proxy",
        f"--upstream={upstream}",
        f"--api-version={version}",
        "--port=0",
        f"--report-dir={report_dir}",
    ]
    with ServerProcess(command, env={"FPJS_API_KEY": key, "PYTHONPATH": str(ROOT)}, ready_timeout=60) as served:
        yield served


def stop(served: ServerProcess, limit: float = 30) -> tuple[int, float]:
    """SIGTERM; (exit code, seconds it took)."""
    started = time.monotonic()
    served.proc.send_signal(signal.SIGTERM)
    code = served.proc.wait(timeout=limit)
    return code, time.monotonic() - started


def raw(url: str, request: bytes) -> tuple[int, bytes]:
    """One request as bytes on a socket (an HTTP client would normalise the path first); (status, body)."""
    host, port = url.removeprefix("http://").split(":")
    with socket.create_connection((host, int(port)), timeout=TIMEOUT) as conn:
        conn.sendall(request)
        data = b""
        while chunk := conn.recv(65536):
            data += chunk
    head, _, body = data.partition(b"\r\n\r\n")
    return int(head.split(b" ", 2)[1]), body


def peak_memory(pid: int) -> int:
    """The process's peak resident memory (bytes), from /proc."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) * 1024
    raise AssertionError("no VmHWM")


class Recorder:
    """An upstream on a raw socket: records each request's head, answers `reply` (whole bytes)."""

    def __init__(self, reply: bytes):
        self.reply = reply
        self.heads: list[bytes] = []

    def __call__(self, conn: socket.socket, stop: threading.Event) -> None:
        got = _receive(conn)
        if got is not None:
            self.heads.append(got[0])
            conn.sendall(self.reply)


def answer(body: bytes, media: str = "application/json") -> bytes:
    head = f"HTTP/1.1 200 OK\r\nContent-Type: {media}\r\nContent-Length: {len(body)}\r\nConnection: close\r\n\r\n"
    return head.encode() + body


# -- the front door ------------------------------------------------------------------------------------------
BAD_TARGETS = {
    "absolute-form": (b"PATCH http://elsewhere.example/v4/events/x HTTP/1.1\r\nHost: a\r\n", 400),
    "connect": (b"CONNECT elsewhere.example:443 HTTP/1.1\r\nHost: elsewhere.example:443\r\n", 405),
    "at-sign": (b"GET @elsewhere.example/v4/events/x HTTP/1.1\r\nHost: a\r\n", 400),
    "dot-segments": (b"GET /v4/events/../visitors/x HTTP/1.1\r\nHost: a\r\n", 400),
    "dot-segment-alone": (b"GET /v4/./events/x HTTP/1.1\r\nHost: a\r\n", 400),
}


def test_what_cannot_go_upstream_unchanged_gets_a_4xx_and_no_traceback(tmp_path):
    recorder = Recorder(answer(b"{}"))
    with HostileServer(recorder) as upstream, proxy(upstream.url + "/v4", tmp_path / "r") as served:
        for head, status in BAD_TARGETS.values():
            got, _ = raw(served.url, head + b"Connection: close\r\n\r\n")
            assert got == status, head
        # Percent-encoded dots are no dot segments: forwarded byte for byte.
        got, _ = raw(served.url, b"GET /v4/events/%2e%2e/visitors/x HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n")
        assert got == 200
        code, _ = stop(served)
        said = served.stderr()
    assert [h.split(b"\r\n")[0] for h in recorder.heads] == [b"GET /v4/events/%2e%2e/visitors/x HTTP/1.1"]
    assert "Traceback" not in said
    assert code == 0


def test_the_upstream_gets_its_own_host_not_the_clients(tmp_path):
    recorder = Recorder(answer(b"{}"))
    with HostileServer(recorder) as upstream, proxy(upstream.url + "/v4", tmp_path / "r") as served:
        request = b"GET /v4/events/x HTTP/1.1\r\nHost: client-side.example:8081\r\nConnection: close\r\n\r\n"
        assert raw(served.url, request)[0] == 200
        stop(served)
    hosts = [line for line in recorder.heads[0].split(b"\r\n") if line.lower().startswith(b"host:")]
    assert hosts == [b"Host: " + upstream.url.removeprefix("http://").encode()]


# -- bounds --------------------------------------------------------------------------------------------------
def test_large_uploads_stream_memory_stays_flat_the_records_say_what_was_cut(tmp_path):
    """Twelve 24 MiB updates through the proxy to the reference server: the proxy's peak memory grows far
    less than one body, each HAR entry keeps the first bytes and says how large the body was, and a
    SIGTERM ends the session within seconds with small reports."""
    key = "bounds-" + secrets.token_hex(10)
    size, count = 24 * MIB, 12
    report_dir = tmp_path / "r"
    url = f"/v4/events/{IDS.request_id}"

    def body() -> Iterator[bytes]:
        yield b'{"linked_id": "'
        for _ in range(size // MIB):
            yield b"x" * MIB
        yield b'"}'

    with reference_server(key) as upstream, proxy(upstream.url + "/v4", report_dir, key=key) as served:
        before = peak_memory(served.proc.pid)
        with httpx.Client(timeout=120) as http:
            for _ in range(count):
                answer_ = http.patch(
                    served.url + url,
                    content=body(),
                    headers={"Authorization": f"Bearer {key}", "Content-Type": "application/json"},
                )
                assert answer_.status_code == 400  # the reference server refuses a body past its limit
        grown = peak_memory(served.proc.pid) - before
        code, took = stop(served)
    assert grown < size, f"the proxy's peak memory grew by {grown // MIB} MiB for {count} bodies of {size // MIB} MiB"
    assert took < 20 and code in (0, 1)
    written = sum(p.stat().st_size for p in report_dir.rglob("*") if p.is_file())
    assert written < 8 * MIB
    entries = json.loads((report_dir / "traffic.har").read_text(encoding="utf-8"))["log"]["entries"]
    assert len(entries) == count
    for entry in entries:
        cut = entry["_fpjs"]["cut"]["request"]
        assert cut == {"kept": proxy_forward.KEPT, "received": size + 17}
        assert len(entry["request"]["postData"]["text"]) == proxy_forward.KEPT
    assert key not in files_text(report_dir)


def test_a_large_answer_passes_whole_and_is_judged_as_the_suite_judges_it(tmp_path):
    """A read-back answered with 3 MiB: the client gets every byte, the record keeps the first ones and
    says how large the answer was, and it is judged as the suite's transport judges an answer past its
    cap (UE-TRANSPORT-01)."""
    big = json.dumps({"padding": "p" * (3 * MIB)}).encode()
    recorder = Recorder(answer(big))
    key = "bounds-" + secrets.token_hex(10)
    report_dir = tmp_path / "r"
    with HostileServer(recorder) as upstream, proxy(upstream.url + "/v4", report_dir, key=key) as served:
        with httpx.Client(timeout=TIMEOUT) as http:
            got = http.get(f"{served.url}/v4/events/{IDS.request_id}", headers={"Authorization": f"Bearer {key}"})
        assert got.content == big
        code, _ = stop(served)
    assert code == 1
    summary = json.loads((report_dir / "summary.json").read_text(encoding="utf-8"))
    failed = {c["id"] for c in summary["clauses"] if c["versions"]["v4"]["status"] == "failed"}
    assert failed == {"UE-TRANSPORT-01"}
    entry = json.loads((report_dir / "traffic.har").read_text(encoding="utf-8"))["log"]["entries"][0]
    assert entry["_fpjs"]["cut"]["response"]["received"] == len(big)
    assert entry["_fpjs"]["cut"]["response"]["kept"] <= proxy_forward.KEPT


# -- the live line -------------------------------------------------------------------------------------------
def test_each_live_line_is_the_violation_just_found(tmp_path):
    """Violations of two clauses, then the first clause again: the third line is the new violation, not a
    repeat of the second (the violations are kept per clause, so the newest is not the last kept)."""
    key = "live-" + secrets.token_hex(10)
    report_dir = tmp_path / "r"
    p = profiles.load("v4")
    url = p.path_for(p.update_path, IDS.request_id)
    with reference_server(key) as upstream, proxy(upstream.url + "/v4", report_dir, key=key) as served:
        with httpx.Client(timeout=TIMEOUT) as http:
            auth = {"Authorization": f"Bearer {key}"}
            http.patch(f"{served.url}/v4{url}", content=b'{"linked_id": "a"}', headers=auth)  # no Content-Type
            http.patch(f"{served.url}/v4{url}", json={"linked_id": 5}, headers=auth)  # not the schema
            http.patch(f"{served.url}/v4{url}", content=b'{"linked_id": "b"}', headers=auth)  # no Content-Type
        code, _ = stop(served)
        said = served.stderr()
    assert code == 1
    lines = [line for line in said.splitlines() if line.startswith("[v4] UE-")]
    clauses_said = [line.split()[1] for line in lines]
    assert clauses_said == ["UE-CLIENT-03", "UE-CLIENT-01", "UE-CLIENT-03"], lines
    assert len(set(lines)) == len(lines)


@pytest.mark.parametrize("name", sorted(BAD_TARGETS))
def test_refusals_are_pure(name):
    head, status = BAD_TARGETS[name]
    method, target, _ = head.split(b"\r\n")[0].decode().split(" ")
    refused = proxy_forward.refusal(method, target)
    url = None if refused else proxy_forward.upstream_url("http://127.0.0.1:9", target, "")
    assert (refused[0] if refused else 400 if url is None else 200) == status
