"""The suite's command line: one table of options (each with an environment fallback), parsed and
validated once, before any request, without side effects.

Every bad value is one `OptionError` line (pytest prints it as `ERROR: ...`, exit code 4): nothing
is sent, nothing is written. A remote target without a key or an event is one too. This module is what
callers import: the table (`option_table`) and the checks of single values (`option_values`) are its parts.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path

from fpjs_conformance import profile as profiles
from fpjs_conformance.endpoint import split_userinfo
from fpjs_conformance.limits import NOT_READY_TRIES, RESTORE_BACKOFF
from fpjs_conformance.option_table import (
    ALIASES,
    FLAGS,
    OPTIONS,
    OTHER_VARIABLES,
    PREFIX,
    REFERENCE_PREFIX,
    STRICT_ENV,
    VALUED,
    OptionError,
    check_environment,
    dest_of,
    env_name,
    from_environment,
    given_on_command_line,
    known_variables,
)
from fpjs_conformance.option_values import (
    KEY_SHAPE,
    base_urls_of,
    check_base_url,
    check_ca_bundle,
    check_journal,
    check_key,
    check_userinfo,
    check_writable,
    choose_versions,
    count,
    journal_path,
    positive,
    rate_limit,
    read_baseline,
    report_folder,
)

__all__ = [  # what callers use, wherever it is defined
    "ALIASES",
    "CONNECTIONS",
    "FLAGS",
    "KEY_SHAPE",
    "MAX_REQUEST_TIMEOUT",
    "MAX_RUN_TIMEOUT",
    "OPTIONS",
    "OTHER_VARIABLES",
    "PREFIX",
    "REFERENCE_PREFIX",
    "RESTORE_RESERVE",
    "SECRET_OPTIONS",
    "VALUED",
    "OptionError",
    "Options",
    "check_base_url",
    "check_ca_bundle",
    "check_environment",
    "check_journal",
    "check_key",
    "check_writable",
    "choose_versions",
    "dest_of",
    "env_name",
    "from_environment",
    "given_on_command_line",
    "known_variables",
    "parse",
    "positive",
    "rate_limit",
    "report_folder",
]

SECRET_OPTIONS = ("api_key", "wrong_region_api_key", "foreign_api_key")
CONNECTIONS = 4  # the default of --connections: a few, so that latency does not add up
MAX_REQUEST_TIMEOUT = 3600.0  # seconds: bounds past which timers overflow and a run never ends
MAX_RUN_TIMEOUT = 7 * 86400.0
# The restore's requests (read before, write back, read again; a second round after a write that got no
# answer lands late), each with its 429 retries and its tries after a transient failure: kept back from
# --max-requests, and only they may use it.
# The two writes among them may also wait out not-ready answers.
RESTORE_REQUESTS = 6
RESTORE_RESERVE = RESTORE_REQUESTS * (1 + 5 + len(RESTORE_BACKOFF)) + 2 * NOT_READY_TRIES


@dataclass(kw_only=True)
class Options:
    """The parsed, validated command line (the defaults: a command that leaves a value out)."""

    versions: tuple[str, ...]
    report_dir: Path
    base_urls: dict[str, str] | None = field(default=None, repr=False)  # version -> base URL (None: bundled)
    api_key: str | None = field(default=None, repr=False)
    request_id: str | None = None
    expired_request_id: str | None = None
    not_ready_request_id: str | None = None
    wrong_region_api_key: str | None = field(default=None, repr=False)
    foreign_request_id: str | None = None
    foreign_api_key: str | None = field(default=None, repr=False)
    settle_time: float = 2.0
    rate_limit: float | None = None
    timeout: float = 10.0
    run_timeout: float = 1800.0
    max_requests: int | None = None
    connections: int = CONNECTIONS
    require_all: bool = False
    baseline: Path | None = None
    fail_on_drift: bool = False
    ca_bundle: str | None = None
    deviations: str | None = None
    deviations_file: str | None = None
    no_restore: bool = False
    region: str | None = None
    userinfo: str | None = field(default=None, repr=False)
    baseline_snapshot: dict | None = field(default=None, repr=False)  # the baseline, read before anything is written
    require_observed: tuple[str, ...] = ()
    traffic: bool = True
    restore_from: Path | None = None
    force_restore: bool = False
    not_ready_budget: float | None = None  # None: the default (the bundled server's own, short one)
    strict: bool = False

    @property
    def embedded(self) -> bool:
        return self.base_urls is None

    def shown(self) -> dict:
        """The options as the reports show them: secrets redacted, paths as text."""
        out = {}
        for name, value in vars(self).items():
            if name == "baseline_snapshot":
                continue
            if name in SECRET_OPTIONS or name == "userinfo":
                value = "[redacted]" if value else None
            elif name == "base_urls" and value:
                value = {v: split_userinfo(u)[0] for v, u in value.items()}
            elif isinstance(value, Path):
                value = str(value)
            elif isinstance(value, tuple):
                value = list(value)
            out[name] = value
        return out


def parse(get, invocation_dir: Path) -> Options:
    """Options from `get(dest)` (pytest's getoption or argparse's; environment fallbacks applied here)."""
    as_given = get

    def get(dest: str):
        value = as_given(dest)
        if value is None and dest in VALUED:
            return from_environment(dest)
        return value

    region = get("region")
    base_url = get("base_url")
    if region and base_url:
        raise OptionError("give --base-url or --region, not both (FPJS_BASE_URL and FPJS_REGION count too)")
    if base_url:
        check_base_url(base_url)
    versions = choose_versions(get("api_version"), base_url)
    base_urls = base_urls_of(base_url, region, versions)
    userinfo = None
    if base_urls:
        userinfo = split_userinfo(next(iter(base_urls.values())))[1]
        check_userinfo(userinfo, versions)
    api_key, wrong_region, foreign_key = get("api_key"), get("wrong_region_api_key"), get("foreign_api_key")
    for flag, key in (
        ("--api-key", api_key),
        ("--wrong-region-api-key", wrong_region),
        ("--foreign-api-key", foreign_key),
    ):
        check_key(flag, key)
    ids = {
        flag: get(dest)
        for flag, dest in (
            ("--request-id", "request_id"),
            ("--expired-request-id", "expired_request_id"),
            ("--not-ready-request-id", "not_ready_request_id"),
            ("--foreign-request-id", "foreign_request_id"),
        )
    }
    plain = profiles.load(versions[0]).plain_id
    for flag, value in ids.items():
        if value is not None and not plain.fullmatch(value):
            shown = value.encode("unicode_escape").decode("ascii")
            raise OptionError(
                f"{flag} {shown!r} is not a plain event id (letters, digits, '.', '_', '-'; at most 64 characters)"
            )
    if base_urls is None:
        # The bundled server has its own key and events: a key or an event id means a real target was meant.
        keys = (("--api-key", api_key), ("--wrong-region-api-key", wrong_region), ("--foreign-api-key", foreign_key))
        given = [f for f, v in (*keys, *ids.items()) if v]
        if given:
            raise OptionError(
                f"{' and '.join(given)} given (by option or FPJS_* environment variable) but no target: pass "
                "--base-url or --region (FPJS_BASE_URL / FPJS_REGION), or unset them to test the bundled "
                "reference server; no request was sent"
            )
    if foreign_key and not ids["--foreign-request-id"]:
        raise OptionError("--foreign-api-key reads the event of --foreign-request-id back: give that event too")
    timeout = positive(get("request_timeout") or "10", "--request-timeout", MAX_REQUEST_TIMEOUT)
    settle = get("settle_time")
    settle_time = (
        0.0 if settle is not None and settle.strip() in ("0", "0.0") else positive(settle or "2", "--settle-time", 60.0)
    )
    run_timeout = positive(get("run_timeout") or "1800", "--run-timeout", MAX_RUN_TIMEOUT)
    not_ready_budget = get("not_ready_budget")
    if not_ready_budget is not None:
        not_ready_budget = positive(not_ready_budget, "--not-ready-budget", MAX_REQUEST_TIMEOUT)
        if not_ready_budget >= run_timeout:
            raise OptionError(
                f"--not-ready-budget {not_ready_budget:g} must be shorter than --run-timeout={run_timeout:g}"
            )
    rate = rate_limit(get("rate_limit"), None if base_urls is None else next(iter(base_urls.values())))
    if rate is not None and 1.0 / rate > run_timeout:
        raise OptionError(
            f"--rate-limit {get('rate_limit')} cannot send even one request within --run-timeout={run_timeout:g}s"
        )
    no_restore = bool(get("no_restore"))
    max_requests = get("max_requests")
    if max_requests is not None:
        max_requests = count(max_requests, "--max-requests")
    connections = get("connections")
    connections = CONNECTIONS if connections is None else count(connections, "--connections")
    observed = tuple(w.strip().lower() for w in (get("require_observed") or "").split(",") if w.strip())
    if any(w not in ("statuses",) for w in observed):
        raise OptionError(f"--require-observed must be 'statuses' (got {get('require_observed')!r})")
    require = (get("require") or "").strip().lower()
    if require not in ("", "all", "none"):
        raise OptionError(f"--require must be 'all' or 'none' (got {get('require')!r})")
    if base_urls is not None:
        needed = (("--api-key", api_key), *list(ids.items())[:1])
        missing = [o for o, v in needed if not v]
        if missing:
            raise OptionError(
                f"a remote target ({split_userinfo(next(iter(base_urls.values())))[0]}) needs {' and '.join(missing)} "
                "(or FPJS_API_KEY / FPJS_REQUEST_ID); no request was sent"
            )
    restore_from = journal_path(get("restore_from"), invocation_dir)
    if restore_from is not None:
        check_journal(restore_from, base_urls, ids["--request-id"], api_key)
    ca_bundle = get("ca_bundle")
    if ca_bundle:
        check_ca_bundle(ca_bundle)
    baseline = get("baseline")
    snapshot = read_baseline(Path(baseline)) if baseline else None
    if get("fail_on_drift") and not baseline:
        raise OptionError("--fail-on-drift needs --baseline (an earlier run's reports/behaviour.json)")
    report_dir = report_folder(get("report_dir"), invocation_dir)
    return Options(
        versions=versions,
        base_urls=base_urls,
        api_key=api_key,
        request_id=ids["--request-id"],
        expired_request_id=ids["--expired-request-id"],
        not_ready_request_id=ids["--not-ready-request-id"],
        wrong_region_api_key=wrong_region,
        foreign_request_id=ids["--foreign-request-id"],
        foreign_api_key=foreign_key,
        settle_time=settle_time,
        report_dir=report_dir,
        rate_limit=rate,
        timeout=timeout,
        run_timeout=run_timeout,
        max_requests=max_requests,
        connections=connections,
        require_all=require == "all",
        baseline=Path(baseline) if baseline else None,
        fail_on_drift=bool(get("fail_on_drift")),
        ca_bundle=ca_bundle,
        deviations=get("deviations"),
        deviations_file=get("deviations_file"),
        no_restore=no_restore,
        region=region,
        userinfo=userinfo,
        baseline_snapshot=snapshot,
        restore_from=restore_from,
        force_restore=bool(get("force_restore")),
        require_observed=observed,
        traffic=not get("no_traffic"),
        not_ready_budget=not_ready_budget,
        strict=bool(get("strict")) or os.environ.get(STRICT_ENV, "").strip().lower() in ("1", "true", "yes"),
    )
