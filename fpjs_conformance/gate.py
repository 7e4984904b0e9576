"""pytest hooks of the regression gate: known deviations as expected failures, stale and expired entries.

Loaded by the plugin (`pytest_plugins`). For each API version the deviation set that
applies to it is chosen (by `--deviations` or by base URL); a failing test whose violations are all
listed for its version becomes an expected failure; a listed clause that the run exercised without
a violation, or an expired entry, fails the run.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from fpjs_conformance import clauses, deviations, narrowing
from fpjs_conformance.checks import Violation, Violations
from fpjs_conformance.runstate import RESULT, RUN, clause_of, version_of

DEVIATION_SETS = pytest.StashKey[dict]()  # version -> deviations.DeviationSet | None


def configure(config: pytest.Config, run) -> None:
    """Choose each version's deviation set; an expired entry or a malformed file is a usage error."""
    o = run.options
    path = Path(o.deviations_file) if o.deviations_file else deviations.DEFAULT_PATH
    chosen: dict = {}
    try:
        loaded = deviations.load(path, clauses.catalogue())
        for version in o.versions:
            base_url = o.base_urls[version] if o.base_urls else None
            chosen[version] = deviations.select(loaded, o.deviations, base_url, version)
    except deviations.DeviationError as exc:
        raise pytest.UsageError(f"known deviations: {exc}") from None
    expired = [d for p in chosen.values() if p for d in p.expired(dt.date.today())]
    if expired:
        lines = [f"  {d.describe()}" for d in expired]
        raise pytest.UsageError(
            f"expired known deviation(s) in {path} (re-check the target, then renew `expires` or remove):\n"
            + "\n".join(lines)
        )
    config.stash[DEVIATION_SETS] = chosen
    active = {v: p for v, p in chosen.items() if p}
    if active:
        run.deviations = {
            "file": str(path),
            "sets": {v: p.name for v, p in active.items()},
            "entries": {
                v: {
                    cid: {"reason": d.reason, "link": d.link, "expires": str(d.expires)}
                    for cid, d in p.deviations.items()
                }
                for v, p in active.items()
            },
            "expected_failures": [],
            "stale": [],
        }


def _leaves(exc: BaseException) -> list[BaseException]:
    if isinstance(exc, Violations):
        return list(exc.found)
    if isinstance(exc, BaseExceptionGroup):
        return [leaf for sub in exc.exceptions for leaf in _leaves(sub)]
    return [exc]


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo):
    report = yield
    run = item.config.stash.get(RUN, None)
    cid, version = clause_of(item), version_of(item)
    if run is None or cid is None or version is None:
        return report
    if report.failed and call.excinfo is not None:
        found, whole = record_failure(run, version, cid, item.nodeid, call.excinfo.value, report.when)
        chosen = item.config.stash.get(DEVIATION_SETS, {}).get(version)
        covering = chosen.covering(v.clause_id for v in found) if chosen and whole else None
        if covering:
            report.outcome = "skipped"
            report.wasxfail = "known deviation " + "; ".join(d.describe() for d in covering)
            run.deviations["expected_failures"].append(item.nodeid)
    elif report.skipped and not hasattr(report, "wasxfail") and isinstance(report.longrepr, tuple):
        record_skip(run, version, cid, str(report.longrepr[2]).removeprefix("Skipped: "))
    return report


def record_failure(run, version: str, cid: str, test: str, exc: BaseException, phase: str = "call"):
    """A contract test of `cid` under `version` failed with `exc`: its violations go to the ledger (once) and
    name the test; anything else is an error of the clause. The violations, and whether they were all of it.
    The plugin and a run without pytest (`fpjs_conformance.inprocess`) record a test's outcome here alone."""
    target = run.targets.get(version)
    leaves = _leaves(exc)
    found = [leaf for leaf in leaves if isinstance(leaf, Violation)]
    for violation in found:
        if target is not None:
            target.ledger.failed(violation)
        tests = run.failing_tests.setdefault(f"{violation.version or version}::{violation.clause_id}", [])
        if test not in tests:
            tests.append(test)
    if len(found) < len(leaves):
        first = pytest.ExceptionInfo.from_exception(exc).exconly().strip().splitlines() or ["(no message)"]
        error = {"test": test, "phase": phase, "summary": first[0][:500]}
        run.errors.setdefault(f"{version}::{cid}", []).append(error)
    return found, len(found) == len(leaves)


def record_skip(run, version: str, cid: str, reason: str) -> None:
    """A contract test was skipped: the first reason given is the clause's."""
    target = run.targets.get(version)
    if target is None:
        return
    tally = target.ledger.clauses.get(cid)
    if tally is None or not tally.skipped:
        target.ledger.skipped(cid, reason)


@pytest.hookimpl(tryfirst=True)
def pytest_sessionfinish(session: pytest.Session) -> None:
    """Stale entries fail the run: before the reports are written, which record the exit status."""
    config = session.config
    run = config.stash.get(RUN, None)
    chosen = config.stash.get(DEVIATION_SETS, {})
    if run is None or not run.deviations or getattr(config, "workerinput", None) is not None:
        return
    stale = []
    for version, deviation_set in chosen.items():
        target = run.targets.get(version)
        if deviation_set is None or target is None:
            continue
        tallies = target.ledger.clauses
        partly = narrowing.partly_judged(run.selected, version)  # not stale for having passed a part
        passed = {c: t.passed for c, t in tallies.items() if c not in partly}
        stale += [(version, d) for d in deviation_set.stale(passed, {c for c, t in tallies.items() if t.failed})]
    if not stale:
        return
    run.deviations["stale"] = [f"{v}::{d.clause_id}" for v, d in stale]
    if session.exitstatus in (pytest.ExitCode.OK, pytest.ExitCode.NO_TESTS_COLLECTED):
        session.exitstatus = pytest.ExitCode.TESTS_FAILED
    reporter = config.pluginmanager.get_plugin("terminalreporter")
    if reporter is None:
        return
    where = run.deviations["file"]
    for version, d in stale:
        # Counted and listed with the failures, so the closing line reads red as the exit status is.
        report = pytest.TestReport(
            nodeid=f"{where}::{d.deviation_set}::{version}::{d.clause_id}",
            location=(where, None, f"stale known deviation {version}::{d.clause_id}"),
            keywords={},
            outcome="failed",
            longrepr=(
                f"STALE known deviation {d.describe()}\n"
                f"  {version}::{d.clause_id} was exercised and never violated in this run:\n"
                f"  the target no longer breaks it; remove the entry from {where}"
            ),
            when="call",
        )
        reporter.stats.setdefault("failed", []).append(report)


def pytest_terminal_summary(terminalreporter, config: pytest.Config) -> None:
    ended = config.stash.get(RESULT, None) or config.stash.get(RUN, None)  # a run that never ended: --collect-only
    dev = ended.deviations if ended else None
    if dev:
        names = ", ".join(f"{v}: {p!r}" for v, p in dev["sets"].items())
        terminalreporter.write_line(
            f"fpjs: known deviations ({names}): {len(dev['expected_failures'])} expected failure(s)"
        )
        for key in dev["stale"]:
            terminalreporter.write_line(f"fpjs: STALE known deviation {key} ({dev['file']}): remove it", red=True)
