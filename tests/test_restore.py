"""The designated event is left as found, and a setup problem is never blamed on the server.

Before the first update the suite reads the event; it stops with one line (exit 6) when the event
does not exist, is past its window, cannot be read (unless --no-restore), or the key is refused. At
the end it writes the original values back, unless someone else changed the event meanwhile.
"""

import os
import signal
import threading
from pathlib import Path

import httpx
import pytest

from fpjs_conformance import profile as profiles
from fpjs_conformance.refserver import Settings
from tests.hostile import HostileServer, forwarding
from tests.runner import clean_env, reap, reference_server, run_suite, start_suite, wait_for_first_test

IDS = Settings()
ORIGINAL = {"linked_id": "customer-42", "tags": {"order": {"id": 7, "items": [1, 2]}}, "suspect": True}


def wire(version: str, values: dict) -> dict:
    names = {store: name for name, store in profiles.load(version).field_names.items()}
    return {names[k]: v for k, v in values.items()}


def headers(version: str, key: str) -> dict:
    place = profiles.load(version).key_places[0]
    return {place.field: f"{place.scheme} {key}" if place.scheme else key}


def url(base: str, version: str, event_id: str = IDS.request_id) -> str:
    p = profiles.load(version)
    return base + p.server_path + p.path_for(p.update_path, event_id)


def write(base: str, key: str, values: dict, version: str = "v3") -> None:
    p = profiles.load(version)
    r = httpx.request(p.update_method, url(base, version), headers=headers(version, key), json=wire(version, values))
    r.raise_for_status()


def put_original(base: str, key: str, version: str = "v3") -> None:
    write(base, key, ORIGINAL, version)


def stored(base: str, key: str, version: str = "v3") -> dict:
    p = profiles.load(version)
    data = p.stored(httpx.get(url(base, version), headers=headers(version, key), timeout=5).json())
    return {store: data.get(name) for name, store in p.field_names.items()}


@pytest.mark.parametrize("version", ["v3", "v4"])
@pytest.mark.parametrize("restore", [True, False], ids=["restore", "no-restore"])
def test_event_is_left_as_found(tmp_path, restore, version):
    key = "k" + os.urandom(8).hex()
    with reference_server(key) as s:
        put_original(s.url, key, version)
        extra = [] if restore else ["--no-restore"]
        base = s.url + profiles.load(version).server_path
        run = run_suite(base, key, tmp_path, "-k", "UE-SEM or UE-AUTH-04", "--hypothesis-profile=ci", *extra)
        assert run.returncode == 0, run.output[-2000:]
        after = stored(s.url, key, version)
    status = run.summary["versions"][0]["restore"]["status"]
    if restore:
        assert after == ORIGINAL and status == "restored"
    else:
        assert after != ORIGINAL and status == "off"  # the suite did change it: restoring is what puts it back


@pytest.mark.parametrize(
    ("args", "says"),
    [
        (["--request-id=1000000000000.unknwn"], "not found"),
        ([f"--request-id={IDS.expired_request_id}"], "past its update window"),
        ([f"--expired-request-id={IDS.request_id}"], "still updates it"),
    ],
    ids=["unknown-event", "event-past-window", "expired-event-is-fresh"],
)
def test_designated_event_problems_stop_the_run_as_a_setup_problem(tmp_path, args, says):
    key = "k" + os.urandom(8).hex()
    with reference_server(key) as s:
        run = run_suite(s.url, key, tmp_path, *args, request_id=None if "--request-id" in args[0] else IDS.request_id)
    assert run.returncode == 6, run.output[-2000:]
    assert run.summary["result"] == "setup-problem" and says in run.summary["stopped"]
    assert not run.summary["failures"]  # nothing blamed on the server


def test_refused_key_is_a_setup_problem(tmp_path):
    with reference_server("k" + os.urandom(8).hex()) as s:
        run = run_suite(s.url, "not-the-key-" + os.urandom(4).hex(), tmp_path)
    assert run.returncode == 6 and "refused" in run.summary["stopped"], run.output[-2000:]


def test_target_without_read_back_needs_no_restore(tmp_path):
    """No copy of the event, no updates of it: unless the user says the event may stay changed."""
    key = "k" + os.urandom(8).hex()
    with reference_server(key) as backend, HostileServer(forwarding(backend.url, refuse=("GET",))) as server:
        stopped = run_suite(server.url, key, tmp_path / "a", "--hypothesis-profile=table")
        allowed = run_suite(server.url, key, tmp_path / "b", "--hypothesis-profile=table", "--no-restore", "-rs")
    assert stopped.returncode == 6 and "pass --no-restore" in stopped.summary["stopped"], stopped.output[-2000:]
    assert "the target serves no read-back" in stopped.summary["stopped"]
    assert allowed.returncode == 0, allowed.output[-2000:]
    assert allowed.statuses("v3")["UE-SEM-01"] == "skipped" and allowed.summary["result"] == "passed"


def test_read_back_that_answers_garbage_is_named_as_such(tmp_path):
    """Not "the target serves no read-back": it serves one, and what it answers is not the event."""
    key = "k" + os.urandom(8).hex()
    page = b"<html>maintenance</html>"
    garbage = b"HTTP/1.1 200 OK\r\nContent-Type: text/html\r\nContent-Length: %d\r\n\r\n%s" % (len(page), page)
    with reference_server(key) as backend, HostileServer(forwarding(backend.url, instead={"GET": garbage})) as server:
        run = run_suite(server.url, key, tmp_path, "--hypothesis-profile=table")
    assert run.returncode == 6, run.output[-2000:]
    assert "the read-back answered garbage" in run.summary["stopped"] and "maintenance" in run.summary["stopped"]


def test_a_concurrent_writer_is_reported_and_never_overwritten(tmp_path):
    """Never "restored" over values this run did not leave: someone else wrote them.

    The other writer is made deterministic: a front that changes the event (to new values each time)
    just before every read-back reaches the server, so the read before the restore always finds values
    neither this run wrote nor its last read-back showed.
    """
    key = "k" + os.urandom(8).hex()
    writes = iter(range(1000))
    with reference_server(key) as backend:
        put_original(backend.url, key)

        def other_writer(head: bytes, body: bytes) -> None:
            if head.startswith(b"GET "):
                write(backend.url, key, {"linked_id": f"other-run-{next(writes)}", "tags": {"run": "b"}})

        with HostileServer(forwarding(backend.url, observe=other_writer)) as server:
            run = run_suite(server.url, key, tmp_path, "-k", "UE-SEM", "--hypothesis-profile=table")
        final = stored(backend.url, key)
    restore = run.summary["versions"][0]["restore"]
    assert restore["status"] == "concurrent writer", (restore, run.output[-2000:])
    assert "own event" in restore["why"]
    assert final["linked_id"].startswith("other-run") and final["tags"] == {"run": "b"}  # left alone


def test_sigterm_restores_writes_reports_and_stops_the_bundled_server(tmp_path):
    """SIGTERM (what CI runners and `timeout` send) is handled like Ctrl-C."""
    report_dir = tmp_path / "reports"
    env = clean_env(FPJS_HYPOTHESIS_PROFILE="nightly", FPJS_HYPOTHESIS_DB=str(tmp_path / "db"))
    proc = start_suite(f"--report-dir={report_dir}", env=env)
    try:
        child = wait_for_child(proc.pid)
        seen = wait_for_first_test(proc)
        proc.send_signal(signal.SIGTERM)
        output, _ = proc.communicate(timeout=60)
        output = seen + output
    finally:
        reap(proc)
    summary = __import__("json").loads((report_dir / "summary.json").read_text())
    assert proc.returncode == 2, output[-2000:]
    assert summary["result"] == "interrupted"
    assert summary["versions"][0]["restore"]["status"] in ("restored", "partly restored"), summary["versions"]
    status = Path(f"/proc/{child}/status")
    assert not status.exists() or "zombie" in status.read_text().lower()  # the bundled server is gone


def wait_for_child(pid: int) -> int:
    """The bundled server's process, once the suite has started it."""
    for _ in range(600):
        for entry in os.listdir("/proc"):
            if entry.isdigit():
                try:
                    stat = Path(f"/proc/{entry}/stat").read_text().split()
                    cmdline = Path(f"/proc/{entry}/cmdline").read_text()
                except OSError:
                    continue
                if int(stat[3]) == pid and "refserver" in cmdline:
                    return int(entry)
        threading.Event().wait(0.05)
    raise AssertionError("the bundled server did not start")


def test_read_back_that_fails_with_a_5xx_is_the_servers_fault(tmp_path):
    """A 5xx is a server error (UE-RESP-02), never a setup problem: exit 1, not 6."""
    key = "k" + os.urandom(8).hex()
    crash = b"HTTP/1.1 500 Internal Server Error\r\nContent-Type: text/plain\r\nContent-Length: 4\r\n\r\noops"
    with reference_server(key) as backend, HostileServer(forwarding(backend.url, instead={"GET": crash})) as server:
        run = run_suite(server.url, key, tmp_path, "--hypothesis-profile=table")
    assert run.returncode == 1, run.output[-2000:]
    assert run.summary["result"] != "setup-problem"
    assert any(f["clause"] == "UE-RESP-02" and f["response"]["status"] == 500 for f in run.summary["failures"])


@pytest.mark.parametrize("version", ["v3", "v4"])
def test_a_key_equal_to_a_field_name_bends_no_data(tmp_path, version):
    """Secrets are scrubbed where data leaves, never where it arrives: with the key `suspect` (or `tags`), the
    read-back is judged and the original journaled as they came, so the restore puts `suspect: true` back
    and a correct server passes."""
    p = profiles.load(version)
    key = next(name for name in p.fields if p.field_types[name] == "boolean")
    with reference_server(key) as s:
        put_original(s.url, key, version)
        base = s.url + p.server_path
        run = run_suite(base, key, tmp_path, f"--api-version={version}", "--hypothesis-profile=table", timeout=180)
        assert run.returncode == 0, run.output[-3000:]
        assert stored(s.url, key, version) == ORIGINAL
        journal = (tmp_path / "restore.json").read_text()
        assert '"suspect": true' in journal  # the original as it came, field names and all
