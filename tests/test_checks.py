"""Each check fails on the exchange it exists for, names its clause and itself, and passes a good one."""

import pytest

from contracts import checks
from contracts.checks import Expectation, Violation
from contracts.model import Exchange, Request

JSON = {"content-type": "application/json; charset=utf-8"}


def exchange(status=403, body=b'{"error":{"code":"TokenRequired","message":"m"}}', headers=JSON, error=None):
    return Exchange(Request("x"), "http://t/events/x", {}, status, dict(headers), body, error)


EXPECT_403 = Expectation("UE-AUTH-01", {403: frozenset({"TokenRequired"})}, "no key")
BAD = [
    (checks.transport_completed, exchange(status=None, error="ReadError: reset"), "UE-TRANSPORT-01"),
    (checks.not_rate_limited, exchange(status=429), "UE-TRANS-02"),
    (checks.no_server_error, exchange(status=502), "UE-RESP-02"),
    (checks.status_declared, exchange(status=401), "UE-RESP-01"),
    (checks.error_body_is_json, exchange(headers={"content-type": "text/plain"}), "UE-RESP-03"),
    (checks.error_body_is_json, exchange(body=b"{not json"), "UE-RESP-03"),
    (checks.error_body_matches_schema, exchange(body=b'{"error":{"code":"Nope","message":"m"}}'), "UE-RESP-04"),
    (checks.error_body_matches_schema, exchange(body=b'{"error":{"code":"TokenRequired"}}'), "UE-RESP-04"),
    (
        checks.error_body_matches_schema,
        exchange(body=b'{"error":{"code":"TokenRequired","message":"m"},"x":1}'),
        "UE-RESP-04",
    ),
    (checks.code_fits_status, exchange(status=404), "UE-RESP-05"),
]


@pytest.mark.parametrize(("check", "ex", "clause"), BAD, ids=[f"{c.__name__}-{i}" for i, (c, _, _) in enumerate(BAD)])
def test_check_fails_and_names_clause_and_itself(check, ex, clause):
    with pytest.raises(Violation) as caught:
        check(ex)
    assert (caught.value.clause_id, caught.value.check) == (clause, check.__name__)


@pytest.mark.parametrize("check", [c for c, _, _ in BAD])
def test_check_passes_a_good_error(check):
    check(exchange())


def test_outcome_names_the_refusal_clause():
    expectation = Expectation("UE-AUTH-04", {200: None}, "a valid update", refusals={400: "UE-BODY-01"})
    with pytest.raises(Violation) as caught:
        checks.outcome_as_expected(
            exchange(400, b'{"error":{"code":"RequestCannotBeParsed","message":"m"}}'), expectation
        )
    assert caught.value.clause_id == "UE-BODY-01"
    with pytest.raises(Violation) as caught:
        checks.outcome_as_expected(exchange(403), expectation)
    assert caught.value.clause_id == "UE-AUTH-04"
    checks.outcome_as_expected(exchange(200, b""), expectation)


def test_stored_fields_and_same_outcome():
    with pytest.raises(Violation) as caught:
        checks.stored_fields_match("UE-SEM-03", {"tag": {"a": 1, "b": 2}}, {"tag": {"b": 2}})
    assert caught.value.check == "stored_fields_match"
    checks.stored_fields_match("UE-SEM-03", {"tag": {"b": 2}, "other": 1}, {"tag": {"b": 2}})
    with pytest.raises(Violation):
        checks.same_outcome(exchange(200, b""), exchange(200, b'{"error":{"code":"Failed","message":"m"}}'))
