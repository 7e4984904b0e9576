"""`fpjs-conformance replay`: a run's recorded updates re-sent to another target, judged, and diffed.

A run of the suite against the reference server records reports/traffic.har. Replayed against a fresh
reference server (another key, another designated event) it differs in nothing, behaviour snapshot
included; against a mutant it shows exactly the mutant's change and fails the clause; the designated
event is left as found; a designated event that does not exist stops before any update; the key is in
no output and no file.
"""

from __future__ import annotations

import argparse
import json
import secrets
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest

from fpjs_conformance import behaviour, har, replay
from fpjs_conformance import profile as profiles
from fpjs_conformance.refserver import Settings
from fpjs_conformance.refserver.launch import ServerProcess
from tests.harness import exposes
from tests.runner import ROOT, Reference, clean_env, files_text, reference_server, run_suite

IDS = Settings()
OTHER_EVENT = "1708102555328.nEwEvt"  # a designated event of another target
MISSING_EVENT = "1708102555000.noSuch"
TIMEOUT = 120  # seconds for one replay (about 300 requests on loopback)
EVENT_ARGS = (f"--expired-request-id={IDS.expired_request_id}", f"--not-ready-request-id={IDS.not_ready_request_id}")


@dataclass
class Replayed:
    returncode: int
    stdout: str
    stderr: str
    report_dir: Path

    @property
    def output(self) -> str:
        return self.stdout + self.stderr

    @property
    def rows(self) -> list[dict]:
        return json.loads((self.report_dir / replay.JSON_FILE).read_text(encoding="utf-8"))

    @property
    def summary(self) -> dict:
        return json.loads((self.report_dir / "summary.json").read_text(encoding="utf-8"))

    def traffic(self) -> list[dict]:
        return har.read(self.report_dir / har.FILE)

    def leaks(self, *keys: str) -> list[str]:
        said = self.output + files_text(self.report_dir)
        return [k[:4] + "..." for k in keys if exposes(said, k)]


@dataclass
class Recorded:
    har: Path
    key: str
    folder: Path

    @property
    def entries(self) -> list[dict]:
        return har.read(self.har)


def replay_cli(source: Path, url: str, key: str, report_dir: Path, *args: str, request_id: str | None) -> Replayed:
    """The replay as a user runs it (the subcommand on its own: `python -m fpjs_conformance.replay` is
    `fpjs-conformance replay`); the key by environment, as in CI."""
    cmd = [sys.executable, "-m", "fpjs_conformance.replay", str(source), f"--base-url={url}"]
    cmd += [f"--report-dir={report_dir}", *args]
    if request_id is not None:
        cmd.append(f"--request-id={request_id}")
    proc = subprocess.run(
        cmd,
        cwd=ROOT,
        env=clean_env(FPJS_API_KEY=key),
        capture_output=True,
        text=True,
        timeout=TIMEOUT,
        stdin=subprocess.DEVNULL,
    )
    return Replayed(proc.returncode, proc.stdout, proc.stderr, report_dir)


def server_with(key: str, *args: str, **settings: str) -> ServerProcess:
    """The reference server (or `-m tests.variants NAME`) with a throwaway key and other settings (env)."""
    env = {"FPJS_REF_API_KEY": key, "PYTHONPATH": str(ROOT), **settings}
    return ServerProcess([*(args or ("-m", "fpjs_conformance.refserver")), "--port", "0"], env=env)


@pytest.fixture(scope="module")
def recorded(tmp_path_factory) -> Recorded:
    """A run's traffic: the coverage table of both versions against the reference server."""
    key = "rec" + secrets.token_hex(16)
    folder = tmp_path_factory.mktemp("recorded")
    with reference_server(key) as server:
        run = run_suite(server.url, key, folder, "--hypothesis-profile=table", "--api-version=v3,v4", *EVENT_ARGS)
    assert run.returncode == 0, run.output[-2000:]
    return Recorded(folder / har.FILE, key, folder)


def put_original(server: ServerProcess, key: str, event_id: str) -> dict:
    """Give the designated event a value in every field (an unset field cannot be unset again through the
    API), as a user's event has; its fields as the read-back shows them."""
    p = profiles.load(Reference.version)
    place = p.key_places[0]
    names = {store: name for name, store in p.field_names.items()}
    original = {"linked_id": "customer-42", "tags": {"order": {"id": 7}}, "suspect": True}
    response = httpx.request(
        p.update_method,
        server.url + p.server_path + p.path_for(p.update_path, event_id),
        headers={place.field: f"{place.scheme} {key}" if place.scheme else key},
        json={names[k]: v for k, v in original.items()},
        timeout=10,
    )
    response.raise_for_status()
    return Reference(server, key, "").read_back(event_id)


def changed_by_the_mutant(row: dict, request: dict) -> bool:
    """What `wrong-key-missing-code` changes: a key that is there but does not authenticate (a near miss,
    an unrelated key, the valid key misspelled) answered as if no key were there."""
    p = profiles.load(row["version"])
    refused = p.role("wrong_key"), p.role("unreadable_key")
    if row["field"] == "code":
        was = {c for role in refused for c in role.codes}
        now = p.role("missing_key").codes
    else:
        was = {s for role in refused for s in role.statuses}
        now = p.role("missing_key").statuses
    present = any(c["key"]["kind"] != "empty" for c in request["credentials"])
    return row["field"] in ("status", "code") and row["before"] in was and row["after"] in now and present


def test_a_replay_against_another_reference_server_differs_in_nothing(recorded, tmp_path):
    key = "new" + secrets.token_hex(16)
    with server_with(key, FPJS_REF_REQUEST_ID=OTHER_EVENT) as server:
        before = put_original(server, key, OTHER_EVENT)
        got = replay_cli(recorded.har, server.url, key, tmp_path, *EVENT_ARGS, request_id=OTHER_EVENT)
        after = Reference(server, key, "").read_back(OTHER_EVENT)
    assert got.returncode == 0, got.output[-3000:]
    assert got.rows == []
    assert after == before  # restored
    assert {v["restore"]["status"] for v in got.summary["versions"]} == {"restored"}
    recorded_updates = [
        e for e in recorded.entries if e["_fpjs"]["kind"] in ("coverage", "random") and not e["_fpjs"]["retried"]
    ]
    sent = [e for e in got.traffic() if e["_fpjs"]["kind"] == "replay" and not e["_fpjs"]["retried"]]
    assert len(sent) == len(recorded_updates)
    assert got.summary["replay"] == {
        "recorded": len(sent),
        "re_sent": len(sent),
        "left_out": 0,
        "not_sent_in_case": 0,
    }
    # Nothing went to the recorded designated event, nor to the ids the table derived from it.
    near = IDS.request_id[:-1].lower()
    assert not [e["request"]["url"] for e in got.traffic() if near in e["request"]["url"].lower()]
    # The same behaviour, probe by probe, read-back outcomes included.
    was = behaviour.load(recorded.folder / "behaviour.json")
    now = behaviour.load(tmp_path / "behaviour.json")
    drift = behaviour.compare(was, now)
    assert drift["changes"] == [] and drift["only_before"] == [], drift
    assert any("read_back" in probe for probe in now["versions"]["v3"].values())
    assert got.leaks(key, recorded.key) == []


def test_a_replay_against_a_mutant_shows_its_change_and_fails_the_clause(recorded, tmp_path):
    key = "mut" + secrets.token_hex(16)
    expired = f"--expired-request-id={IDS.expired_request_id}"  # and no not-ready event: left out
    with server_with(key, "-m", "tests.variants", "wrong-key-missing-code") as server:
        got = replay_cli(recorded.har, server.url, key, tmp_path, expired, request_id=IDS.request_id)
    assert got.returncode == 1, got.output[-3000:]
    rows = got.rows
    assert rows, got.output[-3000:]
    entries = recorded.entries
    for row in rows:
        assert changed_by_the_mutant(row, entries[row["entry"]]["_fpjs"]["request"]), row
    assert {row["version"] for row in rows} == {"v3", "v4"}
    failed = {c["id"] for c in got.summary["clauses"] for v in c["versions"].values() if v["status"] == "failed"}
    assert "UE-AUTH-03" in failed
    assert sum(line.startswith("fpjs: DIFF #") for line in got.stdout.splitlines()) == min(len(rows), replay.SHOWN)
    assert "--not-ready-request-id" in got.stdout  # its entries were left out, with a note
    md = (tmp_path / replay.MD_FILE).read_text(encoding="utf-8")
    assert md.count("\n| ") == len(rows) + 1  # the header, and a line per difference
    assert got.leaks(key, recorded.key) == []


@pytest.mark.parametrize("fail_on_diff", [False, True], ids=["differences-alone", "fail-on-diff"])
def test_differences_within_the_contract_fail_only_with_fail_on_diff(recorded, tmp_path, fail_on_diff):
    """A control answers {} with 200 (the contract allows it): a difference, no violation."""
    key = "ctl" + secrets.token_hex(16)
    flags = ["--fail-on-diff"] if fail_on_diff else []
    with server_with(key, "-m", "tests.variants", "empty-update-accepted") as server:
        got = replay_cli(recorded.har, server.url, key, tmp_path, *EVENT_ARGS, *flags, request_id=IDS.request_id)
    assert got.returncode == (8 if fail_on_diff else 0), got.output[-3000:]
    rows = got.rows
    accepted = {row["entry"] for row in rows if row["field"] == "status" and row["after"] == 200}
    assert rows and {row["entry"] for row in rows} == accepted, rows  # only answers now accepted differ
    assert {row["field"] for row in rows} <= {"status", "code", "content_type", "headers"}
    assert got.leaks(key, recorded.key) == []


def test_a_missing_designated_event_stops_before_any_update(recorded, tmp_path):
    """Replayed from the report folder it writes into (the default): the HAR replayed is kept aside."""
    key = "mis" + secrets.token_hex(16)
    source = tmp_path / har.FILE
    source.write_bytes(recorded.har.read_bytes())
    with server_with(key) as server:
        got = replay_cli(source, server.url, key, tmp_path, *EVENT_ARGS, request_id=MISSING_EVENT)
    assert got.returncode == 6, got.output[-3000:]
    stops = [line for line in got.stdout.splitlines() if line.startswith("fpjs: STOPPED:")]
    assert len(stops) == 1 and "setup problem" in stops[0] and MISSING_EVENT in stops[0], got.output[-3000:]
    sent = got.traffic()
    assert {e["_fpjs"]["kind"] for e in sent} <= {"preflight", "read-back"}, sent
    assert not [e for e in sent if e["request"]["method"] != "GET" and e["response"]["status"] == 200]
    assert got.rows == []
    assert got.summary["result"] == "setup-problem"
    assert (tmp_path / replay.SOURCE_COPY).read_bytes() == recorded.har.read_bytes()
    assert got.leaks(key, recorded.key) == []


def test_the_budget_cuts_a_replay_and_the_event_is_still_restored(recorded, tmp_path):
    key = "bud" + secrets.token_hex(16)
    with server_with(key) as server:
        before = put_original(server, key, IDS.request_id)
        got = replay_cli(
            recorded.har, server.url, key, tmp_path, *EVENT_ARGS, "--max-requests=130", request_id=IDS.request_id
        )
        after = Reference(server, key, "").read_back()
    assert got.returncode == 7, got.output[-3000:]
    assert "the request budget (--max-requests) was spent" in got.stdout
    assert after == before and {v["restore"]["status"] for v in got.summary["versions"]} == {"restored"}
    assert got.leaks(key, recorded.key) == []


@pytest.mark.parametrize(
    "text",
    ['{"log": {"entries": [{"request": {}}]}}', "not json", '{"entries": []}'],
    ids=["no-suite-entries", "not-json", "not-har"],
)
def test_a_file_that_is_not_a_runs_traffic_is_a_usage_error(tmp_path, text):
    source = tmp_path / "traffic.har"
    source.write_text(text, encoding="utf-8")
    key = "use" + secrets.token_hex(16)
    got = replay_cli(source, "http://127.0.0.1:9", key, tmp_path / "reports", request_id=IDS.request_id)
    assert got.returncode == 4, got.output[-2000:]
    assert got.stderr.startswith("ERROR: ") and len(got.stderr.strip().splitlines()) == 1, got.stderr
    assert not (tmp_path / "reports").exists()
    assert got.leaks(key) == []


def test_the_subcommand_takes_the_suite_options():
    parser = argparse.ArgumentParser(prog="fpjs-conformance")
    replay.register(parser.add_subparsers(dest="command", required=True))
    args = parser.parse_args(["replay", "t.har", "--base-url=http://127.0.0.1:9", "--event-id=x", "--fail-on-diff"])
    assert args.command_main is replay.main and args.har == "t.har" and args.fail_on_diff
    assert args.request_id == "x"
    for dest in replay.OPTIONS:
        assert hasattr(args, dest), dest


def test_a_read_back_that_differs_names_its_paths_and_the_counts_add_up(recorded, tmp_path):
    """Against a store that merges objects: the read-back difference names the members never sent; with
    the expired and not-ready events left out, re-sent + left out + not sent is what was recorded, and
    each report is named once."""
    key = "mrg" + secrets.token_hex(16)
    with server_with(key, "-m", "tests.variants", "object-merged") as server:
        got = replay_cli(recorded.har, server.url, key, tmp_path, request_id=IDS.request_id)
    assert got.returncode == 1, got.output[-3000:]
    read_backs = [r for r in got.rows if r["field"] == "read_back"]
    assert read_backs and all(r["after"] == "differs" for r in read_backs)
    assert any(p.endswith(": present, not sent") for r in read_backs for p in r.get("detail", []))
    counts = got.summary["replay"]
    assert counts["left_out"] > 0  # the entries naming the expired and not-ready events
    assert counts["re_sent"] + counts["left_out"] + counts["not_sent_in_case"] == counts["recorded"]
    for name in ("summary.json", replay.JSON_FILE, replay.MD_FILE):
        assert got.stdout.count(name) == 1, name
