"""Command-line options, Hypothesis profiles, and the `target` the contract tests run against.

Without --base-url the suite starts the bundled reference server on loopback for the session,
with a fresh random key, and runs against it.
"""

from __future__ import annotations

import os

import pytest
from hypothesis import HealthCheck, Phase, settings
from hypothesis.database import DirectoryBasedExampleDatabase

pytest_plugins = ["contracts.plugin", "contracts.gate"]

OPTIONS = [
    # (option, env fallback, help)
    ("--base-url", "FPJS_BASE_URL", "target server; default: start the bundled reference server on loopback"),
    ("--region", "FPJS_REGION", "global|eu|ap: shorthand for the document's servers (instead of --base-url)"),
    ("--api-key", "FPJS_API_KEY", "a valid secret API key for the target"),
    ("--request-id", "FPJS_REQUEST_ID", "an existing event, under 10 days old, that the suite may update"),
    ("--expired-request-id", "FPJS_EXPIRED_REQUEST_ID", "optional: an event older than 10 days"),
    ("--wrong-region-api-key", "FPJS_WRONG_REGION_API_KEY", "optional: a valid key of an app in another region"),
    ("--not-ready-request-id", "FPJS_NOT_READY_REQUEST_ID", "optional: an event that answers 409 StateNotReady first"),
    ("--report-dir", "FPJS_REPORT_DIR", "where reports are written (default: reports/)"),
    ("--rate-limit", "FPJS_RATE_LIMIT", "requests per second, e.g. 5 or 5/s (default: unlimited on loopback, else 5)"),
    ("--request-timeout", "FPJS_REQUEST_TIMEOUT", "seconds per request (default 10)"),
    ("--run-timeout", "FPJS_RUN_TIMEOUT", "seconds the whole run may take before it stops (default 1800)"),
    ("--ca-bundle", "FPJS_CA_BUNDLE", "PEM file of CA certificates for a private TLS target"),
    ("--deviations", "FPJS_DEVIATIONS", "known-deviations profile to apply (default: chosen by base URL)"),
]

SECRET_OPTIONS = ("api_key", "wrong_region_api_key")


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("fpjs", "Fingerprint update-event conformance")
    for flag, env, help_text in OPTIONS:
        group.addoption(flag, default=os.environ.get(env) or None, help=f"{help_text} [env {env}]")  # empty = unset
    group.addoption(
        "--no-restore",
        action="store_true",
        default=False,
        help="do not write the designated event's original values back at the end",
    )


# No explain phase: its "lines always run by failing cases" notes point into the suite, not the target.
PHASES = [Phase.explicit, Phase.reuse, Phase.generate, Phase.target, Phase.shrink]
settings.register_profile(
    "default",
    phases=PHASES,
    deadline=None,
    max_examples=40,
    derandomize=True,
    print_blob=True,
    database=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much, HealthCheck.data_too_large],
)
settings.register_profile("ci", parent=settings.get_profile("default"), max_examples=15)
settings.register_profile(
    "nightly",
    parent=settings.get_profile("default"),
    max_examples=200,
    derandomize=False,
    database=DirectoryBasedExampleDatabase(os.environ.get("FPJS_HYPOTHESIS_DB", ".hypothesis/examples")),
)
settings.load_profile(os.environ.get("FPJS_HYPOTHESIS_PROFILE", "default"))


@pytest.fixture(scope="session")
def target(request: pytest.FixtureRequest):
    """The server under test, ready to send to; the reference server when no --base-url is given."""
    from contracts.plugin import build_target

    yield from build_target(request.config)
