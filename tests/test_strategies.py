"""Each public strategy makes what its name promises, as the oracle classifies it."""

from hypothesis import given, settings
from hypothesis import strategies as st

import strategies
from contracts import oracle
from contracts.model import Request

EVENTS = oracle.Events("1708102555327.NLOjmg", "1600000000000.expird")


@given(strategies.valid_bodies())
def test_valid_bodies_are_plain_valid_updates(body):
    assert oracle.body_clause(body) is None


@given(strategies.empty_update_bodies())
def test_empty_update_bodies_have_no_known_field(body):
    assert oracle.body_clause(body) == "UE-BODY-07"


@settings(max_examples=10)
@given(strategies.over_limit_bodies())
def test_over_limit_bodies(body):
    assert oracle.body_clause(body) == "UE-BODY-06"


@given(strategies.wrong_type_bodies())
def test_wrong_type_bodies(body):
    assert oracle.body_clause(body) == "UE-BODY-02"


@given(strategies.non_object_bodies())
def test_non_object_bodies(body):
    assert oracle.body_clause(body) == "UE-BODY-03"


@given(strategies.malformed_bodies())
def test_malformed_bodies(body):
    assert oracle.body_clause(body) == "UE-BODY-04"


@given(strategies.bad_credentials())
def test_bad_credentials_never_authenticate(creds):
    expectation = oracle.expect(Request(EVENTS.live, creds), EVENTS)
    assert set(expectation.allowed) == {403}


@given(strategies.unknown_request_ids())
def test_unknown_ids_are_plain(request_id):
    assert oracle.id_fault(Request(request_id), EVENTS).clause_id == "UE-ID-01"


@given(strategies.odd_request_ids())
def test_odd_ids_are_odd(request_id):
    assert oracle.id_fault(Request(request_id), EVENTS).clause_id == "UE-ID-02"


@settings(max_examples=10)
@given(st.data())
def test_schemathesis_positive_bodies_are_schema_valid(data):
    body = data.draw(strategies.schemathesis_bodies())
    assert oracle.body_clause(body) in (None, "UE-BODY-06", "UE-BODY-07")


def test_wrong_type_examples_cover_every_field_and_are_wrong():
    from contracts import spec
    from contracts.model import Body

    pairs = strategies.wrong_type_examples()
    assert {f for f, _ in pairs} == set(spec.body_fields())
    for field, value in pairs:
        assert oracle.body_clause(Body.of({field: value})) == "UE-BODY-02", (field, value)
