"""A run that leaves its journal open says so last and exits as README's table says (10: not restored).

End to end (a server that refuses the restore for good) this is played by tests/test_fault_schedules.py
(`restore-refused-for-good`, `restore-re-read-refused-for-good`, `restore-from-refused-for-good`); here,
the pieces: the command the last line gives finishes the restore against the same target and event, and
exit 10 takes its place in the table.
"""

from __future__ import annotations

import shlex
from pathlib import Path
from types import SimpleNamespace

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from fpjs_conformance import designated, options, provenance, reporting
from fpjs_conformance.runstate import Exit, restore_command
from tests.runner import IDS

KEY = "k0123456789abcdef"


def parsed(args: list[str], cwd: Path) -> options.Options:
    given_ = dict(a.removeprefix("--").split("=", 1) for a in args if a.startswith("--") and "=" in a)
    values = {k.replace("-", "_"): v for k, v in given_.items()} | {"api_key": KEY}
    return options.parse(values.get, cwd)


@settings(deadline=None, max_examples=30)  # the first example loads the profiles
@given(
    version=st.sampled_from(["v3", "v4"]),
    password=st.none() | st.sampled_from(["pw+=9a", "s3cr3t"]),
    spelled=st.sampled_from(["http://127.0.0.1:8080", "http://127.0.0.1:8080/", "HTTP://127.0.0.1:8080"]),
)
def test_the_last_lines_command_restores_the_same_target_and_event_and_shows_no_secret(
    tmp_path_factory, version, password, spelled
):
    tmp = tmp_path_factory.mktemp("journal")
    if password and version == "v4":
        password = None  # v4 takes the key in Authorization: no user:password (a usage error)
    base = spelled.replace("://", f"://user:{password}@") if password else spelled
    run_options = parsed([f"--base-url={base}", f"--request-id={IDS.request_id}", f"--api-version={version}"], tmp)
    url = run_options.base_urls[version]
    journal = designated.Journal.begin(
        tmp,
        provenance=provenance.record(url, IDS.request_id, KEY),
        target=url,
        version=version,
        original={},
        embedded=False,
    )
    command = restore_command(SimpleNamespace(options=run_options), journal.path, version)
    assert KEY not in command and (password is None or password not in command)
    words = shlex.split(command)
    assert words[0] == "pytest"
    again = parsed(words[1:], Path.cwd())  # provenance checked: this target, event and key
    assert again.restore_from == journal.path and again.versions == (version,)
    assert again.request_id == IDS.request_id


def run_with(status: str | None, *, journal: Path | None = None, stop_code=None, stop_request=None):
    """A run's result as `plugin.exit_status` and `reporting.closing_lines` read it, whose restore ended `status`."""
    restores = {} if status is None else {"v3": {"status": status, "why": ""}}
    unrestored = status == designated.NOT_FINISHED
    return SimpleNamespace(
        restores=restores,
        unrestored=unrestored,
        left_open=(journal, "v3") if journal is not None else None,
        options=SimpleNamespace(
            request_id=IDS.request_id,
            base_urls={"v3": "http://127.0.0.1:9"},
            userinfo=None,
            require_all=False,
            require_observed=(),
            fail_on_drift=False,
        ),
        stop_request=stop_request,
        stop_code=stop_code,
        timed_out=False,
        drift=None,
    )


MODEL = {"clauses": [], "budget_left_out": 0, "incomplete": [], "observed": {}}


@pytest.mark.parametrize(
    ("status", "stop_code", "stop_request", "exit"),
    [
        ("restored", None, None, Exit.OK),
        (designated.NOT_FINISHED, None, None, Exit.NOT_RESTORED),
        (designated.NOT_FINISHED, Exit.SETUP, None, Exit.NOT_RESTORED),
        (designated.NOT_FINISHED, Exit.VIOLATED, None, Exit.VIOLATED),  # 1 comes first in the table
        (designated.NOT_FINISHED, None, "interrupted by SIGTERM", Exit.INTERRUPTED),  # and 2 before it
        ("left to another run", Exit.SETUP, None, Exit.SETUP),
    ],
)
def test_exit_10_takes_its_place_in_the_table(status, stop_code, stop_request, exit):
    from fpjs_conformance.plugin import exit_status

    run = run_with(status, stop_code=stop_code, stop_request=stop_request)
    assert exit_status(run, Exit.OK, MODEL) == exit


@pytest.mark.parametrize("status", [designated.NOT_FINISHED, "concurrent writer"])
def test_a_journal_left_open_is_the_last_line_and_names_the_command(tmp_path, status):
    path = tmp_path / designated.JOURNAL
    lines = reporting.left_open_lines(run_with(status, journal=path))
    assert len(lines) == 1 and str(path) in lines[0] and "--restore-from" in lines[0]
    assert reporting.left_open_lines(run_with("restored")) == []
