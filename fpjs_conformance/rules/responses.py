"""Response shape: every status declared, no 5xx, every error body a JSON ErrorResponse whose code fits.

Every response of the run gets these checks, wherever it was sent; their tests run last, so each
verdict covers the whole run.
"""

from __future__ import annotations

from fpjs_conformance.checks import Violation, json_answer
from fpjs_conformance.model import Exchange
from fpjs_conformance.profile import Profile
from fpjs_conformance.registry import check, clause

DECLARED = clause("UE-RESP-01")
NO_SERVER_ERROR = clause("UE-RESP-02")
ERROR_JSON = clause("UE-RESP-03")
ERROR_SCHEMA = clause("UE-RESP-04")
CODE_FITS = clause("UE-RESP-05")


@check(NO_SERVER_ERROR, universal=True)
def no_server_error(ex: Exchange, profile: Profile) -> None:
    if ex.status is not None and ex.status >= 500:
        raise Violation(NO_SERVER_ERROR, "no 5xx", ex.received(), ex)


@check(DECLARED, universal=True)
def status_declared(ex: Exchange, profile: Profile) -> None:
    declared = profile.declared_statuses
    rate_limited = profile.role("rate_limited").statuses
    if ex.status is not None and ex.status not in rate_limited and ex.status not in declared:
        raise Violation(DECLARED, f"one of {sorted(declared)}", ex.received(), ex)


@check(ERROR_JSON, universal=True)
def error_body_is_json(ex: Exchange, profile: Profile) -> None:
    if ex.status not in profile.error_statuses:
        return
    json_answer(ERROR_JSON, ex)


@check(ERROR_SCHEMA, universal=True)
def error_body_matches_schema(ex: Exchange, profile: Profile) -> None:
    if ex.status not in profile.error_statuses:
        return
    try:
        payload = ex.json()
    except (ValueError, UnicodeDecodeError, RecursionError):
        return  # UE-RESP-03's finding
    name = profile.error_schema_name(ex.status)
    error = next(iter(sorted(profile.validator(name).iter_errors(payload), key=lambda e: list(e.path))), None)
    if error is not None:
        where = "/".join(str(p) for p in error.absolute_path) or "(root)"
        raise Violation(
            ERROR_SCHEMA, f"a body valid against {name}", f"{ex.received()} [at {where}: {error.message[:200]}]", ex
        )


@check(CODE_FITS, universal=True)
def code_fits_status(ex: Exchange, profile: Profile) -> None:
    fitting = profile.codes_by_status.get(ex.status or 0)
    if fitting is None:
        return
    code = ex.error_code()
    if code not in fitting:
        expected = f"for {ex.status}, code {' or '.join(sorted(fitting))}"
        raise Violation(CODE_FITS, expected, f"{ex.status} with code {code!r}", ex)
