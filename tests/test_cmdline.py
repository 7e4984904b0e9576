"""Command lines that cannot misfire: misspelt FPJS_* variables, the suite's options without its tests,
path options in both forms (`--opt PATH`, `--opt=PATH`), and `--collect-only` that writes nothing.

Asserted on exit codes, files and the names a one-line reason carries, never on wording."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from fpjs_conformance import designated, options, provenance
from fpjs_conformance.runstate import Exit
from tests.runner import IDS, ROOT, SUITE, clean_env

PACKAGE_SOURCE = ROOT / "fpjs_conformance"


def run(*args: str, cwd: Path = ROOT, env: dict[str, str] | None = None, timeout: float = 120):
    return subprocess.run(
        [*SUITE, *args],
        cwd=cwd,
        env=env or clean_env(),
        capture_output=True,
        text=True,
        timeout=timeout,
        stdin=subprocess.DEVNULL,
    )


def error_lines(proc: subprocess.CompletedProcess) -> list[str]:
    return [line for line in (proc.stdout + proc.stderr).splitlines() if line.startswith("ERROR:")]


@pytest.fixture
def project(tmp_path: Path) -> Path:
    """A user's project of its own: one test of its own, no configuration of the suite."""
    folder = tmp_path / "project"
    folder.mkdir()
    (folder / "test_mine.py").write_text("def test_mine():\n    assert True\n", encoding="utf-8")
    return folder


# -- FPJS_* names --------------------------------------------------------------------------------------
@pytest.mark.parametrize("name", ["FPJS_BASEURL", "FPJS_KEY", "FPJS_EVENTID", "FPJS_APIVERSION", "fpjs_base_url"])
def test_a_misspelt_variable_is_a_usage_error_naming_it(name, tmp_path):
    proc = run(f"--report-dir={tmp_path / 'r'}", env=clean_env(**{name: "x"}))
    assert proc.returncode == Exit.USAGE, proc.stdout[-2000:]
    lines = error_lines(proc)
    assert len(lines) == 1 and name in lines[0] and "FPJS_BASE_URL" in lines[0], lines
    assert not (tmp_path / "r").exists()  # before anything was written


def test_the_commands_refuse_a_misspelt_variable_too(tmp_path):
    proc = subprocess.run(
        [sys.executable, "-m", "fpjs_conformance.cli", "proxy", "--upstream=http://127.0.0.1:9", "--port=0"],
        cwd=tmp_path,
        env=clean_env(FPJS_UPSTREAM="http://127.0.0.1:9"),
        capture_output=True,
        text=True,
        timeout=60,
        stdin=subprocess.DEVNULL,
    )
    assert proc.returncode == Exit.USAGE, proc.stderr[-2000:]
    assert "FPJS_UPSTREAM" in proc.stderr


@given(st.text(alphabet="ABCDEFGHIJKLMNOPQRSTUVWXYZ_", min_size=1, max_size=20))
def test_every_known_name_passes_and_every_other_name_of_the_prefix_does_not(tail):
    name = "FPJS_" + tail
    known = name in options.known_variables() or name.startswith(options.REFERENCE_PREFIX)
    try:
        options.check_environment({name: "x", "PATH": "/bin"})
    except options.OptionError as exc:
        assert not known and name in str(exc)
    else:
        assert known


def test_every_variable_the_package_reads_is_known():
    """The list of known names is the code's: every FPJS_ name the package's source spells is in it."""
    import re

    spelt = set()
    for path in PACKAGE_SOURCE.rglob("*.py"):
        spelt |= set(re.findall(r"\bFPJS_[A-Z0-9_]*[A-Z0-9]\b", path.read_text(encoding="utf-8")))
    unknown = {n for n in spelt if n not in options.known_variables() and not n.startswith(options.REFERENCE_PREFIX)}
    assert not unknown


# -- the suite's options without the suite's tests -----------------------------------------------------
def test_suite_options_in_a_project_without_pyargs_are_a_usage_error_naming_it(project):
    proc = run("--base-url=http://127.0.0.1:9", "--api-version=v4", cwd=project)
    assert proc.returncode == Exit.USAGE, proc.stdout[-2000:]
    lines = error_lines(proc)
    assert len(lines) == 1 and "--pyargs fpjs_conformance" in lines[0], lines
    assert not (project / "reports").exists()


def test_a_flag_of_the_suite_alone_counts_too(project):
    proc = run("--no-traffic", cwd=project)
    assert proc.returncode == Exit.USAGE
    assert "--pyargs fpjs_conformance" in error_lines(proc)[0]


def test_the_plugin_stays_inert_in_a_project_that_does_not_use_the_suite(project):
    """No suite option on the command line: the project's own tests run, whatever FPJS_* variables the
    job's environment holds (misspelt ones included), and nothing of the suite's is written."""
    env = clean_env(FPJS_API_KEY="k" * 20, FPJS_REQUEST_ID=IDS.request_id, FPJS_BASEURL="x", FPJS_RATE_LIMIT="fast")
    proc = run(cwd=project, env=env)
    assert proc.returncode == Exit.OK, proc.stdout[-2000:]
    assert not (project / "reports").exists()


# -- path options in both forms --------------------------------------------------------------------------
KEY = "k" * 20


@pytest.fixture
def journal(tmp_path: Path) -> Path:
    """A journal in a folder outside the working folder, whose name holds a space."""
    folder = tmp_path / "journal folder"
    folder.mkdir()
    made = designated.Journal.begin(
        folder,
        provenance=provenance.record("http://127.0.0.1:9", IDS.request_id, KEY),
        target="http://127.0.0.1:9",
        version="v3",
        original={"linked_id": "before"},
        embedded=False,
    )
    return made.path


@pytest.mark.parametrize("form", ["space", "equals"])
def test_restore_from_takes_its_path_in_both_forms_and_collect_only_writes_nothing(form, journal, tmp_path):
    """In the clone, pytest would have taken the journal's path for a test path (its root becomes the
    journal's folder, the project's configuration is not read, and the project's own tests are
    collected): here only the suite is collected, and deselected for the restore (exit 5, nothing to
    run), and --collect-only starts, sends and writes nothing."""
    assert not str(journal).startswith(str(ROOT))
    before = journal.read_bytes(), os.stat(journal).st_mtime_ns
    given_as = ["--restore-from", str(journal)] if form == "space" else [f"--restore-from={journal}"]
    report_dir = tmp_path / "reports"
    proc = run(
        "--collect-only",
        *given_as,
        "--base-url=http://127.0.0.1:9",
        f"--report-dir={report_dir}",
        f"--request-id={IDS.request_id}",
        env=clean_env(FPJS_API_KEY=KEY),
    )
    assert proc.returncode == Exit.NO_TESTS, proc.stdout[-3000:]
    assert (journal.read_bytes(), os.stat(journal).st_mtime_ns) == before
    assert not report_dir.exists()
    assert sorted(p.name for p in journal.parent.iterdir()) == [journal.name]


def test_report_dir_in_the_space_form_keeps_the_projects_configuration(tmp_path):
    """`--report-dir DIR` with an existing folder outside the clone: the clone's configuration (testpaths,
    addopts) still holds, so only the suite's tests run, and its reports land in DIR."""
    report_dir = tmp_path / "report folder"
    report_dir.mkdir()
    proc = run("--report-dir", str(report_dir), "--api-version=v4", "--hypothesis-profile=table", "-k", "UE-AUTH-01")
    assert proc.returncode == Exit.OK, proc.stdout[-3000:]
    assert (report_dir / "summary.json").is_file()
