"""pytest hooks of the regression gate: known deviations, the seed of random runs, the run's record.

Registered next to `contracts.plugin` (conftest.py `pytest_plugins`). A failing test whose
violations are all listed for the target becomes an expected failure; a listed clause that passed
and was never violated, or an expired entry, fails the run. What the reports need beyond the ledger
(options used, failing tests, errors that are not violations) is put into the plugin's state here.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import os
import time
from pathlib import Path

import pytest

from contracts import clauses, deviations
from contracts.checks import Violation
from contracts.plugin import LEDGER, OPTIONS, STATE, Options, clause_of

PROFILE = pytest.StashKey[deviations.Profile | None]()


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.getgroup("fpjs").addoption(
        "--deviations-file",
        default=os.environ.get("FPJS_DEVIATIONS_FILE"),
        help="known-deviations file (default: contracts/known-deviations.toml) [env FPJS_DEVIATIONS_FILE]",
    )


@pytest.hookimpl(tryfirst=True)
def pytest_cmdline_main(config: pytest.Config) -> None:
    """Load --hypothesis-profile before any pytest_configure, so the plugin sees a random profile
    (e.g. nightly) as random and picks, prints and records a seed for it."""
    name = config.getoption("hypothesis_profile", None)
    if name:
        from hypothesis import settings
        from hypothesis.errors import InvalidArgument

        with contextlib.suppress(InvalidArgument):  # Hypothesis's own plugin reports an unknown profile
            settings.load_profile(name)


def pytest_configure(config: pytest.Config) -> None:
    state = config.stash[STATE]
    options = config.stash[OPTIONS]
    path = Path(config.getoption("deviations_file") or deviations.DEFAULT_PATH)
    try:
        profile = deviations.select(deviations.load(path, clauses.catalogue()), options.deviations, options.base_url)
    except (OSError, deviations.DeviationError) as exc:
        raise pytest.UsageError(f"known deviations: {exc}") from None
    expired = profile.expired(dt.date.today()) if profile else []
    if expired:
        lines = [f"  {d.describe()}" for d in expired]
        raise pytest.UsageError(
            f"expired known deviation(s) in {path} (re-check the target, then renew `expires` or remove):\n"
            + "\n".join(lines)
        )
    config.stash[PROFILE] = profile
    state["started_at"] = time.time()
    state["options"] = options_used(config, options)
    if profile is not None:
        state["deviations"] = {
            "profile": profile.name,
            "file": str(path),
            "entries": {
                cid: {"reason": d.reason, "link": d.link, "expires": str(d.expires)}
                for cid, d in profile.deviations.items()
            },
            "expected_failures": [],
            "stale": [],
        }


def options_used(config: pytest.Config, options: Options) -> dict:
    """The options of the run, keys redacted: what the reports show."""
    used = {"region": config.getoption("region")}
    for name, value in vars(options).items():
        if "key" in name:
            value = "[redacted]" if value else None
        used[name] = value if value is None or isinstance(value, bool | int | float) else str(value)
    used["deviations_file"] = config.getoption("deviations_file")
    used["hypothesis_profile"] = config.getoption("hypothesis_profile", None) or os.environ.get(
        "FPJS_HYPOTHESIS_PROFILE", "default"
    )
    used["keyword"] = config.option.keyword or None
    used["maxfail"] = config.option.maxfail or None
    return used


# -- per test -------------------------------------------------------------------------------------
def _leaves(exc: BaseException) -> list[BaseException]:
    if isinstance(exc, BaseExceptionGroup):
        return [leaf for sub in exc.exceptions for leaf in _leaves(sub)]
    return [exc]


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo):
    report = yield
    config = item.config
    state, ledger = config.stash[STATE], config.stash[LEDGER]
    cid = clause_of(item)
    if report.failed and call.excinfo is not None:
        leaves = _leaves(call.excinfo.value)
        found = [leaf for leaf in leaves if isinstance(leaf, Violation)]
        for violation in found:
            if not getattr(violation, "tallied", False):
                ledger.failed(violation)
            tests = state.setdefault("failing_tests", {}).setdefault(violation.clause_id, [])
            if item.nodeid not in tests:
                tests.append(item.nodeid)
        if len(found) < len(leaves) and cid:
            first = call.excinfo.exconly().strip().splitlines() or ["(no message)"]
            error = {"test": item.nodeid, "phase": report.when, "summary": first[0][:500]}
            state.setdefault("errors", {}).setdefault(cid, []).append(error)
        profile = config.stash.get(PROFILE, None)
        covering = profile.covering(v.clause_id for v in found) if profile and len(found) == len(leaves) else None
        if covering:
            report.outcome = "skipped"
            report.wasxfail = "known deviation " + "; ".join(d.describe() for d in covering)
            state["deviations"]["expected_failures"].append(item.nodeid)
    elif report.skipped and not hasattr(report, "wasxfail") and cid and isinstance(report.longrepr, tuple):
        tally = ledger.clauses.get(cid)
        if tally is None or not tally.skipped:
            ledger.skipped(cid, str(report.longrepr[2]).removeprefix("Skipped: "))
    return report


# -- the end --------------------------------------------------------------------------------------
@pytest.hookimpl(tryfirst=True)
def pytest_sessionfinish(session: pytest.Session) -> None:
    """Stale entries fail the run: before the reports are written, which record the exit status."""
    config = session.config
    profile = config.stash.get(PROFILE, None)
    if profile is None or getattr(config, "workerinput", None) is not None:
        return
    tallies = config.stash[LEDGER].clauses
    stale = profile.stale({c: t.passed for c, t in tallies.items()}, {c for c, t in tallies.items() if t.failed})
    if not stale:
        return
    config.stash[STATE]["deviations"]["stale"] = [d.clause_id for d in stale]
    if session.exitstatus in (pytest.ExitCode.OK, pytest.ExitCode.NO_TESTS_COLLECTED):
        session.exitstatus = pytest.ExitCode.TESTS_FAILED
    reporter = config.pluginmanager.get_plugin("terminalreporter")
    if reporter is None:
        return
    where = config.stash[STATE]["deviations"]["file"]
    for d in stale:
        # Counted and listed with the failures, so the closing line reads red as the exit status is.
        report = pytest.TestReport(
            nodeid=f"{where}::{d.profile}::{d.clause_id}",
            location=(where, None, f"stale known deviation {d.clause_id}"),
            keywords={},
            outcome="failed",
            longrepr=(
                f"STALE known deviation {d.describe()}\n"
                f"  {d.clause_id} was exercised ({tallies[d.clause_id].passed} passing judgements) and never "
                f"violated in this run:\n  the target no longer breaks it; remove the entry from {where}"
            ),
            when="call",
        )
        reporter.stats.setdefault("failed", []).append(report)


def pytest_terminal_summary(terminalreporter, config: pytest.Config) -> None:
    state = config.stash.get(STATE, {})
    seed, profile = state.get("seed"), state.get("options", {}).get("hypothesis_profile")
    if seed is not None:
        terminalreporter.write_line(f"fpjs: Hypothesis profile {profile}, seed {seed} (rerun --hypothesis-seed={seed})")
    dev = state.get("deviations")
    if dev:
        terminalreporter.write_line(
            f"fpjs: known deviations profile {dev['profile']!r}: {len(dev['entries'])} entries, "
            f"{len(dev['expected_failures'])} expected failure(s)"
        )
        for cid in dev["stale"]:
            terminalreporter.write_line(f"fpjs: STALE known deviation {cid} ({dev['file']}): remove it", red=True)
