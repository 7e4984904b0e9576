"""Request ids: unknown, odd, and expired events."""

import pytest
from hypothesis import assume, given

import strategies
from contracts.clauses import clause


def _not_designated(target, request_id):
    ev = target.events
    assume(request_id not in (ev.live, ev.expired, ev.not_ready))


@clause("UE-ID-01")
@given(request_id=strategies.unknown_request_ids())
def test_unknown_id_is_request_not_found(target, request_id):
    _not_designated(target, request_id)
    target.verify_both_schemes(request_id=request_id)


@clause("UE-ID-02")
@given(request_id=strategies.odd_request_ids())
def test_odd_id_is_400_or_404(target, request_id):
    _not_designated(target, request_id)
    target.verify_both_schemes(request_id=request_id)


@clause("UE-ID-03")
def test_expired_event_cannot_be_updated(target):
    if not target.events.expired:
        target.ledger.skipped("UE-ID-03", "needs --expired-request-id")
        pytest.skip("needs --expired-request-id (FPJS_EXPIRED_REQUEST_ID)")
    target.verify(target.update(request_id=target.events.expired))
