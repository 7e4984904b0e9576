"""State: what the designated event's read-back shows after each request, judged as a whole.

An accepted update changes the update fields it names and nothing else in the representation; a
refused request (any 4xx), one sent to another id or with a method the document does not declare
changes nothing; the read-back itself answers as the document says (200, JSON: a MUST) and validates
against its schema (a SHOULD: a live read-back may carry newer members). The comparison and who is to
blame for a change are `fpjs_conformance.state`'s; here are the clauses and their checks.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from fpjs_conformance.checks import Violation, json_answer
from fpjs_conformance.model import Exchange
from fpjs_conformance.profile import Profile
from fpjs_conformance.registry import check, clause

ONLY_NAMED = clause("UE-STATE-01", needs=("read_back",))
NOTHING_CHANGED = clause("UE-STATE-02", needs=("read_back",))
READ_BACK_ANSWERS = clause("UE-STATE-03", needs=("read_back",))
READ_BACK_VALID = clause("UE-STATE-04", needs=("read_back",))


@dataclass(frozen=True)
class Change:
    """One member of the read-back that differs from what it should hold: where, what, and what came."""

    where: str  # a field name or a JSON pointer into the read-back
    expected: Any
    shown: Any
    absent: bool = False  # the member is gone

    def describe(self) -> str:
        shown = "<absent>" if self.absent else _short(self.shown)
        return f"{self.where} {shown} (was {_short(self.expected)})"


def _short(value: Any, limit: int = 120) -> str:
    text = repr(value)
    return text if len(text) <= limit else text[:limit] + f"... ({len(text)} characters)"


def _list(changes: list[Change]) -> str:
    return "; ".join(c.describe() for c in changes[:6]) + (f"; and {len(changes) - 6} more" if len(changes) > 6 else "")


@check(ONLY_NAMED)
def only_named_changed(changes: list[Change], culprit: Exchange, why: str) -> None:
    """An accepted update changed members of the representation it did not name."""
    if changes:
        raise Violation(
            ONLY_NAMED,
            "only the update fields the body named change in the read-back",
            f"read-back changed: {_list(changes)} ({why})",
            culprit,
        )


@check(NOTHING_CHANGED)
def nothing_changed(changes: list[Change], culprit: Exchange, why: str) -> None:
    """A request that must change nothing (refused, another id, an undeclared method) changed the event."""
    if changes:
        raise Violation(
            NOTHING_CHANGED,
            f"the event as it was ({why})",
            f"read-back changed: {_list(changes)}",
            culprit,
        )


@check(READ_BACK_ANSWERS)
def read_back_answers(ex: Exchange, profile: Profile) -> None:
    """The read-back of the designated event: 200, the JSON media type, JSON."""
    if ex.error is not None:
        return  # UE-TRANSPORT-01's finding
    if ex.status != 200:
        raise Violation(READ_BACK_ANSWERS, "200 with the event", ex.received(), ex)
    json_answer(READ_BACK_ANSWERS, ex)


@check(READ_BACK_VALID)
def read_back_valid(ex: Exchange, profile: Profile) -> None:
    """The read-back body against the read-back operation's response schema."""
    try:
        body = ex.json()
    except (ValueError, UnicodeDecodeError, RecursionError):
        return  # UE-STATE-03's finding
    name = profile.read_back_schema_name
    errors = sorted(profile.validator(name).iter_errors(body), key=lambda e: list(e.absolute_path))
    if errors:
        error = errors[0]
        where = "/" + "/".join(str(p) for p in error.absolute_path)
        raise Violation(READ_BACK_VALID, f"a body valid against {name}", f"at {where}: {error.message[:200]}", ex)
