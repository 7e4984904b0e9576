"""A run judged in this process without pytest: what `pytest --base-url=...` does to a target, as one call.

    status = judge(opts)          # opts: options.parse(getter, cwd); the reports are in opts.report_dir

The self-test judges its mutants with it from the xdist worker (tests/inprocess.py), without a Python
start-up and a pytest collection per variant. Nothing here judges on its own: every contract test is
`contract.judge_clause`, its outcome recorded by the gate's `record_failure` / `record_skip`, the safe points
between tests and the end of the run (restore, reports, exit status) are the plugin's, so a verdict reached
here is the one `pytest` reaches. What it leaves out: known deviations (no gate: a run that names a set is
refused) and the terminal text. It must run in the main thread (a `Run` takes SIGTERM and SIGINT while it
runs, and gives them back before it returns).
"""

from __future__ import annotations

import pytest

from fpjs_conformance import clauses, commands, contract, gate, plugin, reporting
from fpjs_conformance.explore import Exploration
from fpjs_conformance.options import Options
from fpjs_conformance.run import Run
from fpjs_conformance.runstate import Exit
from fpjs_conformance.target import SetupProblem

TEST = "contracts/test_clauses.py::test_clause[{version}-{clause}]"  # a test's name in the records, as pytest's


def contract_tests(versions: tuple[str, ...]) -> list[tuple[str, str]]:
    """(version, clause id) of every contract test pytest collects for `versions`, in the plugin's order."""
    tests = [(v, cid) for v in versions for cid, c in clauses.server_clauses().items() if c.applies_to(v)]
    return sorted(tests, key=lambda t: plugin.area_rank(clauses.get(t[1]).area))


def judge(opts: Options, exploration: Exploration | None = None, *, exitfirst: bool = False) -> tuple[Run, int]:
    """Judge the target `opts` names with every contract test (the `table` Hypothesis profile unless
    `exploration` says otherwise; `exitfirst`: stop at the first failing test, as `pytest -x`); the run,
    stopped, and the exit status its reports record."""
    if opts.deviations or opts.restore_from is not None:
        raise ValueError("a run without pytest applies no deviation set and restores from no journal")
    for version in opts.versions:
        clauses.check_pointers(version)
    run = commands.new_run(opts)
    if exploration is not None:
        run.exploration = exploration
    tests = contract_tests(opts.versions)
    for version, cid in tests:
        run.selected.setdefault(version, set()).add(cid)
        run.tests.setdefault(version, {}).setdefault(cid, TEST.format(version=version, clause=cid))
    reporting.write_placeholder(opts.report_dir)
    status = Exit.OK  # pytest's own status
    try:
        run.start()
        run.plans_ahead = run.estimate()
        for version, cid in tests:
            failed, stop = _one(run, version, cid)
            status = Exit.VIOLATED if failed else status
            if stop or (failed and exitfirst):  # the target stopped answering, or the run timed out: the plugin
                break  # stops the session here
    except KeyboardInterrupt:
        status = Exit.INTERRUPTED
    try:
        return run, plugin.finish(run, status)[1]
    finally:
        run.release()  # the signals given back, as the plugin's pytest_unconfigure does


def _one(run: Run, version: str, cid: str) -> tuple[bool, str | None]:
    """One contract test, as pytest runs it (a safe point, the target, the test): whether it failed, and
    why it stops the run."""
    test = TEST.format(version=version, clause=cid)
    try:
        why = plugin.safe_point(run, version, test)
        if why:
            pytest.skip(why)
        try:
            target = run.target(version)
        except SetupProblem as exc:
            pytest.skip(str(exc))
        contract.judge_clause(target, cid)
    except pytest.skip.Exception as exc:
        gate.record_skip(run, version, cid, str(exc.msg))
    except (Exception, pytest.fail.Exception) as exc:
        stop = plugin.stops_the_run(run, exc)
        gate.record_failure(run, version, cid, test, exc)
        return True, stop
    return False, None
