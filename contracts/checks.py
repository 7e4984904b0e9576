"""Pure checks: an exchange (and what the contract lets it be) in, a `Violation` out.

No HTTP here. Every check names the clause it enforces and says Expected / Received, so a
failure reads the same whichever test found it.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from contracts import spec
from contracts.model import Exchange


class Violation(AssertionError):
    """A clause the target broke, with the evidence."""

    def __init__(self, clause_id: str, expected: str, received: str, exchange: Exchange | None = None):
        self.clause_id = clause_id
        self.expected = expected
        self.received = received
        self.exchange = exchange
        self.check = ""  # the check function that raised it, set by @check
        super().__init__(self.summary())

    def summary(self) -> str:
        from contracts.clauses import get

        sent = f" | sent {self.exchange.request.describe()}" if self.exchange else ""
        return (
            f"{self.clause_id} ({get(self.clause_id).title}) violated{sent}"
            f" | expected {self.expected} | received {self.received}"
        )


@dataclass(frozen=True)
class Expectation:
    """What the contract allows as an answer to one request.

    `allowed` maps status -> the error codes allowed with it (None: any body; used for 200).
    `clause_id` is the clause the outcome is judged under; `relaxed_codes` lifts the
    code-fits-status rule (the expired-event clause); `why` says in words what was predicted.
    """

    clause_id: str
    allowed: Mapping[int, frozenset[str] | None]
    why: str
    relaxed_codes: bool = False
    # status -> the clause that answer breaks, whichever test sent the request (a 400 to a valid
    # update breaks the body clause even inside an auth test)
    refusals: Mapping[int, str] = field(default_factory=dict)

    def describe(self) -> str:
        parts = []
        for status in sorted(self.allowed):
            codes = self.allowed[status]
            parts.append(f"{status} {'/'.join(sorted(codes))}" if codes else str(status))
        return " or ".join(parts) + f" ({self.why})"


Check = Callable[[Exchange], None]


def check(clause_id: str | None) -> Callable[[Callable[..., None]], Callable[..., None]]:
    """Mark a check function and the clause it enforces (None: the clause comes with the call).

    Its violations carry its name, which the mutation score uses to count killers.
    """

    def mark(fn: Callable[..., None]) -> Callable[..., None]:
        @functools.wraps(fn)
        def wrapper(*args: Any, **kwargs: Any) -> None:
            try:
                fn(*args, **kwargs)
            except Violation as violation:
                violation.check = violation.check or fn.__name__
                raise

        wrapper.clause_id = clause_id  # type: ignore[attr-defined]
        return wrapper

    return mark


@check("UE-TRANSPORT-01")
def transport_completed(ex: Exchange) -> None:
    if ex.error is not None:
        raise Violation("UE-TRANSPORT-01", "a complete HTTP response within the timeout", ex.received(), ex)


@check("UE-TRANS-02")
def not_rate_limited(ex: Exchange) -> None:
    if ex.status == 429:
        raise Violation("UE-TRANS-02", "an answer once Retry-After has passed (retries exhausted)", ex.received(), ex)


@check("UE-RESP-02")
def no_server_error(ex: Exchange) -> None:
    if ex.status is not None and ex.status >= 500:
        raise Violation("UE-RESP-02", "no 5xx", ex.received(), ex)


@check("UE-RESP-01")
def status_declared(ex: Exchange) -> None:
    declared = spec.declared_statuses()
    if ex.status not in declared:
        raise Violation("UE-RESP-01", f"one of {sorted(declared)}", ex.received(), ex)


@check("UE-RESP-03")
def error_body_is_json(ex: Exchange) -> None:
    if ex.status not in spec.error_statuses():
        return
    if ex.media_type != "application/json":
        raise Violation("UE-RESP-03", "Content-Type application/json", ex.received(), ex)
    try:
        ex.json()
    except (ValueError, UnicodeDecodeError) as exc:
        raise Violation("UE-RESP-03", "a JSON body", f"{ex.received()} ({exc.__class__.__name__})", ex) from None


@check("UE-RESP-04")
def error_body_matches_schema(ex: Exchange) -> None:
    if ex.status not in spec.error_statuses():
        return
    validator = spec.validator(spec.error_body_schema_name(ex.status))
    error = next(iter(sorted(validator.iter_errors(ex.json()), key=lambda e: list(e.path))), None)
    if error is not None:
        where = "/".join(str(p) for p in error.absolute_path) or "(root)"
        raise Violation(
            "UE-RESP-04",
            "a body valid against ErrorResponse",
            f"{ex.received()} [at {where}: {error.message[:200]}]",
            ex,
        )


@check("UE-RESP-05")
def code_fits_status(ex: Exchange) -> None:
    fitting = spec.codes_by_status().get(ex.status or 0)
    if fitting is None:
        return
    code = ex.error_code()
    if code not in fitting:
        raise Violation(
            "UE-RESP-05", f"for {ex.status}, code {' or '.join(sorted(fitting))}", f"{ex.status} with code {code!r}", ex
        )


UNIVERSAL: tuple[Check, ...] = (
    transport_completed,
    not_rate_limited,
    no_server_error,
    status_declared,
    error_body_is_json,
    error_body_matches_schema,
)


@check(None)
def outcome_as_expected(ex: Exchange, expectation: Expectation) -> None:
    """The status (and error code) is one the contract allows for this request."""
    if ex.status not in expectation.allowed:
        clause_id = expectation.refusals.get(ex.status or 0, expectation.clause_id)
        raise Violation(clause_id, expectation.describe(), ex.received(), ex)
    codes = expectation.allowed[ex.status]
    if codes is not None and ex.error_code() not in codes:
        raise Violation(expectation.clause_id, expectation.describe(), f"{ex.status} with code {ex.error_code()!r}", ex)


def checks_for(expectation: Expectation) -> list[tuple[str, Check]]:
    """(clause, check) pairs that judge one exchange, in order: universal ones, then the outcome."""
    chain: list[Callable[[Exchange], None]] = list(UNIVERSAL)
    if not expectation.relaxed_codes:
        chain.append(code_fits_status)
    pairs = [(c.clause_id, c) for c in chain]  # type: ignore[attr-defined]
    pairs.append((expectation.clause_id, functools.partial(outcome_as_expected, expectation=expectation)))
    return pairs


@check(None)
def stored_fields_match(
    clause_id: str, event: Mapping[str, Any], want: Mapping[str, Any], ex: Exchange | None = None
) -> None:
    """The read-back event holds `want` (field -> value; absent fields are not compared)."""
    wrong = {k: event.get(k, "<absent>") for k, v in want.items() if event.get(k, "<absent>") != v}
    if wrong:
        raise Violation(clause_id, f"read-back fields {dict(want)!r}", f"read-back fields {wrong!r}", ex)


@check(None)
def same_outcome(first: Exchange, second: Exchange) -> None:
    if (first.status, first.error_code()) != (second.status, second.error_code()):
        raise Violation(
            "UE-SEM-04",
            f"the repeat answered like the first ({first.status})",
            f"first {first.status}, repeat {second.received()}",
            second,
        )
