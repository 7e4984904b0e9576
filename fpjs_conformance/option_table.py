"""The suite's options as a table: each option with its environment variable and help, the flags, the
aliases, and the FPJS_ names the suite owns. What the command line and the environment may say, and
nothing of what a value means (that is `option_values`, and `options.parse`).
"""

from __future__ import annotations

import os

PREFIX, REFERENCE_PREFIX = "FPJS_", "FPJS_REF_"  # the suite's variables, the reference server's

# Each option and its help; its environment variable is FPJS_ and its name (`env_name`). Aliases below.
HELP = {
    "--base-url": "target server; default: start the bundled reference server on loopback",
    "--region": "global|eu|ap: the document's servers (instead of --base-url)",
    "--api-version": (
        "the API versions to judge, comma-separated (default: the version whose servers' path --base-url ends "
        "with, else the oldest)"
    ),
    "--api-key": "a valid secret API key for the target",
    "--request-id": "an event inside the update window that the suite may update (alias --event-id)",
    "--expired-request-id": "optional: an event older than the version's update window",
    "--wrong-region-api-key": "optional: a valid key of an app in another region",
    "--not-ready-request-id": "optional: an event that answers 409 not-ready first",
    "--foreign-request-id": (
        "optional: an event of another workspace (application) in the same region: its update must be not found"
    ),
    "--foreign-api-key": "optional: that workspace's secret key, to read its event back (unchanged) after the update",
    "--settle-time": "seconds a read-back may take to show a write before it is called stale (default 2; 0: no wait)",
    "--report-dir": "where reports are written (default: ./reports where pytest runs)",
    "--rate-limit": "requests per second, e.g. 5 or 5/s (default: unlimited on loopback, else 5)",
    "--request-timeout": "seconds per request (default 10)",
    "--run-timeout": "seconds the whole run may take before it stops (default 1800)",
    "--max-requests": "a hard cap on the requests of the whole run; the coverage table first",
    "--connections": (
        "requests on the wire at once, at most, among those that cannot change the designated event "
        "(default 4; 1: one after another)"
    ),
    "--not-ready-budget": (
        "seconds a write may wait out 409 not-ready answers in all (default 75, as the vendor's own tests; "
        "the preflight and the restore too)"
    ),
    "--require": "all: fail the run (exit 7) when a MUST clause it selected was left unexercised",
    "--require-observed": "statuses: fail the run (exit 7) when a status the operation declares never came back",
    "--baseline": "an earlier reports/behaviour.json: report every change of behaviour (drift)",
    "--ca-bundle": "PEM file of CA certificates for a private TLS target",
    "--deviations": "the known-deviations set(s) to apply (default: chosen by base URL)",
    "--deviations-file": "known-deviations file (default: the one in contracts/)",
    "--restore-from": (
        "a journal (reports/restore.json) of a run that did not finish: put its event's original values back, "
        "judge nothing"
    ),
}
OPTIONS = [(flag, PREFIX + flag.lstrip("-").replace("-", "_").upper(), text) for flag, text in HELP.items()]
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
