"""Known deviations: the pure rules, then the gate as a user meets it (the suite in a subprocess).

Against the `auth-ignored` variant, listing its broken clauses makes the run pass; the same list
against the clean reference server fails as stale; a second, unlisted defect still fails; an
expired entry fails at start.
"""

from __future__ import annotations

import datetime as dt
import json
import secrets
from pathlib import Path

import pytest

from fpjs_conformance import clauses, deviations
from fpjs_conformance.deviations import DeviationError
from fpjs_conformance.refserver.launch import ServerProcess
from tests.runner import ROOT, run_suite

AUTH_BREAKS = ("UE-AUTH-01", "UE-AUTH-02", "UE-AUTH-03", "UE-AUTH-07")  # what auth-ignored breaks
TODAY = dt.date(2026, 6, 1)


def entry(clause_id: str, expires: str = "2099-12-31", profile: str = "broken") -> str:
    return (
        f'[{profile}.deviations.{clause_id}]\nreason = "credentials are never checked"\n'
        f'link = "https://example.invalid/issues/1"\nexpires = {expires}\n'
    )


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "deviations.toml"
    path.write_text(text)
    return path


def profile_file(tmp_path: Path, listed=AUTH_BREAKS, base_url: str | None = None, expires="2099-12-31") -> Path:
    head = "[broken]\n" + (f'base_url = "{base_url}"\n' if base_url else "")
    return write(tmp_path, head + "\n".join(entry(c, expires) for c in listed))


# -- the rules ------------------------------------------------------------------------------------
def test_committed_file_is_valid():
    deviations.load(deviations.DEFAULT_PATH, clauses.catalogue())


def test_load_reads_entries(tmp_path):
    profiles = deviations.load(profile_file(tmp_path, base_url="http://127.0.0.1:4010*"), clauses.catalogue())
    broken = profiles["broken"]
    assert set(broken.deviations) == set(AUTH_BREAKS)
    assert broken.deviations["UE-AUTH-01"].expires == dt.date(2099, 12, 31)
    assert broken.matches("http://127.0.0.1:4010/") and not broken.matches("https://api.fpjs.io")


@pytest.mark.parametrize(
    "text",
    [
        entry("UE-NOPE-01"),  # unknown clause
        entry("UE-AUTH-01", expires='"2099-12-31"'),  # a string, not a TOML date
        entry("UE-AUTH-01", expires="2099-12-31T00:00:00"),  # a datetime
        '[broken.deviations.UE-AUTH-01]\nreason = "r"\nexpires = 2099-12-31\n',  # no link
        entry("UE-AUTH-01") + 'expire = "typo"\n',  # unknown key
        "[broken]\nbase_url = 5\n",
        "[broken\n",  # not TOML
    ],
)
def test_malformed_files_are_refused(tmp_path, text):
    with pytest.raises(DeviationError):
        deviations.load(write(tmp_path, text), clauses.catalogue())


def test_select(tmp_path):
    profiles = deviations.load(profile_file(tmp_path, base_url="http://127.0.0.1:*"), clauses.catalogue())
    assert deviations.select(profiles, "broken", None, "v3").name == "broken"
    assert deviations.select(profiles, None, "http://127.0.0.1:8080", "v3").name == "broken"
    assert deviations.select(profiles, None, "https://api.fpjs.io", "v3") is None
    assert deviations.select(profiles, None, None, "v3") is None  # the bundled server is never matched
    assert deviations.select(profiles, "none", "http://127.0.0.1:8080", "v3") is None
    with pytest.raises(DeviationError):
        deviations.select(profiles, "absent", None, "v3")
    twice = {**profiles, "other": deviations.DeviationSet("other", "http://127.0.0.1*")}
    with pytest.raises(DeviationError, match="--deviations"):
        deviations.select(twice, None, "http://127.0.0.1:8080", "v3")


def test_a_profile_can_be_scoped_to_versions(tmp_path):
    text = '[old]\nversions = ["v3"]\n' + entry("UE-AUTH-05", profile="old") + '[new]\nversions = ["v4"]\n'
    text += entry("UE-AUTH-08", profile="new")
    profiles = deviations.load(write(tmp_path, text), clauses.catalogue())
    assert deviations.select(profiles, "old,new", None, "v3").name == "old"
    assert deviations.select(profiles, "old,new", None, "v4").name == "new"
    assert deviations.select(profiles, "old", None, "v4") is None
    with pytest.raises(DeviationError):
        deviations.load(write(tmp_path, '[x]\nversions = "v3"\n'), clauses.catalogue())


def test_expected_failure_needs_every_violated_clause_listed(tmp_path):
    broken = deviations.load(profile_file(tmp_path), clauses.catalogue())["broken"]
    assert [d.clause_id for d in broken.covering(["UE-AUTH-01", "UE-AUTH-03"])] == ["UE-AUTH-01", "UE-AUTH-03"]
    assert broken.covering(["UE-AUTH-01", "UE-BODY-02"]) is None
    assert broken.covering([]) is None


def test_stale_is_exercised_without_a_violation(tmp_path):
    broken = deviations.load(profile_file(tmp_path), clauses.catalogue())["broken"]
    passed = {"UE-AUTH-01": 3, "UE-AUTH-02": 2, "UE-AUTH-03": 0}
    stale = broken.stale(passed, violated={"UE-AUTH-02"})
    assert [d.clause_id for d in stale] == ["UE-AUTH-01"]  # 03 and 07 were not exercised


def test_expiry(tmp_path):
    path = profile_file(tmp_path, listed=("UE-AUTH-01",), expires="2026-05-31")
    broken = deviations.load(path, clauses.catalogue())["broken"]
    assert broken.expired(dt.date(2026, 5, 31)) == []  # the last day still holds
    assert [d.clause_id for d in broken.expired(TODAY)] == ["UE-AUTH-01"]


# -- the gate, end to end ---------------------------------------------------------------------------
@pytest.fixture
def key() -> str:
    return "canary" + secrets.token_hex(16)


def serve(variants: str, key: str) -> ServerProcess:
    """A server with the named variants' defects combined (`a+b`), or the clean reference server."""
    args = ["-m", "fpjs_conformance.refserver"] if variants == "clean" else ["-m", "tests.variants", variants]
    return ServerProcess([*args, "--port", "0", "--api-key", key], env={"PYTHONPATH": str(ROOT)})


def gate(server: ServerProcess, key: str, tmp_path: Path, *args: str):
    run = run_suite(server.url, key, tmp_path / "reports", "-x", "--hypothesis-profile=ci", *args, timeout=240)
    summary = json.loads((tmp_path / "reports" / "summary.json").read_text())
    return run, {c["id"]: c["versions"]["v3"]["status"] for c in summary["clauses"]}, summary


def test_listed_breaks_pass_and_are_reported(tmp_path, key):
    path = profile_file(tmp_path, base_url="http://127.0.0.1:*")  # selected by base URL, no --deviations
    with serve("auth-ignored", key) as server:
        run, status, summary = gate(server, key, tmp_path, f"--deviations-file={path}")
    assert run.returncode == 0, run.output[-3000:]
    assert "xfailed" in run.output
    assert {c: status[c] for c in AUTH_BREAKS} == dict.fromkeys(AUTH_BREAKS, "known-deviation")
    assert summary["deviations"]["sets"] == {"v3": "broken"} and summary["exit_status"] == 0
    md = (tmp_path / "reports" / "summary.md").read_text()
    assert "known-deviation" in md


def test_fixed_target_fails_as_stale(tmp_path, key):
    path = profile_file(tmp_path)
    with serve("clean", key) as server:
        run, status, summary = gate(server, key, tmp_path, f"--deviations-file={path}", "--deviations=broken")
    assert run.returncode == 1, run.output[-3000:]
    for clause_id in AUTH_BREAKS:
        assert f"STALE known deviation v3::{clause_id}" in run.output
        assert status[clause_id] == "stale-deviation"
    assert summary["exit_status"] == 1 and sorted(summary["deviations"]["stale"]) == [f"v3::{c}" for c in AUTH_BREAKS]
    assert "4 failed" in run.output  # the closing line is as red as the exit status


def test_unlisted_defect_still_fails(tmp_path, key):
    path = profile_file(tmp_path)
    with serve("auth-ignored+null-accepted", key) as server:
        run, status, _ = gate(server, key, tmp_path, f"--deviations-file={path}", "--deviations=broken")
    assert run.returncode == 1, run.output[-3000:]
    assert "UE-BODY-02" in run.output and status["UE-BODY-02"] == "failed"
    assert status["UE-AUTH-01"] == "known-deviation"


def test_expired_entry_fails_at_start(tmp_path, key):
    path = profile_file(tmp_path, listed=("UE-AUTH-03",), expires="2000-01-01")
    args = (f"--deviations-file={path}", "--deviations=broken")
    run = run_suite("http://127.0.0.1:9", key, tmp_path / "reports", *args, timeout=60)
    assert run.returncode == pytest.ExitCode.USAGE_ERROR, run.output[-3000:]
    assert "expired" in run.output and "UE-AUTH-03" in run.output
    assert "Traceback" not in run.output


def test_unknown_profile_is_a_usage_error(tmp_path, key):
    run = run_suite("http://127.0.0.1:9", key, tmp_path / "reports", "--deviations=no-such-profile", timeout=60)
    assert run.returncode == pytest.ExitCode.USAGE_ERROR and "no-such-profile" in run.output
