"""Each public strategy makes what its name promises, as the clause rules classify it, for every version."""

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from fpjs_conformance import profile as profiles
from fpjs_conformance import strategies
from fpjs_conformance.model import Body, Events, Request
from fpjs_conformance.rules import auth as auth_rules
from fpjs_conformance.rules import body as body_rules
from fpjs_conformance.rules import ids as id_rules

EVENTS = Events("1708102555327.NLOjmg", "1600000000000.expird")
PROFILES = [pytest.param(profiles.load(v), id=v) for v in profiles.versions()]


@pytest.mark.parametrize("p", PROFILES)
@pytest.mark.parametrize(
    ("make", "clause"),
    [
        (lambda p: strategies.valid_bodies(p), None),
        (lambda p: strategies.empty_update_bodies(p), "UE-BODY-07"),
        (lambda p: strategies.over_limit_bodies(p), "UE-BODY-06"),
        (lambda p: strategies.wrong_type_bodies(p), "UE-BODY-02"),
        (lambda p: strategies.non_object_bodies(), "UE-BODY-03"),
        (lambda p: strategies.malformed_bodies(p), "UE-BODY-04"),
    ],
    ids=["valid", "empty-update", "over-limit", "wrong-type", "non-object", "malformed"],
)
def test_bodies_are_what_their_name_says(p, make, clause):
    @settings(max_examples=25, deadline=None)
    @given(make(p))
    def check(body):
        assert body_rules.clause_of(p, body) == clause

    check()


@pytest.mark.parametrize("p", PROFILES)
def test_bad_credentials_never_authenticate(p):
    @settings(max_examples=50, deadline=None)
    @given(strategies.bad_credentials(p, wrong_region=True))
    def check(creds):
        auth = auth_rules.assess(p, Request(EVENTS.live, creds))
        assert auth.refusal is not None, creds

    check()


@pytest.mark.parametrize("p", PROFILES)
def test_valid_credentials_authenticate(p):
    @settings(max_examples=30, deadline=None)
    @given(strategies.valid_credentials(p))
    def check(creds):
        assert auth_rules.assess(p, Request(EVENTS.live, creds)).accepted

    check()


@pytest.mark.parametrize("p", PROFILES)
def test_ids(p):
    @settings(max_examples=50, deadline=None)
    @given(strategies.unknown_event_ids(p), strategies.odd_event_ids(p))
    def check(unknown, odd):
        assert id_rules.fault(p, Request(unknown), EVENTS).clause_id == "UE-ID-01"
        assert id_rules.fault(p, Request(odd), EVENTS).clause_id == "UE-ID-02"

    check()


@pytest.mark.parametrize("p", PROFILES)
def test_schemathesis_positive_bodies_are_schema_valid(p):
    @settings(max_examples=10, deadline=None)
    @given(st.data())
    def check(data):
        body = data.draw(strategies.schemathesis_bodies(p))
        assert body_rules.clause_of(p, body) in (None, "UE-BODY-06", "UE-BODY-07")

    check()


def test_arguments_are_checked():
    with pytest.raises(TypeError):
        strategies.valid_bodies("v3")
    with pytest.raises(ValueError):
        strategies.field_values(profiles.load("v3"), "nope")
    with pytest.raises(ValueError):
        strategies.json_values(max_leaves=0)


@pytest.mark.parametrize("p", PROFILES)
def test_field_values_are_valid_alone(p):
    @settings(max_examples=30, deadline=None)
    @given(st.sampled_from(p.fields).flatmap(lambda f: st.tuples(st.just(f), strategies.field_values(p, f))))
    def check(pair):
        assert body_rules.clause_of(p, Body.of(dict([pair]))) is None

    check()


def test_generated_bodies_keep_integers_every_json_implementation_holds():
    """RFC 8259 (6) lets a server limit the range of numbers: nothing past 2**53 is demanded of it."""
    from fpjs_conformance.strategies import EXACT_INTEGERS, interoperable

    body = {"tags": {"big": 2**70, "small": -(2**64), "list": [2**60, True, 1.5e300]}}
    assert interoperable(body) == {
        "tags": {"big": EXACT_INTEGERS, "small": -EXACT_INTEGERS, "list": [EXACT_INTEGERS, True, 1.5e300]}
    }
