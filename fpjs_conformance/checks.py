"""The machinery of pure checks: an exchange (and what the contract lets it be) in, `Violation`s out.

No HTTP here, and no clause of its own: the checks that belong to a clause live in its rule module
(`fpjs_conformance.rules`); here are the generic ones every rule uses (`outcome_as_expected`, `json_answer`,
`stored_fields_match`). Every check says expected / received; a violation is data (clause, check,
expected, received, the exchange) that reports and the self-test read as fields, never by parsing
printed text.
"""

from __future__ import annotations

import functools
import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from fpjs_conformance import clauses, sources
from fpjs_conformance.model import Exchange, cut, printable
from fpjs_conformance.sources import Source


class Violation(AssertionError):
    """A clause the target broke, with the evidence."""

    def __init__(self, clause_id: str, expected: str, received: str, exchange: Exchange | None = None):
        self.clause_id = clause_id
        self.expected = expected
        self.received = received
        self.exchange = exchange
        self.check = ""  # the check function that raised it, set by @check
        self.version = exchange.version if exchange else ""
        self.cause: Exchange | None = None  # an earlier accepted write that likely caused it
        self.basis: tuple[Source, ...] | None = None  # what the broken expectation rests on (None: its clause's)
        self.deviation = ""  # a deviation from the document that the vendor's own evidence makes plausible
        self.binding = True  # it fails the run (the ledger clears it for a SHOULD finding without --strict)
        self.differences: list[str] = []  # where a read-back differs from what was sent, as JSON paths
        super().__init__(self.summary())

    @property
    def level(self) -> str:
        """SHOULD when what it breaks rests only on the suite's judgement, or it is a deviation the vendor's
        own evidence makes plausible; else its clause's level."""
        clause = clauses.get(self.clause_id)
        if self.deviation:
            return sources.SHOULD
        return sources.level(clause.sources if self.basis is None else self.basis, clause.level)

    def rests_on(self, basis: tuple[Source, ...]) -> Violation:
        """Say what the broken expectation rests on; the violation back."""
        self.basis = tuple(basis)
        return self

    def summary(self) -> str:
        """One line: what was sent, expected and received, each cut to a readable length (the reports keep
        them whole); a read-back that differs is shown by the paths that differ."""
        tag = f"[{self.version}] " if self.version else ""
        sent = f" | sent {cut(self.exchange.describe_request())}" if self.exchange else ""
        received = f"read-back differs at {'; '.join(self.differences)}" if self.differences else self.received
        return (
            f"{tag}{self.clause_id} ({clauses.get(self.clause_id).title}) violated{sent}"
            f" | expected {cut(self.expected)} | received {cut(received)}"
        )

    def __str__(self) -> str:
        return self.summary()

    def size(self) -> int:
        """How much a reader must take in: the request's body and both sides (the shortest is shown first)."""
        body = len(self.exchange.request.body.encode() or b"") if self.exchange is not None else 0
        return body + len(self.expected) + len(self.received)

    def key(self) -> tuple:
        """What makes two violations the same finding (for de-duplicating examples)."""
        ex = self.exchange
        return (self.clause_id, self.check, self.expected, self.received, ex.describe_request() if ex else "")


class Violations(AssertionError):
    """Everything one response (or one test) broke: each violation under its own clause."""

    def __init__(self, found: list[Violation]):
        self.found = found
        super().__init__("\n".join(v.summary() for v in found))


def raise_all(found: list[Violation]) -> None:
    """Raise what fails the run: a SHOULD finding the ledger recorded as a warning is not raised."""
    found = [v for v in found if v.binding]
    if len(found) == 1:
        raise found[0]
    if found:
        raise Violations(found)


@dataclass(frozen=True)
class Expectation:
    """What the contract allows as the answer to one request, under one clause.

    `allowed` maps status -> the error codes allowed with it (None: any body). Instead of
    `allowed`, `forbidden` lists the statuses that break the clause (an auth clause only says the
    key must not be refused). Statuses in `defer` are another clause's to judge: this clause gives
    no verdict on them. `relaxed_codes` lifts the code-fits-status rule (the expired event). An answer
    outside `allowed` but inside `should` breaks only what `should_basis` rests on (the suite's judgement):
    a SHOULD finding, not a failure (a value at an undocumented limit refused, a role's code the document
    does not give).
    """

    clause_id: str
    why: str
    allowed: Mapping[int, frozenset[str] | None] | None = None
    forbidden: frozenset[int] = frozenset()
    defer: frozenset[int] = frozenset()
    relaxed_codes: bool = False
    should: Mapping[int, frozenset[str] | None] | None = None
    should_basis: tuple[Source, ...] = ()

    def describe(self) -> str:
        if self.allowed is None:
            return f"not {' or '.join(str(s) for s in sorted(self.forbidden))} ({self.why})"
        parts = []
        for status in sorted(self.allowed):
            codes = self.allowed[status]
            parts.append(f"{status} {'/'.join(sorted(codes))}" if codes else str(status))
        return " or ".join(parts) + f" ({self.why})"

    def judges(self, status: int | None) -> bool:
        return status not in self.defer

    def allows_status(self, status: int) -> bool:
        """The clause allows the status (whatever error code comes with it)."""
        return status not in self.forbidden if self.allowed is None else status in self.allowed

    def should_allow(self, status: int | None, code: str | None) -> bool:
        """The answer breaks only what `should_basis` rests on (SHOULD)."""
        codes = (self.should or {}).get(status or 0, frozenset())
        return self.should is not None and status in self.should and (codes is None or code in codes)


@dataclass(frozen=True)
class Fault:
    """What is wrong with a request apart from its credentials, and what the contract allows for it."""

    clause_id: str
    allowed: Mapping[int, frozenset[str] | None]
    soft: bool = False  # the contract also allows 200
    relaxed: bool = False  # any code with the status (the document does not say which)
    why: str = ""  # what the request is, in words for a failure line (default: the clause id)
    should: Mapping[int, frozenset[str] | None] | None = None  # answers that break only the suite's judgement
    should_basis: tuple[Source, ...] = ()
    refusals_judged: bool = False  # a refusal of the valid key (401, 403) is this clause's finding too


Check = Callable[..., None]


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


# -- per clause: what the contract predicts ---------------------------------------------------------
@check(None)
def outcome_as_expected(ex: Exchange, expectation: Expectation) -> None:
    """The status (and error code) is one the contract allows for this request, under one clause."""
    if ex.error is not None or not expectation.judges(ex.status):
        return
    if expectation.allowed is None:
        if ex.status in expectation.forbidden:
            received = f"{ex.status} with code {ex.error_code()!r}" if ex.error_code() else ex.received()
            raise Violation(expectation.clause_id, expectation.describe(), received, ex)
        return
    if ex.status not in expectation.allowed:
        raise _broken(Violation(expectation.clause_id, expectation.describe(), ex.received(), ex), ex, expectation)
    codes = expectation.allowed[ex.status]
    if codes is not None and ex.error_code() not in codes:
        received = f"{ex.status} with code {ex.error_code()!r}"
        raise _broken(Violation(expectation.clause_id, expectation.describe(), received, ex), ex, expectation)


def _broken(violation: Violation, ex: Exchange, expectation: Expectation) -> Violation:
    """A violation at SHOULD level when the answer is one the expectation takes at that level."""
    if expectation.should_allow(ex.status, ex.error_code()):
        violation.rests_on(sources.judged(expectation.should_basis))  # none given: it stays a MUST
    return violation


def verdict(clause_id: str, fn: Check, *args: Any) -> tuple[str, Violation | None]:
    try:
        fn(*args)
    except Violation as violation:
        return violation.clause_id, violation
    return clause_id, None


def json_answer(clause_id: str, ex: Exchange) -> None:
    """A Violation of `clause_id` unless the answer has the JSON media type and a body that parses as JSON
    (a plain function: the check that calls it names the violation)."""
    if ex.media_type != "application/json":
        raise Violation(clause_id, "Content-Type application/json", ex.received(), ex)
    try:
        ex.json()
    except (ValueError, UnicodeDecodeError, RecursionError) as exc:
        raise Violation(clause_id, "a JSON body", f"{ex.received()} ({exc.__class__.__name__})", ex) from None


# -- what the read-back shows -----------------------------------------------------------------------
@check(None)
def stored_fields_match(
    clause_id: str, stored: Mapping[str, Any], want: Mapping[str, Any], ex: Exchange, absent: Mapping[str, Any] = {}
) -> None:
    """The read-back event holds `want` (field -> value) exactly; other fields are not compared. A field
    left out reads as its `absent` value, if it has one. Both sides show the fields that differ."""
    shown = {**absent, **stored}
    wrong = [k for k, v in want.items() if not same_json(shown.get(k, _MISSING), v)]
    if wrong:
        same = [k for k in want if k not in wrong]
        note = f" ({', '.join(same)} as sent)" if same else ""
        expected = {k: want[k] for k in wrong}
        received = {k: stored.get(k, "<absent>") for k in wrong}
        violation = Violation(clause_id, f"read-back fields {expected!r}{note}", f"read-back fields {received!r}", ex)
        violation.differences = differences(expected, {k: shown.get(k, _MISSING) for k in wrong})
        raise violation


_MISSING = object()
SHOWN_PATHS = 12  # paths named in one violation; the values are in the reports whole


def differences(sent: Any, read: Any, path: str = "") -> list[str]:
    """Where `read` (the read-back) differs from `sent`, as JSON Pointer paths (RFC 6901) with what is
    there: `/tag/origin: present, not sent`, `/linkedId: sent "a", read back "b"`. At most SHOWN_PATHS."""
    found = [printable(line) for line in _differences(sent, read, path)]  # what a string holds, escaped
    if len(found) > SHOWN_PATHS:
        found = [*found[:SHOWN_PATHS], f"... and {len(found) - SHOWN_PATHS} more"]
    return found


def _differences(sent: Any, read: Any, path: str) -> list[str]:
    if read is _MISSING:
        return [f"{path}: sent, absent"]
    if same_json(sent, read):
        return []
    if isinstance(sent, dict) and isinstance(read, dict):
        out = []
        for key, value in sent.items():
            out += _differences(value, read.get(key, _MISSING), f"{path}/{_pointer(key)}")
        out += [f"{path}/{_pointer(key)}: present, not sent" for key in read if key not in sent]
        return out
    if isinstance(sent, list) and isinstance(read, list) and len(sent) == len(read):
        return [d for i, (a, b) in enumerate(zip(sent, read, strict=True)) for d in _differences(a, b, f"{path}/{i}")]
    return [f"{path or '/'}: sent {_value(sent)}, read back {_value(read)}"]


def _pointer(key: str) -> str:
    return str(key).replace("~", "~0").replace("/", "~1")


def _value(value: Any) -> str:
    text = json.dumps(value, ensure_ascii=False)
    if isinstance(value, dict):
        text = f"an object of {len(value)} member(s)"
    elif isinstance(value, list):
        text = f"an array of {len(value)} item(s)"
    return text if len(text) <= 40 else f"{text[:30]}... ({len(text)} characters)"


def same_json(a: Any, b: Any) -> bool:
    """JSON equality: types matter (true is not 1), key order does not."""
    if type(a) is not type(b) and not (isinstance(a, int | float) and isinstance(b, int | float)):
        return False
    if isinstance(a, bool) or isinstance(b, bool):
        return a is b
    if isinstance(a, dict):
        return a.keys() == b.keys() and all(same_json(a[k], b[k]) for k in a)
    if isinstance(a, list):
        return len(a) == len(b) and all(same_json(x, y) for x, y in zip(a, b, strict=True))
    return a == b


@dataclass
class Verdicts:
    """The verdicts of one exchange, kept so a repeat of the same request is judged without resending."""

    exchange: Exchange
    verdicts: list[tuple[str, Violation | None]] = field(default_factory=list)

    @property
    def violations(self) -> list[Violation]:
        return [v for _, v in self.verdicts if v is not None]


GENERIC: tuple[Check, ...] = (outcome_as_expected, stored_fields_match)
