"""The pytest side of the suite, registered as the `fpjs_conformance` pytest11 entry point.

Installed anywhere, `pytest --pyargs fpjs_conformance --base-url=...` runs the contract tests;
in a project that does not run them, the plugin only adds its options and stays inert (nothing
is started, sent or written). Options are validated once at start; the target of each API version
is built on first use; failures are rewritten into a one-line summary plus the evidence (clause
text, request, response, replay line, rerun line); every text pytest prints or stores is scrubbed
of the secrets; the reports are written where pytest runs.
"""

from __future__ import annotations

import contextlib
import os
import random
import time
from pathlib import Path

import pytest

from fpjs_conformance import clauses, cmdline, failure_text, observed, options, redact, reporting
from fpjs_conformance.endpoint import split_userinfo
from fpjs_conformance.explore import HYPOTHESIS_PROFILES, Exploration
from fpjs_conformance.preflight import least_requests
from fpjs_conformance.redact import ScrubbingStream
from fpjs_conformance.result import RunResult
from fpjs_conformance.run import Run
from fpjs_conformance.runstate import PACKAGE, RESULT, RUN, Exit, clause_of, version_of
from fpjs_conformance.target import SetupProblem, Target, TargetUnreachable
from fpjs_conformance.transport import RunTimedOut

pytest_plugins = ["fpjs_conformance.gate"]
# Cheap, broad probes first; the clauses every response informs last, so their verdict covers the whole run.
AREA_ORDER = ("auth", "http", "request-id", "body", "semantics", "left-open", "transient", "response", "transport")


# -- options --------------------------------------------------------------------------------------
def pytest_addoption(parser: pytest.Parser) -> None:
    """The suite's options. No default here: a value is None unless given on the command line (argv,
    PYTEST_ADDOPTS, addopts), which is how the plugin tells a suite run asked for; `options.parse` takes
    the FPJS_* variables for what the command line leaves out."""
    group = parser.getgroup("fpjs", "Fingerprint update-event conformance")
    for flag, env, help_text in options.OPTIONS:
        names = [flag, *([options.ALIASES[flag][0]] if flag in options.ALIASES else [])]
        group.addoption(*names, dest=options.dest_of(flag), default=None, help=f"{help_text} [env {env}]")
    for flag, help_text in options.FLAGS:
        group.addoption(flag, action="store_true", default=False, help=help_text)


@pytest.hookimpl(tryfirst=True)
def pytest_load_initial_conftests(early_config: pytest.Config, parser: pytest.Parser, args: list[str]) -> None:
    """pytest chose its root folder and configuration before it knew the suite's options: a path given as
    `--restore-from PATH` was taken for a test path there. Choose again, now that it knows them."""
    try:
        cmdline.repair(early_config, parser, args)
    except cmdline.CannotRepair as exc:
        raise pytest.UsageError(str(exc)) from None


@pytest.hookimpl(tryfirst=True)
def pytest_cmdline_main(config: pytest.Config) -> None:
    """`--hypothesis-profile ci|nightly` names a run profile of the suite: make sure Hypothesis's own
    plugin knows the name (a project's own profile of that name is left alone)."""
    from hypothesis import settings
    from hypothesis.errors import InvalidArgument

    for name in HYPOTHESIS_PROFILES:
        try:
            settings.get_profile(name)
        except InvalidArgument:
            settings.register_profile(name, settings.get_profile("default"))
    asked = config.getoption("hypothesis_profile", None)
    if asked:
        try:
            settings.get_profile(asked)
        except InvalidArgument:
            raise pytest.UsageError(
                f"--hypothesis-profile {asked!r} is not a registered profile "
                f"(the suite's: {', '.join(HYPOTHESIS_PROFILES)})"
            ) from None


@pytest.hookimpl(trylast=True)
def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "clause(id): the contract clause a test exercises")
    if config.option.pyargs and PACKAGE in config.args:  # the contract tests live in the mapped contracts/
        from importlib import resources

        config.args[config.args.index(PACKAGE)] = str(resources.files(f"{PACKAGE}.contracts"))
    given = options.given_on_command_line(config.getoption)
    asked = _contract_tests_asked(config)
    if not (asked or given):
        return  # a project's own tests: the plugin stays inert (its FPJS_* variables are not its business)
    if given and not asked:
        raise pytest.UsageError(
            f"{' '.join(given)} given, but no test of the suite was collected: run it with "
            f"`pytest --pyargs {PACKAGE} ...` (these options are the suite's; your project's tests do not take "
            "them); no request was sent"
        )
    try:
        options.check_environment()
        get = lambda dest: config.getini("strict") if dest == "strict" else config.getoption(dest)  # noqa: E731
        opts = options.parse(get, Path(config.invocation_params.dir))
        for version in opts.versions:
            clauses.check_pointers(version)
    except (options.OptionError, clauses.CatalogueError) as exc:
        raise pytest.UsageError(str(exc)) from None
    least = least_requests(opts.versions, opts.no_restore)
    if opts.max_requests is not None and opts.max_requests < least:
        raise pytest.UsageError(
            f"--max-requests {opts.max_requests} is too small: the preflight and the restore's reserve alone may "
            f"take {least} (for {', '.join(opts.versions)}); no request was sent"
        )
    from_env = os.environ.get("FPJS_HYPOTHESIS_PROFILE")
    if from_env and from_env not in HYPOTHESIS_PROFILES:
        raise pytest.UsageError(f"FPJS_HYPOTHESIS_PROFILE {from_env!r} is not one of {', '.join(HYPOTHESIS_PROFILES)}")
    if _contract_tests_asked(config) and _in_several_processes(config):
        raise pytest.UsageError(
            "the contract suite runs in one process (one designated event, one restore, one set of reports): "
            "drop -n (or addopts -n) for it, or pass -p no:xdist; no request was sent"
        )
    name = config.getoption("hypothesis_profile", None) or from_env or "default"
    profile = HYPOTHESIS_PROFILES.get(name, HYPOTHESIS_PROFILES["default"])
    seed = config.getoption("hypothesis_seed", None)
    if not profile.derandomize and seed is None:
        # A random run still gets a printed seed, so a failure can be replayed exactly.
        seed = str(random.SystemRandom().randrange(2**32))
    run = Run(opts, Exploration(profile, int(seed) if seed is not None and str(seed).isdigit() else None))
    run.seed = seed if not profile.derandomize else None
    run.fail_fast = config.option.maxfail or None  # -x: preparing stops at the first failing verdict
    config.stash[RUN] = run
    run.say = lambda line: _say_now(config, line)  # progress while a version is prepared (minutes, nightly)
    from fpjs_conformance import gate  # loaded by pytest first (pytest_plugins): its hooks are rewritten

    gate.configure(config, run)
    reporter = config.pluginmanager.get_plugin("terminalreporter")
    if reporter is not None:  # everything pytest prints goes through the scrubber (--full-trace locals too)
        writer = reporter._tw
        writer._file = ScrubbingStream(writer._file, run.secrets)
    redact.scrub_logging(run.secrets)  # --log-file, --log-cli, caplog: httpx logs every URL it requests
    redact.scrub_reprs(run.secrets)  # pytest shortens reprs (locals, arguments): a key must not be cut in two
    tracer = config.trace.root
    if getattr(tracer, "_writer", None) is not None:  # --debug's file: from now on, and what it holds already
        handle = getattr(tracer._writer, "__self__", None)
        tracer.setwriter(redact.ScrubbingStream(_Writes(tracer._writer), run.secrets).write)
        if handle is not None and getattr(handle, "name", None):
            redact.mask_in_place(handle, run.secrets)


class _Writes:
    """A write function as a stream (for the scrubbing stream)."""

    def __init__(self, write):
        self.write = write


def _contract_tests_asked(config: pytest.Config) -> bool:
    """Whether the paths pytest was given hold the contract tests (the installed or the cloned contracts/)."""
    from importlib import resources

    contracts = Path(str(resources.files(f"{PACKAGE}.contracts"))).resolve()
    for arg in config.args:
        path = Path(str(arg).split("::", 1)[0])
        path = (path if path.is_absolute() else Path(config.invocation_params.dir) / path).resolve()
        if path == contracts or contracts in path.parents:
            return True
        if path in contracts.parents:  # a folder above: pytest recurses into it, but not into a hidden or venv one
            between = contracts.relative_to(path).parts[:-1]
            if not any(p.startswith(".") or p == "site-packages" for p in between):
                return True
    return False


def _in_several_processes(config: pytest.Config) -> bool:
    workers = config.getoption("numprocesses", None)
    return bool(workers) and workers not in (0, "0") and getattr(config, "workerinput", None) is None


# -- collection -------------------------------------------------------------------------------------
def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    if "target" in metafunc.fixturenames and RUN in metafunc.config.stash:
        versions = metafunc.config.stash[RUN].options.versions
        metafunc.parametrize("api_version", versions, scope="session")


def pytest_collection_modifyitems(session: pytest.Session, config: pytest.Config, items: list[pytest.Item]) -> None:
    if RUN not in config.stash:
        return
    if config.stash[RUN].options.restore_from is not None:  # only the restore: nothing is judged
        contract = [item for item in items if clause_of(item) is not None]
        if contract:
            config.hook.pytest_deselected(items=contract)
            items[:] = [item for item in items if clause_of(item) is None]
        return
    known = clauses.catalogue()
    keep, dropped = [], []
    for item in items:
        cid = clause_of(item)
        if cid is None:
            keep.append(item)
            continue
        if cid not in known:
            raise pytest.UsageError(f"{item.nodeid}: unknown clause {cid!r}")
        version = version_of(item)
        if version and not known[cid].applies_to(version):
            dropped.append(item)  # reported as "not applicable", never run, never passed
            continue
        item.extra_keyword_matches.add(cid)
        item.user_properties.append(("clause", f"{version}::{cid}" if version else cid))
        keep.append(item)
    if dropped:
        config.hook.pytest_deselected(items=dropped)
        items[:] = keep

    items.sort(key=lambda item: area_rank(known[cid].area if (cid := clause_of(item)) in known else ""))


def area_rank(area: str) -> int:
    """Where a clause's tests come in a run: by area (AREA_ORDER), the others last."""
    return AREA_ORDER.index(area) if area in AREA_ORDER else len(AREA_ORDER)


def pytest_collection_finish(session: pytest.Session) -> None:
    """The tests that will run (after `-k` and `-m`) say which clauses each version's table covers."""
    config = session.config
    run = config.stash.get(RUN, None)
    if run is None:
        return
    for item in session.items:
        cid, version = clause_of(item), version_of(item)
        if cid and version:
            run.selected.setdefault(version, set()).add(cid)
            run.tests.setdefault(version, {}).setdefault(cid, item.nodeid)
    reporter = config.pluginmanager.get_plugin("terminalreporter")
    if config.option.collectonly:  # nothing starts, nothing is sent, nothing is written
        return
    if run.options.restore_from is not None and getattr(config, "workerinput", None) is None:
        run.start()  # the restore runs at the end of the session, whatever else was collected
        if reporter is not None:
            reporter.write_line(f"fpjs: restoring the designated event from {run.options.restore_from}")
        return
    if run.selected and getattr(config, "workerinput", None) is None:
        try:  # the contract suite will run: its report folder must take files before the first request
            reporting.write_placeholder(run.options.report_dir)
        except OSError as exc:
            raise pytest.UsageError(f"--report-dir {run.options.report_dir}: cannot write there ({exc})") from None
        run.start()  # from here on a signal only asks the run to stop: the reports say so
        run.plans_ahead = run.estimate()
        if reporter is not None:
            reporter.write_line(f"fpjs: target: {describe_target(run)}")
        for version, plan in run.plans_ahead.items():
            when = plan.get("seconds_at_rate_limit")
            took = f" at {run.options.rate_limit:g}/s: about {_duration(when)}" if when is not None else ""
            table = f"{plan['coverage_requests']} for the coverage table"
            line = f"fpjs [{version}]: at most {plan['at_most']} requests ({table}){took}"
            if reporter is not None:
                reporter.write_line(line)


def describe_target(run: Run) -> str:
    """What the run judges, in one line: the bundled server or each version's base URL."""
    o = run.options
    if o.embedded:
        return f"bundled reference server ({', '.join(o.versions)}): no --base-url or --region was given"
    urls = {v: split_userinfo(u)[0] for v, u in o.base_urls.items()}
    return ", ".join(f"{u} ({v})" for v, u in urls.items())


def _duration(seconds: float) -> str:
    minutes, secs = divmod(int(seconds), 60)
    return f"{minutes} min {secs:02d} s" if minutes else f"{secs} s"


# -- the target -----------------------------------------------------------------------------------
@pytest.fixture(scope="session")
def target(api_version: str, request: pytest.FixtureRequest) -> Target:
    """The server under test for one API version, ready to send to (preflight and coverage table done).
    A version that cannot be judged (not served, a setup problem) skips its tests with the one line why."""
    run = request.config.stash[RUN]
    try:
        prepared = run.target(api_version)
    except SetupProblem as exc:
        _flush_notices(request.config, run)
        pytest.skip(str(exc))
    _flush_notices(request.config, run)
    return prepared


def _flush_notices(config: pytest.Config, run: Run) -> None:
    """Lines kept for the user (from before the terminal could take them): to the terminal."""
    while run.notices:
        _say_now(config, run.notices.pop(0))


def _say_now(config: pytest.Config, line: str) -> None:
    """A line for the user from inside a test's setup: past the output capture, to the terminal."""
    reporter = config.pluginmanager.get_plugin("terminalreporter")
    capture = config.pluginmanager.get_plugin("capturemanager")
    if reporter is None:
        return
    with capture.global_and_fixture_disabled() if capture is not None else contextlib.nullcontext():
        reporter.write_line(line)


@pytest.hookimpl(tryfirst=True)
def pytest_runtest_setup(item: pytest.Item) -> None:
    run = item.config.stash.get(RUN, None)
    if run is None or clause_of(item) is None:
        return
    why = safe_point(run, version_of(item), item.nodeid)
    if why:
        pytest.skip(why)


def safe_point(run: Run, version: str | None, test: str) -> str | None:
    """Between tests, a safe point: a signal's stop request stops the run here (KeyboardInterrupt); past the run
    timeout, why the remaining tests are not judged (they are skipped, and the restore still runs)."""
    if run.stop_request:
        raise KeyboardInterrupt(run.stop_request)
    if time.monotonic() - run.started > run.options.run_timeout or any(t.timed_out for t in run.targets.values()):
        if not run.timed_out:
            run.timed_out = True
            run.stop_with(f"the run took longer than --run-timeout={run.options.run_timeout:g}s", Exit.VIOLATED)
        return f"not judged: the run took longer than --run-timeout={run.options.run_timeout:g}s"
    if version in run.targets:
        run.targets[version].ledger.current_test = test
    return None


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo):
    outcome = yield
    report = outcome.get_result()
    run = item.config.stash.get(RUN, None)
    if run is None:
        return
    if call.excinfo is not None and report.failed:
        exc = call.excinfo.value
        stop = stops_the_run(run, exc)
        if stop:
            item.session.shouldstop = stop
        text = failure_text.of(run, exc)
        if text is not None:
            report.longrepr = text
    failure_text.scrub_report(report, run.secrets)


def stops_the_run(run: Run, exc: BaseException) -> str | None:
    """A test that failed because the target stopped answering, or the run timed out, stops the run: why."""
    if not isinstance(exc, TargetUnreachable | RunTimedOut):
        return None
    run.timed_out = run.timed_out or isinstance(exc, RunTimedOut)
    run.stop_with(str(exc), Exit.VIOLATED)
    return str(exc)


# -- the end ----------------------------------------------------------------------------------------
@pytest.hookimpl(trylast=True)  # after the gate's stale check and the session fixtures' teardown
def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    config = session.config
    run = config.stash.get(RUN, None)
    if run is None or getattr(config, "workerinput", None) is not None:
        return
    if not (run._started_up or (run.selected and run.stopped)):  # the suite did not run here
        return
    if run.options.restore_from is not None:
        run.finishing = True  # the restore phase: a signal only sets a flag from here on
        try:
            outcome = run.restore_from(run.options.restore_from)
        finally:
            run.stop()
        config.stash[RESULT] = RunResult.of(run)
        restored = outcome["status"] in ("restored", "partly restored", "unchanged")
        session.exitstatus = (
            Exit.INTERRUPTED
            if run.stop_request
            else Exit.OK
            if restored
            else Exit.NOT_RESTORED
            if run.unrestored
            else Exit.SETUP
        )
        return
    config.stash[RESULT], session.exitstatus = finish(run, int(session.exitstatus))


def finish(run: Run, pytest_status: int) -> tuple[RunResult, int]:
    """The end of a run: the restore (Run.stop), its result, the reports; the result and the exit status the
    reports record. A run without pytest (`fpjs_conformance.inprocess`) ends here too."""
    if pytest_status == Exit.INTERRUPTED or run.stop_request:
        run.stop_with(run.stop_request or "interrupted (Ctrl-C)", Exit.INTERRUPTED)
    run.stop()
    result = RunResult.of(run)
    model = reporting.collect(result, Exit.OK)
    status = exit_status(result, pytest_status, model)
    failed = failed_clauses(model)
    if status == Exit.VIOLATED and failed and pytest_status == Exit.OK:
        # A violation recorded where no test raised it (the restore's read-back, a Hypothesis example
        # before shrinking): the exit status says what the reports say.
        result = result.stopped_with(f"violations recorded outside any failing test: {', '.join(failed)}", status)
    status, run.report_paths = reporting.write_run(result, status)
    return result, status


def pytest_unconfigure(config: pytest.Config) -> None:
    """Give the signals back, last: until here, a signal after the restore began only sets a flag."""
    run = config.stash.get(RUN, None)
    if run is not None:
        run.release()


def failed_clauses(model: dict) -> list[str]:
    """`version::clause` of every clause the reports' model marks failed."""
    return [f"{v}::{r['id']}" for r in model["clauses"] for v, c in r["versions"].items() if c["status"] == "failed"]


def exit_status(run: RunResult, pytest_status: int, model: dict) -> int:
    """The run's exit status, worst first (README, "When is green green?"): interrupted 2; a violation
    anywhere, a target that stopped answering or the run timeout 1; the restore did not finish 10; a
    version that could not be judged (not served, a setup problem) 6; the budget cut the table or
    --require all left a MUST clause unexercised 7; drift with --fail-on-drift 8; else pytest's own (0
    only when every test passed)."""
    failed = failed_clauses(model)
    if pytest_status == Exit.INTERRUPTED or run.stop_request:
        return Exit.INTERRUPTED
    if failed or pytest_status == Exit.VIOLATED or run.timed_out or run.stop_code == Exit.VIOLATED:
        return Exit.VIOLATED
    if run.unrestored:
        return Exit.NOT_RESTORED
    if run.stop_code == Exit.SETUP:
        return Exit.SETUP
    if pytest_status != Exit.OK:
        return pytest_status
    if model["budget_left_out"] or (run.options.require_all and model["incomplete"]):
        return Exit.INCOMPLETE
    if observed.unmet(model["observed"], run.options.require_observed):
        return Exit.INCOMPLETE
    if run.drift and run.drift["changes"] and run.options.fail_on_drift:
        return Exit.DRIFT
    return Exit.OK


RED = ("fpjs: INCOMPLETE", "fpjs: DRIFT", "fpjs: STOPPED", "fpjs: NOT RESTORED", "fpjs: JOURNAL OPEN")


def pytest_terminal_summary(terminalreporter, exitstatus: int, config: pytest.Config) -> None:
    run, result = config.stash.get(RUN, None), config.stash.get(RESULT, None)
    if run is None or result is None:  # the suite did not run here
        return
    write = terminalreporter.write_line
    for version, plan in result.plans.items():
        stats = result.stats.get(version, {})
        write(
            f"fpjs [{version}]: {stats.get('requests_sent', 0)} requests ({plan['sent']}/{plan['cases']} coverage "
            f"cases), peak {stats.get('peak_requests_per_second', 0)}/s, {stats.get('retries_429', 0)} 429 retries, "
            f"{stats.get('retries_409', 0)} 409 retries, {stats.get('transport_errors', 0)} transport errors"
        )
    for version, records in result.transport_records.items():
        for error in records["errors"][:3]:
            write(f"fpjs [{version}]:   no answer to {error['request'][:160]}: {error['error'][:200]}")
        for resend in records["resends"][:3]:
            why, sent = resend["why"][:200], resend["request"][:120]
            write(f"fpjs [{version}]:   sent again on a fresh connection ({why}): {sent}")
    for version, restore in result.restores.items():
        why = f" ({restore['why']})" if restore.get("why") else ""
        write(f"fpjs [{version}]: designated event: {restore['status']}{why}")
    if result.seed is not None:
        name = result.exploration.hypothesis_profile.name
        write(f"fpjs: Hypothesis profile {name}, seed {result.seed} (rerun --hypothesis-seed={result.seed})")
    for path in run.report_paths:
        with contextlib.suppress(ValueError):
            path = path.relative_to(Path.cwd())
        write(f"fpjs: report {path}")
    for line in reporting.closing_lines(result):  # the stop line last: it is what the user must read
        write(line, red=line.startswith(RED))
