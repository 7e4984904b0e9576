"""What the contract leaves open: any of the allowed answers passes, but never a 5xx or a bad body."""

from hypothesis import given
from hypothesis import strategies as st

import strategies
from contracts.clauses import clause
from contracts.model import VALID, Credentials


@clause("UE-OPEN-01")
@given(
    body=strategies.wrong_type_bodies() | strategies.malformed_bodies() | strategies.non_object_bodies(),
    request_id=strategies.unknown_request_ids() | strategies.odd_request_ids(),
)
def test_several_faults_any_answer(target, body, request_id):
    target.verify_both_schemes(body, request_id=request_id)


@clause("UE-OPEN-02")
@given(other=strategies.near_miss_keys() | strategies.unrelated_keys(), valid_in_header=st.booleans())
def test_header_and_query_keys_differ(target, other, valid_in_header):
    creds = Credentials(header=VALID, query=other) if valid_in_header else Credentials(header=other, query=VALID)
    target.verify(target.update(credentials=creds))


@clause("UE-OPEN-03")
@given(
    body=strategies.valid_bodies(),
    content_type=st.sampled_from([None, "text/plain", "application/json; charset=utf-8"]),
    sdk=st.sampled_from([(), (("ii", "fingerprint-pro-server-python-sdk/8.15.1"),)]),
)
def test_content_type_and_sdk_parameter(target, body, content_type, sdk):
    target.verify_both_schemes(body, "UE-OPEN-03", content_type=content_type, extra_query=sdk)
