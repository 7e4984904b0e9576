"""What the pytest side of one run shares: where its `Run` (and, once it ended, its result) is kept,
which clause and version a test judges, the exit codes, and the command that reruns one clause.

The plugin, the gate, the reports and the session all import this small module, and none of them
imports another for these, so no import runs back up.
"""

from __future__ import annotations

import shlex
from importlib import resources
from pathlib import Path
from typing import Any

import pytest

from fpjs_conformance.endpoint import split_userinfo

PACKAGE = "fpjs_conformance"
RUN = pytest.StashKey[Any]()  # the run's `run.Run` (not imported here: the session imports this module)
RESULT = pytest.StashKey[Any]()  # the run's `result.RunResult`, once it ended (the plugin's session finish)


class Exit:
    """Exit codes: pytest's own (0-5), then the suite's."""

    OK, VIOLATED, INTERRUPTED, INTERNAL, USAGE, NO_TESTS = 0, 1, 2, 3, 4, 5
    SETUP = 6  # a designated event or key is not usable: not the server's fault
    INCOMPLETE = 7  # a MUST clause left unexercised (--require=all, or the request budget)
    DRIFT = 8  # --fail-on-drift and the behaviour changed
    REPORTS = 9  # the reports could not be written
    NOT_RESTORED = 10  # the restore did not finish ("could not restore"): the journal is left open


def clause_of(item: pytest.Item) -> str | None:
    mark = item.get_closest_marker("clause")
    return mark.args[0] if mark else None


def version_of(item: pytest.Item) -> str | None:
    callspec = getattr(item, "callspec", None)
    return callspec.params.get("api_version") if callspec else None


def _pytest() -> list[str]:
    """`pytest`, and `--pyargs` when the suite's tests are not below the current folder (installed): from
    elsewhere, pytest would collect that folder's tests."""
    tests = Path(str(resources.files(f"{PACKAGE}.contracts")))
    try:
        tests.relative_to(Path.cwd())
    except ValueError:
        return ["pytest", "--pyargs", PACKAGE]
    return ["pytest"]


def rerun_line(run: Any, clause_id: str, version: str) -> str:
    """A command that reruns one clause from where pytest was run (installed or in a clone)."""
    o, parts = run.options, _pytest()
    parts += ["-k", f"{clause_id} and {version}", f"--api-version={version}"]
    if o.base_urls:
        parts.append(f"--base-url={split_userinfo(o.base_urls[version])[0]}")
        if o.request_id:
            parts.append(f"--request-id={o.request_id}")
    if run.exploration.hypothesis_profile.name != "default":
        parts.append(f"--hypothesis-profile={run.exploration.hypothesis_profile.name}")
    if run.seed is not None:
        parts.append(f"--hypothesis-seed={run.seed}")
    return " ".join(shlex.quote(p) for p in parts)


def restore_command(run: Any, journal: Path, version: str) -> str:
    """The command that puts back the original values `journal` holds: the run's target (without a
    user:password) and event; the key is not shown (the same FPJS_API_KEY or --api-key)."""
    o, parts = run.options, _pytest()
    parts += [f"--restore-from={journal}", f"--api-version={version}"]
    if o.base_urls:
        url = o.base_urls.get(version) or next(iter(o.base_urls.values()))
        parts.append(f"--base-url={split_userinfo(url)[0]}")
    if o.request_id:
        parts.append(f"--request-id={o.request_id}")
    return " ".join(shlex.quote(p) for p in parts)
