"""Body: valid updates accepted, every malformed shape refused with 400 RequestCannotBeParsed."""

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import strategies
from contracts.clauses import clause
from contracts.model import NO_BODY


@clause("UE-BODY-01")
@given(body=strategies.valid_bodies())
def test_valid_update_is_accepted(target, body):
    target.verify_both_schemes(body, "UE-BODY-01")


@clause("UE-BODY-02")
@given(body=strategies.wrong_type_bodies())
def test_wrong_field_type_is_rejected(target, body):
    target.verify_both_schemes(body)


@clause("UE-BODY-02")
@pytest.mark.parametrize(
    ("field", "value"),
    strategies.wrong_type_examples(),
    ids=[f"{f}={v!r}" for f, v in strategies.wrong_type_examples()],
)
def test_each_field_with_each_wrong_type(target, field, value):
    target.verify_both_schemes({field: value})


@clause("UE-BODY-03")
@given(body=strategies.non_object_bodies())
def test_non_object_json_is_rejected(target, body):
    target.verify_both_schemes(body)


@clause("UE-BODY-04")
@given(body=strategies.malformed_bodies())
def test_malformed_or_non_utf8_body_is_rejected(target, body):
    target.verify_both_schemes(body)


@clause("UE-BODY-05")
@pytest.mark.parametrize("content_type", ["application/json", None], ids=["json", "no-content-type"])
def test_missing_body_is_rejected(target, content_type):
    target.verify(target.update(NO_BODY, content_type=content_type))


@clause("UE-BODY-06")
@settings(max_examples=6)
@given(body=strategies.over_limit_bodies())
def test_values_past_limits_do_not_break_the_server(target, body):
    target.verify_both_schemes(body)


@clause("UE-BODY-07")
@given(body=strategies.empty_update_bodies())
def test_body_without_known_field(target, body):
    target.verify_both_schemes(body)


@clause("UE-BODY-08")
@given(data=st.data())
def test_schemathesis_positive_bodies(target, data):
    body = data.draw(strategies.schemathesis_bodies(False, target.events.live), label="body")
    target.verify_both_schemes(body, "UE-BODY-08")


@clause("UE-BODY-09")
@given(data=st.data())
def test_schemathesis_negative_bodies(target, data):
    body = data.draw(strategies.schemathesis_bodies(True, target.events.live), label="body")
    target.verify_both_schemes(body, "UE-BODY-09")
