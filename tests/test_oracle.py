"""The oracle's predictions for hand-picked requests, including the clauses left open."""

import pytest

from contracts import oracle
from contracts.model import EMPTY, NO_KEY, QUERY_KEY, VALID, WRONG_REGION, Body, Credentials, Key, Request

EV = oracle.Events("1708102555327.NLOjmg", "1600000000000.expird", "1708102555999.notRdy")
OK = Body.of({"linkedId": "x"})


def allowed(request):
    exp = oracle.expect(request, EV)
    return exp.clause_id, {s: (sorted(c) if c else None) for s, c in exp.allowed.items()}


@pytest.mark.parametrize(
    ("request_", "clause", "statuses"),
    [
        (Request(EV.live, NO_KEY, OK), "UE-AUTH-01", {403}),
        (Request(EV.live, Credentials(header=EMPTY), OK), "UE-AUTH-02", {403}),
        (Request(EV.live, Credentials(header=Key("near", "drop-last")), OK), "UE-AUTH-03", {403}),
        (Request(EV.live, Credentials(query=WRONG_REGION), OK), "UE-AUTH-06", {403}),
        (Request("1000000000000.unknwn", NO_KEY, Body.bytes_(b"{")), "UE-AUTH-07", {403}),
        (Request(EV.live, QUERY_KEY, OK), "UE-BODY-01", {200}),
        (Request(EV.live, body=Body.of({"tag": None})), "UE-BODY-02", {400, 409}),
        (Request(EV.live, body=Body.of([])), "UE-BODY-03", {400, 409}),
        (Request(EV.live, body=Body.bytes_(b"\xff")), "UE-BODY-04", {400, 409}),
        (Request(EV.live), "UE-BODY-05", {400, 409}),
        (Request(EV.live, body=Body.of({"linkedId": "x" * 300})), "UE-BODY-06", {200, 400}),
        (Request(EV.live, body=Body.of({})), "UE-BODY-07", {200, 400}),
        (Request("1000000000000.unknwn", body=OK), "UE-ID-01", {404}),
        (Request("a/b", body=OK), "UE-ID-02", {400, 404}),
        (Request(EV.expired, body=OK), "UE-ID-03", {400, 403, 404, 409}),
        (Request("1000000000000.unknwn", body=Body.of([])), "UE-ID-01", {400, 404}),
        (Request(EV.live, Credentials(header=VALID, query=Key("literal", "abc")), OK), "UE-OPEN-02", {200, 403}),
        (Request(EV.live, body=OK, content_type=None), "UE-OPEN-03", {200, 400}),
    ],
)
def test_prediction(request_, clause, statuses):
    got_clause, got = allowed(request_)
    assert (got_clause, set(got)) == (clause, statuses)


def test_expired_event_relaxes_code_rule():
    assert oracle.expect(Request(EV.expired, body=OK), EV).relaxed_codes


def test_missing_key_wins_over_every_other_fault():
    exp = oracle.expect(Request("a/b", NO_KEY, Body.bytes_(b"\xff")), EV)
    assert set(exp.allowed) == {403}
    assert exp.allowed[403] == frozenset({"TokenRequired"})
