"""The suite's command line: one table of options (each with an environment fallback), parsed and
validated once, before any request, without side effects.

Every bad value is one `OptionError` line (pytest prints it as `ERROR: ...`, exit code 4): nothing
is sent, nothing is written. A remote target without a key or an event is one too.
"""

from __future__ import annotations

import math
import os
import re
import ssl
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit

from fpjs_conformance import designated, provenance
from fpjs_conformance import profile as profiles
from fpjs_conformance.endpoint import is_loopback, split_userinfo, tls_context
from fpjs_conformance.limits import NOT_READY_TRIES, RESTORE_BACKOFF

# (option, environment variable, help); aliases below.
OPTIONS = [
    ("--base-url", "FPJS_BASE_URL", "target server; default: start the bundled reference server on loopback"),
    ("--region", "FPJS_REGION", "global|eu|ap: the document's servers (instead of --base-url)"),
    (
        "--api-version",
        "FPJS_API_VERSION",
        "the API versions to judge, comma-separated (default: the version whose servers' path --base-url ends "
        "with, else the oldest)",
    ),
    ("--api-key", "FPJS_API_KEY", "a valid secret API key for the target"),
    (
        "--request-id",
        "FPJS_REQUEST_ID",
        "an event inside the update window that the suite may update (alias --event-id)",
    ),
    ("--expired-request-id", "FPJS_EXPIRED_REQUEST_ID", "optional: an event older than the version's update window"),
    ("--wrong-region-api-key", "FPJS_WRONG_REGION_API_KEY", "optional: a valid key of an app in another region"),
    ("--not-ready-request-id", "FPJS_NOT_READY_REQUEST_ID", "optional: an event that answers 409 not-ready first"),
    (
        "--foreign-request-id",
        "FPJS_FOREIGN_REQUEST_ID",
        "optional: an event of another workspace (application) in the same region: its update must be not found",
    ),
    (
        "--foreign-api-key",
        "FPJS_FOREIGN_API_KEY",
        "optional: that workspace's secret key, to read its event back (unchanged) after the update",
    ),
    (
        "--settle-time",
        "FPJS_SETTLE_TIME",
        "seconds a read-back may take to show a write before it is called stale (default 2; 0: no wait)",
    ),
    ("--report-dir", "FPJS_REPORT_DIR", "where reports are written (default: ./reports where pytest runs)"),
    ("--rate-limit", "FPJS_RATE_LIMIT", "requests per second, e.g. 5 or 5/s (default: unlimited on loopback, else 5)"),
    ("--request-timeout", "FPJS_REQUEST_TIMEOUT", "seconds per request (default 10)"),
    ("--run-timeout", "FPJS_RUN_TIMEOUT", "seconds the whole run may take before it stops (default 1800)"),
    ("--max-requests", "FPJS_MAX_REQUESTS", "a hard cap on the requests of the whole run; the coverage table first"),
    (
        "--not-ready-budget",
        "FPJS_NOT_READY_BUDGET",
        "seconds a write may wait out 409 not-ready answers in all (default 75, as the vendor's own tests; "
        "the preflight and the restore too)",
    ),
    ("--require", "FPJS_REQUIRE", "all: fail the run (exit 7) when a MUST clause it selected was left unexercised"),
    (
        "--require-observed",
        "FPJS_REQUIRE_OBSERVED",
        "statuses: fail the run (exit 7) when a status the operation declares never came back",
    ),
    ("--baseline", "FPJS_BASELINE", "an earlier reports/behaviour.json: report every change of behaviour (drift)"),
    ("--ca-bundle", "FPJS_CA_BUNDLE", "PEM file of CA certificates for a private TLS target"),
    ("--deviations", "FPJS_DEVIATIONS", "the known-deviations set(s) to apply (default: chosen by base URL)"),
    ("--deviations-file", "FPJS_DEVIATIONS_FILE", "known-deviations file (default: the one in contracts/)"),
    (
        "--restore-from",
        "FPJS_RESTORE_FROM",
        "a journal (reports/restore.json) of a run that did not finish: put its event's original values back, "
        "judge nothing",
    ),
]
ALIASES = {"--request-id": ("--event-id", "FPJS_EVENT_ID"), "--expired-request-id": ("--expired-event-id", None)}
FLAGS = [
    (
        "--no-restore",
        "do not write the designated event's values back at the end (and run on a target that cannot read it first)",
    ),
    ("--fail-on-drift", "with --baseline: a change of behaviour fails the run (exit 8)"),
    ("--no-traffic", "do not record the run's traffic (reports/traffic.har)"),
    (
        "--force-restore",
        "with --restore-from: put the original values back even over values the journaled run never sent "
        "(a later writer's)",
    ),
]
# `--strict` is pytest's own flag (it turns on pytest's strictness options too); the suite reads it: fail on
# what rests on the suite's judgement as well (SHOULD findings, every intermediary's 5xx page). FPJS_STRICT=1
# sets it for the suite alone.
STRICT_ENV = "FPJS_STRICT"
# The suite owns the FPJS_ prefix: besides the options' variables (and their aliases) these are its
# names, and any other is a misspelling, a usage error (a misspelt FPJS_BASE_URL would otherwise test the
# bundled server and pass). FPJS_REF_* are the reference server's own (`fpjs-refserver --help`).
OTHER_VARIABLES = {
    "FPJS_HYPOTHESIS_PROFILE": "as --hypothesis-profile",
    "FPJS_HYPOTHESIS_DB": "where the nightly Hypothesis profile keeps its example database",
    "FPJS_PROFILE_PATH": "a folder holding API versions of your own",
    "FPJS_BASE_URL_USERINFO": "a base URL's user:password, for the replay lines",
    "FPJS_PROXY_UPSTREAM": "fpjs-conformance proxy --upstream",
    "FPJS_PROXY_PORT": "fpjs-conformance proxy --port",
    "FPJS_STRICT": "as pytest's --strict, for the suite alone",
}
PREFIX, REFERENCE_PREFIX = "FPJS_", "FPJS_REF_"
SECRET_OPTIONS = ("api_key", "wrong_region_api_key", "foreign_api_key")
LIVE_RATE_LIMIT = 5.0  # requests/s: the live API's default limit per key
MAX_REQUEST_TIMEOUT = 3600.0  # seconds: bounds past which timers overflow and a run never ends
MAX_RUN_TIMEOUT = 7 * 86400.0
# The restore's requests (read before, write back, read again; a second round after a write that got no
# answer lands late), each with its 429 retries and its tries after a transient failure: kept back from
# --max-requests, and only they may use it.
# The two writes among them may also wait out not-ready answers.
RESTORE_REQUESTS = 6
RESTORE_RESERVE = RESTORE_REQUESTS * (1 + 5 + len(RESTORE_BACKOFF)) + 2 * NOT_READY_TRIES
KEY_SHAPE = re.compile(r"[\x21-\x7e]+")  # printable ASCII, no spaces: what a header or URL can carry as is


class OptionError(ValueError):
    """A bad option value: one line, before any request."""


def env_name(dest: str) -> str:
    return next(env for flag, env, _ in OPTIONS if flag.lstrip("-").replace("-", "_") == dest)


def dest_of(flag: str) -> str:
    return flag.lstrip("-").replace("-", "_")


VALUED = frozenset(dest_of(flag) for flag, _, _ in OPTIONS)  # options with a value (and a variable)


def from_environment(dest: str, environ=None) -> str | None:
    """An option's value from its variable (or its alias's); an empty variable counts as unset."""
    env = os.environ if environ is None else environ
    flag, name = next((f, e) for f, e, _ in OPTIONS if dest_of(f) == dest)
    alias_env = ALIASES.get(flag, (None, None))[1]
    return env.get(name) or (env.get(alias_env) if alias_env else None) or None


def given_on_command_line(get) -> list[str]:
    """The suite's options given on the command line (`get(dest)`: the value as given, None when not)."""
    return [flag for flag, _, _ in OPTIONS if get(dest_of(flag)) is not None] + [
        flag for flag, _ in FLAGS if get(dest_of(flag))
    ]


def known_variables() -> list[str]:
    names = [env for _, env, _ in OPTIONS] + [env for _, env in ALIASES.values() if env] + list(OTHER_VARIABLES)
    return sorted(set(names))


def check_environment(environ=None) -> None:
    """No variable of the suite's prefix but the suite's own (any letter case): a misspelt one is an error."""
    env = os.environ if environ is None else environ
    known = set(known_variables())
    unknown = sorted(
        n for n in env if n.upper().startswith(PREFIX) and n not in known and not n.startswith(REFERENCE_PREFIX)
    )
    if unknown:
        raise OptionError(
            f"unknown environment variable{'s' if len(unknown) > 1 else ''} {', '.join(unknown)}: the suite owns "
            f"the {PREFIX} prefix (a misspelt name would be ignored); known: {', '.join(known_variables())} "
            f"(and the reference server's {REFERENCE_PREFIX}*); no request was sent"
        )


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
    base_urls = _base_urls(base_url, region, versions)
    userinfo = None
    if base_urls:
        userinfo = split_userinfo(next(iter(base_urls.values())))[1]
        _check_userinfo(userinfo, versions)
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
        max_requests = _count(max_requests, "--max-requests")
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
    restore_from = _journal_path(get("restore_from"), invocation_dir)
    if restore_from is not None:
        _check_journal(restore_from, base_urls, ids["--request-id"], api_key)
    ca_bundle = get("ca_bundle")
    if ca_bundle:
        check_ca_bundle(ca_bundle)
    baseline = get("baseline")
    snapshot = _baseline(Path(baseline)) if baseline else None
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


def _journal_path(option: str | None, invocation_dir: Path) -> Path | None:
    if not option:
        return None
    path = Path(option) if Path(option).is_absolute() else invocation_dir / option
    if not path.is_file():
        raise OptionError(f"--restore-from {str(path)!r} is not a file (a run's reports/restore.json)")
    return path


def _check_journal(path: Path, base_urls: dict[str, str] | None, event_id: str | None, api_key: str | None) -> None:
    """A journal handed to --restore-from must be this target's, this event's and this key's (its provenance:
    the API root, the event, the key's fingerprint), or nothing is sent."""
    if base_urls is None:
        raise OptionError(
            "--restore-from needs the target the journal was written against: pass --base-url or --region "
            "(the bundled server starts empty every run); no request was sent"
        )
    journal = designated.read(path)
    if journal is None:
        raise OptionError(f"--restore-from {str(path)!r} is not a journal ({designated.FORMAT}); no request was sent")
    wrong = provenance.mismatches(journal.get("provenance"), next(iter(base_urls.values())), event_id, api_key)
    wrong += provenance.disagreements(journal)
    if wrong:
        raise OptionError(
            f"--restore-from {str(path)!r} is not a journal of this target, event and key: {'; '.join(wrong)}; "
            "no request was sent"
        )


def _check_userinfo(userinfo: str | None, versions: tuple[str, ...]) -> None:
    """A `user:password@` in the base URL goes on the wire as `Authorization: Basic`: it cannot work where
    that header carries the key."""
    if userinfo is None:
        return
    for version in versions:
        if any(p.field == profiles.HTTP_AUTH_HEADER for p in profiles.load(version).key_places):
            raise OptionError(
                f"--base-url carries a user:password, which would go as Authorization: Basic, but {version} takes "
                f"the key in the {profiles.HTTP_AUTH_HEADER} header: drop the user:password (a proxy that needs "
                "one cannot front this version); no request was sent"
            )


def check_key(flag: str, key: str | None) -> None:
    if key is not None and not KEY_SHAPE.fullmatch(key):
        raise OptionError(
            f"{flag} must be printable ASCII without spaces or control characters (as given it "
            "could not go into a header or URL unchanged); no request was sent"
        )


def check_ca_bundle(path: str) -> None:
    if not Path(path).is_file():
        raise OptionError(f"--ca-bundle {path!r} is not a file")
    try:
        tls_context(path)
    except (ssl.SSLError, OSError, ValueError) as exc:
        raise OptionError(f"--ca-bundle {path!r} holds no usable PEM certificate ({exc}); nothing sent") from None


def report_folder(option: str | None, invocation_dir: Path) -> Path:
    """`--report-dir` (default ./reports) against the folder the command runs in, checked writable."""
    report_dir = Path(option or "reports")
    report_dir = report_dir if report_dir.is_absolute() else invocation_dir / report_dir
    check_writable(report_dir)
    return report_dir


def _baseline(path: Path) -> dict:
    """The baseline, read and checked once, before any report is written (a run replaces behaviour.json)."""
    from fpjs_conformance import behaviour

    if not path.is_file():
        raise OptionError(f"--baseline {str(path)!r} is not a file (an earlier run's reports/behaviour.json)")
    try:
        return behaviour.load(path)
    except ValueError as exc:
        raise OptionError(f"{exc}; no request was sent") from None


def choose_versions(option: str | None, base_url: str | None) -> tuple[str, ...]:
    """The versions `--api-version` names, else the one whose servers' path ends the base URL, else the oldest."""
    known = profiles.versions()
    if option:
        chosen = tuple(dict.fromkeys(v.strip().lower() for v in option.split(",") if v.strip()))
        unknown = [v for v in chosen if v not in known]
        if unknown or not chosen:
            raise OptionError(
                f"--api-version must be one or more of {', '.join(known)}, comma-separated (got {option!r})"
            )
        return chosen
    served = profiles.served_at(base_url) if base_url else []
    return (served[0] if served else known[0],)


def _base_urls(base_url: str | None, region: str | None, versions: tuple[str, ...]) -> dict[str, str] | None:
    """Each version's base URL: a region's server from the document, or --base-url.

    With one version, --base-url is used as given. With several, it is the root: each version adds
    its servers' path, after any such path the given URL ends with is taken off.
    """
    if region:
        for version in versions:
            servers = profiles.load(version).servers
            if region not in servers:
                raise OptionError(f"--region must be one of {', '.join(servers)} (got {region!r})")
        return {v: profiles.load(v).servers[region] for v in versions}
    if not base_url:
        return None
    url = base_url.rstrip("/")
    if len(versions) == 1:
        return {versions[0]: url}
    for version in profiles.versions():
        suffix = profiles.load(version).server_path
        if suffix and url.endswith(suffix):
            url = url[: -len(suffix)]
    return {v: url + profiles.load(v).server_path for v in versions}


def check_base_url(url: str) -> None:
    """An http(s) URL with a host, a valid port, a bracketed IPv6 literal, and no query or fragment."""
    try:
        parts = urlsplit(url)
        parts.port  # noqa: B018 - raises on a bad port
    except ValueError as exc:
        netloc = url.split("://", 1)[-1].split("/", 1)[0]
        hint = " (an IPv6 address goes in brackets: http://[::1]:8080)" if netloc.count(":") > 1 else ""
        raise OptionError(f"--base-url {url!r} has no valid host and port: {exc}{hint}") from None
    if parts.scheme not in ("http", "https"):
        raise OptionError(f"--base-url must start with http:// or https:// (got {url!r})")
    if not parts.hostname:
        raise OptionError(f"--base-url {url!r} names no host")
    if parts.query or parts.fragment or url.rstrip("/").endswith(("?", "#")):
        raise OptionError(f"--base-url {url!r} must not carry a query or fragment: the suite adds the path after it")


def rate_limit(option: str | None, base_url: str | None) -> float | None:
    """Requests per second from `--rate-limit` (`5`, `5/s`, `0` for none); by default unlimited on
    loopback (the bundled server included) and the live API's limit anywhere else."""
    if option is None:
        return None if base_url is None or is_loopback(split_userinfo(base_url)[0]) else LIVE_RATE_LIMIT
    if option.strip().lower() in ("0", "none", "unlimited"):
        return None
    return positive(option.strip().lower().removesuffix("/s"), "--rate-limit")


def positive(text: str, option: str, most: float | None = None) -> float:
    """A finite number above zero (nan and inf are not), at most `most`."""
    try:
        value = float(text)
    except ValueError:
        value = -1.0
    if not (math.isfinite(value) and value > 0):
        raise OptionError(f"{option} must be a positive, finite number (got {text!r})")
    if most is not None and value > most:
        raise OptionError(f"{option} must be at most {most:g} seconds (got {text!r})")
    return value


def _count(text: str, option: str) -> int:
    try:
        value = int(text)
    except ValueError:
        value = 0
    if value < 1:
        raise OptionError(f"{option} must be a positive whole number (got {text!r})")
    return value


def check_writable(report_dir: Path) -> None:
    """The folder can be made and written: checked without creating anything."""
    path = report_dir
    while not path.exists():
        if path.parent == path:
            break
        path = path.parent
    if path != report_dir and not path.is_dir():
        raise OptionError(f"--report-dir {str(report_dir)!r} cannot be made: {str(path)!r} is not a folder")
    if path == report_dir and not path.is_dir():
        raise OptionError(f"--report-dir {str(report_dir)!r} is not a folder")
    if not os.access(path, os.W_OK | os.X_OK):
        raise OptionError(f"--report-dir {str(report_dir)!r} is not writable")
