"""Event ids: unknown, odd, and past the update window."""

from hypothesis import strategies as st

from fpjs_conformance import strategies
from fpjs_conformance.clauses import clause
from fpjs_conformance.contract import explore, reckon, require, settle, updates


def _ids(target, clause_id, ids):
    reckon(target, clause_id)
    ev = target.events
    ids = ids.filter(lambda i: i not in (ev.live, ev.expired, ev.not_ready))
    explore(target, clause_id, updates(target, st.none(), event_ids=ids))
    settle(target, clause_id)


@clause("UE-ID-01")
def test_unknown_id_is_not_found(target):
    _ids(target, "UE-ID-01", strategies.unknown_event_ids(target.profile))


@clause("UE-ID-02")
def test_odd_id_is_400_or_404(target):
    _ids(target, "UE-ID-02", strategies.odd_event_ids(target.profile))


@clause("UE-ID-03")
def test_event_past_its_window_cannot_be_updated(target):
    require(target.events.expired, "needs --expired-request-id (FPJS_EXPIRED_REQUEST_ID)")
    reckon(target, "UE-ID-03")
    settle(target, "UE-ID-03")
