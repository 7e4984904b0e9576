"""Transient answers: 409 not-ready clears under bounded retries; 429 is waited out, not judged."""

from fpjs_conformance.clauses import clause
from fpjs_conformance.contract import reckon, require, settle


@clause("UE-TRANS-01")
def test_not_ready_event_becomes_updatable(target):
    require(
        target.events.not_ready,
        "needs --not-ready-request-id (FPJS_NOT_READY_REQUEST_ID): an event that answers 409 first",
    )
    reckon(target, "UE-TRANS-01")
    settle(target, "UE-TRANS-01")


@clause("UE-TRANS-02")
def test_rate_limit_is_waited_out(target):
    """Every response of the run informs this clause: a 429 that outlasts the bounded waits fails it."""
    reckon(target, "UE-TRANS-02")
    settle(target, "UE-TRANS-02")
