"""The state oracle (fpjs_conformance/state.py) and what the coverage table does for it: every change of
the designated event's read-back blamed on the request whose marks it shows; the table's writes keep the
suite's mark on the event whatever a server applies of them (issue 24, item 3); the lenient walk derived
from RFC 8259; reads that settle within the settle time."""

from __future__ import annotations

import functools
import json

import json5
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from fpjs_conformance import oracle, shapes, state, table_run
from fpjs_conformance import profile as profiles
from fpjs_conformance.designated import EventState
from fpjs_conformance.keys import Secrets
from fpjs_conformance.ledger import Ledger
from fpjs_conformance.limits import Policy
from fpjs_conformance.model import Body, Credentials, Events, Exchange, Key, Request
from fpjs_conformance.preflight import looks_like_probe
from fpjs_conformance.readback import ReadBack
from fpjs_conformance.refserver import Settings
from fpjs_conformance.rules import lenient, lookalikes, methods, semantics
from fpjs_conformance.rules.state import NOTHING_CHANGED, ONLY_NAMED
from fpjs_conformance.target import Target
from fpjs_conformance.transport import Transport

VERSIONS = [profiles.load(v) for v in profiles.versions()]
IDS = Settings()


def events(p) -> Events:
    return Events(
        IDS.request_id, IDS.expired_for(p.update_window_days), IDS.not_ready_request_id, IDS.foreign_request_id
    )


@functools.cache
def plan_of(p):
    ev = events(p)
    return ev, [c for group, _ in table_run.plan(p, ev, table_run.cases(p, ev, wrong_region=True)) for c in group]


# -- the mark holds (issue 24, item 3) ------------------------------------------------------------------
def _applied_value(request: Request):
    """What a server that applies this request would store: its body's value (of duplicate members, the
    valid ones: what a correct server stores), a lenient body read as a lenient parser reads it, or None."""
    if isinstance(request.body.json_value, dict):
        return request.body.json_value
    ok, value = shapes.body_value(request.body) if request.body.present else (False, None)
    if not ok and request.body.raw is not None:
        try:
            value = json5.loads(request.body.raw.decode("utf-8"))
        except (ValueError, UnicodeDecodeError, RecursionError):
            value = None
    return value if isinstance(value, dict) else None


@functools.cache
def _writes_of(p):
    ev, table = plan_of(p)
    return _writes(p, ev, table)


def _writes(p, ev, table):
    """Every request of the table a server may apply to the designated event, in order, and whether the
    contract makes it always applied (a valid update: only 200 allowed) or leaves it open (200 or a
    refusal). One the contract refuses is left out: a server that applies it fails UE-STATE-02 at the next
    read (its values carry marks of their own where a field can hold one)."""
    out = []
    for case in table:
        for request in case.requests:
            value = _applied_value(request)
            if value is None or not shapes.designated(request, ev) or request.method is not None:
                continue
            lead = oracle.expect(p, request, ev)[0]
            allowed = set(lead.allowed or ())
            if 200 in allowed:
                out.append((value, allowed == {200}))
    return out


@pytest.mark.parametrize("p", VERSIONS, ids=[p.version for p in VERSIONS])
@settings(max_examples=60, deadline=None)
@given(data=st.data())
def test_every_write_of_the_table_leaves_the_suites_mark(p, data):
    """Fold the table's writes in order, each applied or not as a correct server may (the valid ones always):
    after every applied write the event holds the suite's mark, so a run that never finished is recognised."""
    held: dict = {}
    wrote = False
    for value, required in _writes_of(p):
        if not required and not data.draw(st.booleans()):
            continue
        held.update({k: v for k, v in value.items() if k in p.fields})
        wrote = wrote or any(k in p.fields for k in value)
        if wrote:
            assert looks_like_probe(p, held), f"no mark after {json.dumps(value)[:200]}: {json.dumps(held)[:300]}"


@pytest.mark.parametrize("p", VERSIONS, ids=[p.version for p in VERSIONS])
def test_one_writer_group_then_what_must_change_nothing_each_with_marks_of_its_own(p):
    """Fail fast: one group of writers and its read lead (what most broken stores show), then every case that
    must change nothing, together, and one read; then the other writers."""
    ev = events(p)
    table = table_run.cases(p, ev, wrong_region=True)
    groups = table_run.plan(p, ev, table)
    (lead, lead_read), (first, read) = groups[:2]
    assert lead_read and not any(table_run.quiet(p, ev, c) for c in lead)
    assert read and all(table_run.quiet(p, ev, c) for c in first)
    assert not any(table_run.quiet(p, ev, c) for group, _ in [groups[0], *groups[2:]] for c in group)
    marks = [state.MARK.findall((r.body.encode() or b"").decode("utf-8", "replace")) for c in first for r in c.requests]
    found = [m for ms in marks for m in ms]
    assert len(set(found)) > 50  # each request its own (a request carries one mark, in every field)
    for group, _ in [groups[0], *groups[2:]]:  # one read for cases whose fields do not overlap
        fields = [table_run.fields_of(p, c) for c in group if c.compare in ("fold", "numbers")]
        assert all(not (a & b) for i, a in enumerate(fields) for b in fields[i + 1 :])


# -- who is to blame -----------------------------------------------------------------------------------
V4 = profiles.load("v4")


def _ex(request: Request, status: int) -> Exchange:
    return Exchange(request, "PATCH", "http://x/v4/events/1", {}, status=status, version="v4")


def _read(**fields):
    return {"event_id": IDS.request_id, "timestamp": 1, **fields}


def _touch(body: dict, status: int, *, applied: bool | None = None):
    request = Request(IDS.request_id, Credentials.of(header=Key("valid")), Body.of(body))
    ex = _ex(request, status)
    return state.touch(V4, request, ex, status == 200 if applied is None else applied), ex


def test_a_refused_request_whose_mark_shows_is_named():
    before = _read(linked_id="a", tags={"fpjs": "x"})
    view = state.View(before, 0)
    leak, leak_ex = _touch({"tags": {"fpjs": "fpjs-v4-m9"}, "linked_id": None}, 400)
    after = _read(linked_id="a", tags={"fpjs": "fpjs-v4-m9"})
    found = state.judge(V4, view, after, [leak], {"linked_id": "a", "tags": {"fpjs": "x"}, "suspect": False}, set())
    assert [(v.clause_id, v.exchange) for v in found] == [(NOTHING_CHANGED, leak_ex)]
    assert "fpjs-v4-m9" in found[0].received


def test_a_field_the_update_did_not_name_that_changed_is_not_partial():
    view = state.View(_read(linked_id="a", tags={"fpjs": "x"}), 0)
    ok, ex = _touch({"linked_id": "b"}, 200)
    found = state.judge(
        V4, view, _read(linked_id="b", tags={}), [ok], {"linked_id": "b", "tags": {"fpjs": "x"}}, {"linked_id"}
    )
    assert [(v.clause_id, v.exchange) for v in found] == [(semantics.PARTIAL, ex)]


def test_a_read_only_member_bound_from_the_body_is_the_updates_finding():
    view = state.View(_read(linked_id="a", url="https://a"), 0)
    ok, ex = _touch({"linked_id": "b", "url": "https://fpjs"}, 200)
    found = state.judge(V4, view, _read(linked_id="b", url="https://fpjs"), [ok], {"linked_id": "b"}, {"linked_id"})
    assert [(v.clause_id, v.exchange) for v in found] == [(ONLY_NAMED, ex)]
    assert "/url" in found[0].received


def test_members_that_change_on_their_own_and_no_request_since_are_not_blamed():
    before = _read(linked_id="a", velocity={"events": {"5_minutes": 1}}, identification={"last_seen_at": 1})
    after = _read(linked_id="a", velocity={"events": {"5_minutes": 9}}, identification={"last_seen_at": 2})
    refused, _ = _touch({"linked_id": "fpjs-v4-m1"}, 403)
    assert state.judge(V4, state.View(before, 0), after, [refused], {"linked_id": "a"}, set()) == []
    moved = _read(linked_id="a", url="https://moved")
    assert state.judge(V4, state.View(before, 1), moved, [refused], {"linked_id": "a"}, set()) == []


def test_read_back_verdicts():
    request = Request(IDS.request_id, op="read")
    good = Exchange(request, "GET", "u", {}, 200, {"content-type": "application/json"}, json.dumps(_read()).encode())
    assert [v for _, v in state.conformance(good, V4)] == [None, None]
    text = Exchange(request, "GET", "u", {}, 200, {"content-type": "text/plain"}, b"{}")
    assert state.conformance(text, V4)[0][1].clause_id == "UE-STATE-03"
    drift = Exchange(request, "GET", "u", {}, 200, {"content-type": "application/json"}, b'{"event_id": "x"}')
    assert state.conformance(drift, V4)[1][1].clause_id == "UE-STATE-04"


# -- the classes, derived ---------------------------------------------------------------------------------
@pytest.mark.parametrize("p", VERSIONS, ids=[p.version for p in VERSIONS])
def test_undeclared_methods_come_from_the_document(p):
    declared = {m.upper() for m in p.document["paths"][p.update_path]}
    assert p.update_method in declared and p.update_method not in p.undeclared_methods
    assert "HEAD" not in p.undeclared_methods and "CONNECT" not in p.undeclared_methods
    assert set(p.undeclared_methods) - {profiles.UNKNOWN_METHOD} == set(profiles.HTTP_METHODS) - declared - {"HEAD"}
    request = Request(IDS.request_id, method="POST")
    assert methods.undeclared(p, request) and set(methods.expectation(p, request).allowed) == {404, 405, 501}


@pytest.mark.parametrize("p", VERSIONS, ids=[p.version for p in VERSIONS])
def test_each_lenient_body_breaks_strict_json_at_its_production_and_a_lenient_parser_takes_most(p):
    ev, _ = plan_of(p)
    cases = [c for c in table_run.cases(p, ev, wrong_region=True) if c.id.startswith("body/lenient:")]
    assert len(cases) == len(lenient.RELAXATIONS)
    taken = 0
    for case in cases:
        raw = case.requests[0].body.raw
        assert not shapes.parse_json(raw)[0], case.id
        for parse in (json5.loads, lambda t: json.loads(t, strict=False), lambda t: json.JSONDecoder().raw_decode(t)):
            try:
                parse(raw.decode())
                taken += 1
                break
            except ValueError:
                continue
    assert taken >= len(cases) - 2  # a truncated body, an unknown escape: no parser takes them


def test_lookalikes_are_related_to_the_designated_id_by_rfc_3986():
    live = IDS.request_id
    kinds = {name: shapes.relation(text, live) for name, (text, _) in lookalikes.lookalikes(live).items()}
    assert kinds["percent-encoded"] == shapes.EQUIVALENT and kinds["trailing-slash"] == shapes.OPEN
    assert {kinds[n] for n in ("matrix-parameter", "format-suffix", "empty-segment", "double-encoded")} == {"other"}
    assert shapes.designated(Request("%31" + live[1:], id_encoded=True), Events(live))
    assert not shapes.designated(Request(live + ";x=1", id_encoded=True), Events(live))


# -- a short lag is not a breach ------------------------------------------------------------------------
def _target(settle: float) -> Target:
    transport = Transport(V4, "http://127.0.0.1:9/v4", Secrets("k" * 12), Policy())
    target = Target(V4, "http://127.0.0.1:9/v4", Events(IDS.request_id), transport, Ledger("v4"))
    target.state = EventState(written={"linked_id": "new", "tags": {}, "suspect": False})
    target.state.sent = {"linked_id": {'"old"': "old", '"new"': "new"}}
    target.reads.lag.settle_s = settle
    return target


def test_a_read_that_shows_the_write_late_settles_and_one_that_never_does_stops_waiting(monkeypatch):
    target = _target(2.0)
    shown = iter(["old", "old", "new"])
    monkeypatch.setattr(target, "read_back", lambda **_: ReadBack({"linked_id": next(shown), "tags": {}}))
    assert target.read_settled().stored["linked_id"] == "new"
    assert target.reads.lag.as_dict()["reads_settled_late"] == 1 and target.reads.lag.rereads == 2
    never = _target(0.3)
    monkeypatch.setattr(never, "read_back", lambda **_: ReadBack({"linked_id": "old", "tags": {}}))
    assert never.read_settled().stored["linked_id"] == "old" and never.reads.lag.unsettled == 1
    before = never.reads.lag.rereads
    never.read_settled()
    assert never.reads.lag.rereads == before  # it lost the write: no more waiting
