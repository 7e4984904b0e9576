"""Auth: both schemes, the three 403 codes, and authentication before anything else."""

import pytest
from hypothesis import given
from hypothesis import strategies as st

import strategies
from contracts.clauses import clause
from contracts.model import EMPTY, NO_KEY, QUERY_KEY, WRONG_REGION, Credentials


@clause("UE-AUTH-01")
def test_no_key_is_token_required(target):
    target.verify(target.update(credentials=NO_KEY))


@clause("UE-AUTH-02")
@pytest.mark.parametrize(
    "credentials",
    [Credentials(header=EMPTY), Credentials(query=EMPTY), Credentials(header=EMPTY, query=EMPTY)],
    ids=["header", "query", "both"],
)
def test_empty_key_is_token_required(target, credentials):
    target.verify(target.update(credentials=credentials))


@clause("UE-AUTH-03")
@given(key=strategies.near_miss_keys() | strategies.unrelated_keys())
def test_wrong_key_is_token_not_found(target, key):
    for creds in (Credentials(header=key), Credentials(query=key)):  # each wrong key in both places
        target.verify(target.update(credentials=creds))


# The key is under test here, not the body (UE-BODY-01 covers those): a few plain valid updates.
AUTH_BODIES = st.sampled_from([{"linkedId": "fpjs-auth-check"}, {"suspect": False}, {"tag": {"auth": "check"}}])


@clause("UE-AUTH-04")
@given(body=AUTH_BODIES)
def test_header_key_authenticates(target, body):
    target.verify(target.update(body), "UE-AUTH-04")


@clause("UE-AUTH-05")
@given(body=AUTH_BODIES)
def test_query_key_authenticates(target, body):
    target.verify(target.update(body, credentials=QUERY_KEY), "UE-AUTH-05")


@clause("UE-AUTH-06")
@pytest.mark.parametrize(
    "credentials", [Credentials(header=WRONG_REGION), Credentials(query=WRONG_REGION)], ids=["header", "query"]
)
def test_other_region_key_is_wrong_region(target, credentials):
    if not target.has_wrong_region_key:
        target.ledger.skipped("UE-AUTH-06", "needs --wrong-region-api-key")
        pytest.skip("needs --wrong-region-api-key (FPJS_WRONG_REGION_API_KEY)")
    target.verify(target.update(credentials=credentials))


@clause("UE-AUTH-07")
@given(
    credentials=strategies.bad_credentials(),
    body=strategies.valid_bodies()
    | strategies.wrong_type_bodies()
    | strategies.malformed_bodies()
    | strategies.non_object_bodies()
    | strategies.empty_update_bodies(),
    request_id=st.none() | strategies.unknown_request_ids() | strategies.odd_request_ids(),
)
def test_authentication_comes_first(target, credentials, body, request_id):
    target.verify(target.update(body, request_id=request_id, credentials=credentials))
