"""Transport: every request gets a complete, well-formed HTTP answer within the timeout and the cap."""

from __future__ import annotations

from fpjs_conformance.checks import Violation
from fpjs_conformance.model import Exchange
from fpjs_conformance.profile import Profile
from fpjs_conformance.registry import check, clause

COMPLETE = clause("UE-TRANSPORT-01")


@check(COMPLETE, universal=True)
def transport_completed(ex: Exchange, profile: Profile) -> None:
    if ex.error is not None:
        raise Violation(COMPLETE, "a complete HTTP response within the timeout", ex.received(), ex)


def stray_bytes(ex: Exchange) -> Violation:
    """Bytes after the end of an answer broke the next read on its connection: that answer's fault."""
    violation = Violation(
        COMPLETE, "nothing after the end of the answer", "stray bytes after the answer broke the next read", ex
    )
    violation.check = transport_completed.__name__
    return violation


def dropped(ex: Exchange) -> Violation:
    """The server closed the connection without answering a request it had taken (`ex.error` says how)."""
    violation = Violation(COMPLETE, "an answer to every request the server took", f"no answer: {ex.error}", ex)
    violation.check = transport_completed.__name__
    return violation
