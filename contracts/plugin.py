"""The pytest side of the suite: option checks, the target's life cycle, failure text, reports.

Failures from checks are rewritten into a one-line summary plus the evidence (clause text,
request, response, replay line, how to reproduce) instead of a traceback; every report text
is scrubbed of the secrets before pytest prints or stores it.
"""

from __future__ import annotations

import os
import random
import secrets as pysecrets
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from contracts import clauses, oracle, spec
from contracts.checks import Violation
from contracts.ledger import Ledger
from contracts.target import Target
from contracts.transport import Policy, Secrets, Transport, is_loopback, scrub, tls_context

ROOT = Path(__file__).resolve().parent.parent
LEDGER = pytest.StashKey[Ledger]()
SECRETS = pytest.StashKey[list]()
OPTIONS = pytest.StashKey["Options"]()
STATE = pytest.StashKey[dict]()


class Options:
    """The parsed, validated command line."""

    def __init__(self, config: pytest.Config):
        get = config.getoption
        region = get("region")
        servers = spec.servers()
        if region and region not in servers:
            raise pytest.UsageError(f"--region must be one of {', '.join(servers)} (got {region!r})")
        self.base_url: str | None = get("base_url") or (servers[region] if region else None)
        self.api_key: str | None = get("api_key")
        self.request_id: str | None = get("request_id")
        self.expired_request_id: str | None = get("expired_request_id")
        self.not_ready_request_id: str | None = get("not_ready_request_id")
        self.wrong_region_api_key: str | None = get("wrong_region_api_key")
        self.report_dir = Path(get("report_dir") or ROOT / "reports")
        self.no_restore: bool = get("no_restore")
        self.ca_bundle: str | None = get("ca_bundle")
        self.deviations: str | None = get("deviations")
        self.timeout = _positive(get("request_timeout") or "10", "--request-timeout")
        self.run_timeout = _positive(get("run_timeout") or "1800", "--run-timeout")
        self.rate_limit = rate_limit(get("rate_limit"), self.base_url)
        if self.base_url is not None:
            if not self.base_url.startswith(("http://", "https://")):
                raise pytest.UsageError(f"--base-url must start with http:// or https:// (got {self.base_url!r})")
            missing = [o for o, v in (("--api-key", self.api_key), ("--request-id", self.request_id)) if not v]
            if missing:
                raise pytest.UsageError(
                    f"a remote target ({self.base_url}) needs {' and '.join(missing)} "
                    "(or FPJS_API_KEY / FPJS_REQUEST_ID); no request was sent"
                )
        if self.ca_bundle and not Path(self.ca_bundle).is_file():
            raise pytest.UsageError(f"--ca-bundle {self.ca_bundle!r} is not a file")

    def policy(self) -> Policy:
        return Policy(timeout=self.timeout, rate_limit=self.rate_limit, verify=tls_context(self.ca_bundle))


LIVE_RATE_LIMIT = 5.0  # requests/s: the live API's default limit per key


def rate_limit(option: str | None, base_url: str | None) -> float | None:
    """Requests per second from `--rate-limit` (`5`, `5/s`, `0` for none); by default unlimited on
    loopback (the bundled server included) and the live API's limit anywhere else."""
    if option is None:
        return None if base_url is None or is_loopback(base_url) else LIVE_RATE_LIMIT
    if option.strip().lower() in ("0", "none", "unlimited"):
        return None
    return _positive(option.strip().lower().removesuffix("/s"), "--rate-limit")


def _positive(text: str, option: str) -> float:
    try:
        value = float(text)
    except ValueError:
        value = -1.0
    if value <= 0:
        raise pytest.UsageError(f"{option} must be a positive number (got {text!r})")
    return value


# -- configuration ------------------------------------------------------------------------------
@pytest.hookimpl(tryfirst=True)
def pytest_configure(config: pytest.Config) -> None:
    config.stash[LEDGER] = Ledger()
    options = config.stash[OPTIONS] = Options(config)  # parsed and validated once per run
    config.stash[STATE] = {"started": time.monotonic(), "run_timeout": options.run_timeout}
    config.stash[SECRETS] = [s for s in (options.api_key, options.wrong_region_api_key) if s]
    from hypothesis import settings

    if not settings.default.derandomize and config.getoption("hypothesis_seed", None) is None:
        # A random run still gets a printed seed, so a failure can be replayed exactly.
        config.option.hypothesis_seed = str(random.SystemRandom().randrange(2**32))
    config.stash[STATE]["seed"] = config.getoption("hypothesis_seed", None)


def build_target(config: pytest.Config) -> Iterator[Target]:
    """Yield the session's target; start (and finally stop) the reference server when embedded."""
    options = config.stash[OPTIONS]
    server = None
    if options.base_url is None:
        from refserver.app import Settings
        from refserver.launch import LaunchError, ServerProcess

        defaults = Settings()
        env = {
            "FPJS_REF_API_KEY": "ref" + pysecrets.token_hex(12),
            "FPJS_REF_WRONG_REGION_API_KEY": "eu" + pysecrets.token_hex(12),
            "PYTHONPATH": os.pathsep.join(p for p in (str(ROOT), os.environ.get("PYTHONPATH")) if p),
        }
        config.stash[SECRETS].extend([env["FPJS_REF_API_KEY"], env["FPJS_REF_WRONG_REGION_API_KEY"]])
        try:
            server = ServerProcess(["-m", "refserver", "--port", "0"], env=env).start()
        except LaunchError as exc:
            pytest.exit(f"could not start the bundled reference server: {exc}", returncode=3)
        base_url = server.url
        keys = Secrets(env["FPJS_REF_API_KEY"], env["FPJS_REF_WRONG_REGION_API_KEY"])
        events = oracle.Events(defaults.request_id, defaults.expired_request_id, defaults.not_ready_request_id)
    else:
        base_url = options.base_url
        keys = Secrets(options.api_key or "", options.wrong_region_api_key)
        events = oracle.Events(options.request_id or "", options.expired_request_id, options.not_ready_request_id)
    policy = options.policy()
    if server is not None:  # the bundled server counts updates, not time: no need to wait between tries
        policy.not_ready_backoff = (0.01,) * len(policy.not_ready_backoff)
    transport = Transport(base_url, keys, policy)
    target = Target(
        base_url,
        events,
        transport,
        config.stash[LEDGER],
        has_wrong_region_key=keys.wrong_region_api_key is not None,
        embedded=server is not None,
    )
    state = config.stash[STATE]
    state["target"] = target
    snapshot: list = []  # the original values, once read (before the first update)
    try:
        preflight(target)
        if not options.no_restore:
            snapshot.append(target.snapshot())
        yield target
    finally:
        if options.no_restore:
            state["restore"] = {"status": "off", "why": "--no-restore"}
        elif snapshot:
            state["restore"] = target.restore(snapshot[0])
        state["stats"] = transport.stats.as_dict()
        transport.close()
        if server is not None:
            server.stop()


def preflight(target: Target) -> None:
    """One harmless request (no key) first: an unreachable or untrusted target is one clear line."""
    from contracts.model import NO_KEY

    ex = target.send(target.update(credentials=NO_KEY))
    if ex.error and ("ConnectError" in ex.error or "SSL" in ex.error or "certificate" in ex.error.lower()):
        hint = " (a private CA? pass --ca-bundle)" if "certificate" in ex.error.lower() else ""
        pytest.exit(f"UE-TRANSPORT-01: cannot connect to {target.base_url}: {ex.error}{hint}", returncode=1)


# -- collection ---------------------------------------------------------------------------------
# Cheap, broad probes first, so a broken target fails fast (`-x`) and the report leads with them.
AREA_ORDER = ("response", "transport", "auth", "request-id", "body", "semantics", "left-open", "transient")


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    known = clauses.catalogue()

    def rank(item: pytest.Item) -> int:
        cid = clause_of(item)
        area = known[cid].area if cid in known else ""
        return AREA_ORDER.index(area) if area in AREA_ORDER else len(AREA_ORDER)

    items.sort(key=rank)
    for item in items:
        for mark in item.iter_markers("clause"):
            clause_id = mark.args[0]
            if clause_id not in known:
                raise pytest.UsageError(f"{item.nodeid}: unknown clause {clause_id!r}")
            item.extra_keyword_matches.add(clause_id)
            item.user_properties.append(("clause", clause_id))


def clause_of(item: pytest.Item) -> str | None:
    mark = item.get_closest_marker("clause")
    return mark.args[0] if mark else None


@pytest.hookimpl(tryfirst=True)
def pytest_runtest_setup(item: pytest.Item) -> None:
    state = item.config.stash[STATE]
    if time.monotonic() - state["started"] > state["run_timeout"]:
        pytest.exit(f"the run took longer than --run-timeout={state['run_timeout']:g}s; stopped", returncode=1)
    item.config.stash[LEDGER].current_test = clause_of(item) or item.nodeid


# -- failure text -------------------------------------------------------------------------------
def _violations(exc: BaseException) -> list[Violation]:
    if isinstance(exc, Violation):
        return [exc]
    if isinstance(exc, BaseExceptionGroup):
        return [v for sub in exc.exceptions for v in _violations(sub)]
    return []


def format_violation(v: Violation, item: pytest.Item, seed: str | None) -> str:
    clause = clauses.get(v.clause_id)
    judged = f" (check {v.check})" if v.check else ""
    lines = [v.summary(), f"  clause    {clause.id} [{clause.level}] {clause.requirement}{judged}"]
    ex = v.exchange
    if ex is not None:
        headers = " ".join(f"{k}: {val}" for k, val in ex.headers.items()) or "(none)"
        lines.append(f"  request   {ex.request.method} {ex.url}  headers: {headers}")
        if ex.request.method != "GET":
            lines.append(f"  body      {ex.request.body.describe(400)}")
        if ex.error:
            lines.append(f"  response  none: {ex.error}")
        else:
            ctype = ex.response_headers.get("content-type", "(no content type)")
            lines.append(f"  response  {ex.status} {ctype} after {ex.attempts} attempt(s): {ex.body_excerpt(400)}")
        lines.append(f"  replay    export FPJS_API_KEY=...; {ex.curl}")
    rerun = f"pytest '{item.nodeid}' <same options>" + (f" --hypothesis-seed={seed}" if seed else "")
    lines.append(f"  rerun     {rerun}")
    return "\n".join(lines)


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo):
    outcome = yield
    report = outcome.get_result()
    config = item.config
    if call.excinfo is not None and report.failed:
        found = _violations(call.excinfo.value)
        if found:
            seed = config.stash[STATE].get("seed")
            notes = [n for n in getattr(call.excinfo.value, "__notes__", []) if n.strip()]
            text = "\n\n".join(format_violation(v, item, seed) for v in found)
            if notes:
                note_lines = "\n".join(notes).strip().splitlines()
                text += "\n  hypothesis " + "\n             ".join(line.rstrip() for line in note_lines if line.strip())
            report.longrepr = text
    scrub_report(report, config.stash[SECRETS])


def scrub_report(report: pytest.TestReport, secrets: list[str]) -> None:
    """No secret leaves through pytest: failure text and captured output are scrubbed."""
    if report.longrepr is not None:
        text = str(report.longrepr)
        cleaned = scrub(text, secrets)
        if cleaned != text:
            report.longrepr = cleaned
    report.sections = [(title, scrub(body, secrets)) for title, body in report.sections]


# -- the end ------------------------------------------------------------------------------------
@pytest.hookimpl(trylast=True)  # after the session fixtures are torn down: the stats are final
def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    config = session.config
    state = config.stash.get(STATE, {})
    target: Target | None = state.get("target")
    if target is None or getattr(config, "workerinput", None) is not None:
        return
    from contracts import reporting

    options = config.stash[OPTIONS]
    try:
        paths = reporting.write_all(options.report_dir, target, state, session.exitstatus, config.stash[SECRETS])
    except OSError as exc:
        sys.stderr.write(f"could not write reports to {options.report_dir}: {exc}\n")
        return
    state["report_paths"] = paths


def pytest_terminal_summary(terminalreporter, exitstatus: int, config: pytest.Config) -> None:
    state = config.stash.get(STATE, {})
    stats = state.get("stats")
    restore = state.get("restore")
    if restore:
        why = f" ({restore['why']})" if restore.get("why") else ""
        terminalreporter.write_line(f"fpjs: designated event: {restore['status']}{why}")
    if stats:
        terminalreporter.write_line(
            f"fpjs: {stats['requests_sent']} requests, peak {stats['peak_requests_per_second']}/s, "
            f"{stats['retries_429']} 429 retries, {stats['retries_409']} 409 retries, "
            f"{stats['transport_errors']} transport errors"
        )
    for path in state.get("report_paths", []):
        terminalreporter.write_line(f"fpjs: report {path}")
