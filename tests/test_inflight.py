"""Requests in flight together (issue 27): only those the write gate says cannot change the designated event
overlap, a request that may change it is on the wire alone, one connection is the serial order, the requests
sent and the order of those that go alone do not depend on the number of connections, nor the budget's cut,
and a paced run keeps its pace across connections."""

import itertools
import secrets
import threading
import time
from collections import Counter

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from fpjs_conformance import inflight, rules, table_run
from fpjs_conformance import profile as profiles
from fpjs_conformance.keys import Secrets
from fpjs_conformance.ledger import Ledger
from fpjs_conformance.limits import Budget, BudgetSpent, Policy
from fpjs_conformance.model import Events
from fpjs_conformance.target import GROUPED, Target
from fpjs_conformance.traffic import Traffic
from fpjs_conformance.transport import Transport
from fpjs_conformance.writegate import may_overlap
from tests.runner import IDS, reference_server

V3 = profiles.load("v3")
EVENTS = Events(IDS.request_id)
TABLE = table_run.cases(V3, EVENTS, wrong_region=False)
ONE = [c for c in TABLE if len(c.requests) == 1 and c.compare in (None, *GROUPED)]
QUIET = [c for c in ONE if inflight.overlaps(V3, EVENTS, c)]
KEY = "k" + secrets.token_hex(10)


@pytest.fixture(scope="module")
def server():
    with reference_server(KEY, "-m", "tests.variants", "latency-40ms") as running:
        yield running


def _target(url: str, connections: int, limit: int | None = None, rate: float | None = None) -> Target:
    policy = Policy(timeout=10, connections=connections, rate_limit=rate)
    budgets = (Budget(limit, reserve=0),) if limit else ()
    transport = Transport(V3, url, Secrets(KEY), policy, budgets)
    target = Target(V3, url, EVENTS, transport, Ledger("v3"))
    target.traffic = Traffic()
    return target


def _cover(target: Target, cases) -> list[tuple[float, float, bool]]:
    """Run `cases` as the coverage table runs them (every clause selected but the state oracle's own read):
    the wire interval of every attempt, each with whether the gate lets it overlap others."""
    spans, lock = [], threading.Lock()
    once = target.transport._once

    def timed(built, ex, reserved):
        started = time.monotonic()
        try:
            return once(built, ex, reserved)
        finally:
            with lock:
                spans.append((started, time.monotonic(), may_overlap(V3, EVENTS, ex.request)))

    target.transport._once = timed
    try:
        table_run.cover(target, list(cases), {c.clause_id for c in cases} - {rules.state.NOTHING_CHANGED})
    finally:
        target.transport.close()
    return spans


def _order(target: Target) -> list[tuple]:
    return [(r.case, r.exchange.request.fingerprint()) for r in target.traffic.records]


def _alone(target: Target) -> list[tuple]:
    alone = [r for r in target.traffic.records if not may_overlap(V3, EVENTS, r.exchange.request)]
    return [(r.case, r.exchange.request.fingerprint()) for r in alone]


@settings(max_examples=6, deadline=None)
@given(
    cases=st.lists(st.sampled_from(ONE), min_size=2, max_size=14, unique_by=lambda c: c.id),
    connections=st.integers(2, 4),
)
def test_only_requests_that_cannot_change_the_event_overlap_and_the_order_is_the_serial_one(server, cases, connections):
    serial = _target(server.url, 1)
    spans = _cover(serial, cases)
    assert all(a[1] <= b[0] for a, b in itertools.pairwise(spans))  # one after another
    wide = _target(server.url, connections)
    spans = _cover(wide, cases)
    for i, (start, end, overlaps) in enumerate(spans):
        if not overlaps:  # a request that may change the designated event: nothing else on the wire meanwhile
            assert all(e <= start or s >= end for j, (s, e, _) in enumerate(spans) if j != i)
    # The same requests; those that go alone in the serial order (the overlapping ones of a group go first)
    assert Counter(map(repr, _order(wide))) == Counter(map(repr, _order(serial)))
    assert _alone(wide) == _alone(serial)
    assert wide.transport.stats.sent == serial.transport.stats.sent


def test_one_connection_keeps_the_plans_order():
    """`--connections=1` reproduces the order of the plan exactly; more connections only move the cases that
    may overlap to the front of the group that must change nothing, and keep the first group first."""
    serial = table_run.plan(V3, EVENTS, TABLE)
    assert table_run.plan(V3, EVENTS, TABLE, 1) == serial
    wide = table_run.plan(V3, EVENTS, TABLE, 4)
    assert wide[0] == serial[0]  # fail fast: the lead group of writers and its read first
    assert [sorted(c.id for c in g) for g, _ in wide] == [sorted(c.id for c in g) for g, _ in serial]
    for (mine, _), (theirs, _) in zip(wide, serial, strict=True):
        together = [c for c in mine if inflight.overlaps(V3, EVENTS, c)]
        if mine != theirs:  # the reordered group: the overlapping cases first, each part in the plan's order
            assert mine == together + [c for c in theirs if c not in together]
            assert together == [c for c in theirs if c in together]


def test_requests_that_cannot_change_the_event_do_overlap(server):
    quiet = QUIET[:12]
    spans = _cover(_target(server.url, 4), quiet)
    assert len(spans) == len(quiet)
    assert any(b[0] < a[1] for a, b in itertools.pairwise(spans))


@pytest.mark.parametrize("limit", [3, 7])
def test_the_budget_cuts_where_one_connection_would(server, limit):
    quiet = QUIET[:12]
    cut = {}
    for connections in (1, 4):
        target = _target(server.url, connections, limit)
        _cover(target, quiet)
        assert target.transport.stats.sent == limit
        cut[connections] = _order(target)
        with pytest.raises(BudgetSpent):
            target.transport.prepay()
    assert cut[1] == cut[4]


def test_a_paced_run_is_no_faster_with_more_connections(server):
    """Pacing holds across the connections: one send slot at a time, `1/rate` apart."""
    quiet = QUIET[:8]
    target = _target(server.url, 4, rate=20.0)
    _cover(target, quiet)
    times = target.transport.stats.send_times
    assert len(times) == len(quiet)
    assert all(b - a >= 1 / 20 - 0.002 for a, b in itertools.pairwise(times))


def test_only_what_cannot_change_the_event_is_handed_to_another_connection(server):
    """The gate refuses to submit a request that may change the designated event: it goes alone."""
    target = _target(server.url, 4)
    alone = next(c for c in ONE if not may_overlap(V3, EVENTS, c.requests[0]))
    with pytest.raises(ValueError):
        target.gate.submit(alone.requests[0])
    assert target.transport.stats.sent == 0
    target.transport.close()
