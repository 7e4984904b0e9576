"""Each check fails on the exchange it exists for, names its clause and itself, and passes a good one;
`oracle.judge` records a verdict for every clause a response informs."""

import pytest

from fpjs_conformance import checks, oracle
from fpjs_conformance import profile as profiles
from fpjs_conformance.checks import Expectation, Violation
from fpjs_conformance.model import Exchange, Request
from fpjs_conformance.rules import responses, semantics, transient, transport

JSON = {"content-type": "application/json; charset=utf-8"}
V3 = profiles.load("v3")


def body(code: str, extra: str = "") -> bytes:
    return ('{"error":{"code":"%s","message":"m"}%s}' % (code, extra)).encode()  # noqa: UP031 - JSON braces


def exchange(status=403, content=None, headers=JSON, error=None, profile=V3):
    content = body(profile.role("missing_key").code) if content is None else content
    return Exchange(Request("x"), profile.update_method, "http://t/events/x", {}, status, dict(headers), content, error)


BAD = [
    (transport.transport_completed, exchange(status=None, error="ReadError: reset"), "UE-TRANSPORT-01"),
    (transient.not_rate_limited, exchange(status=429), "UE-TRANS-02"),
    (responses.no_server_error, exchange(status=502), "UE-RESP-02"),
    (responses.status_declared, exchange(status=401), "UE-RESP-01"),
    (responses.error_body_is_json, exchange(headers={"content-type": "text/plain"}), "UE-RESP-03"),
    (responses.error_body_is_json, exchange(content=b"{not json"), "UE-RESP-03"),
    (responses.error_body_matches_schema, exchange(content=body("Nope")), "UE-RESP-04"),
    (responses.error_body_matches_schema, exchange(content=b'{"error":{"code":"TokenRequired"}}'), "UE-RESP-04"),
    (responses.error_body_matches_schema, exchange(content=body("TokenRequired", ',"x":1')), "UE-RESP-04"),
    (responses.code_fits_status, exchange(status=404), "UE-RESP-05"),
]


@pytest.mark.parametrize(("check", "ex", "clause"), BAD, ids=[f"{c.__name__}-{i}" for i, (c, _, _) in enumerate(BAD)])
def test_check_fails_and_names_clause_and_itself(check, ex, clause):
    with pytest.raises(Violation) as caught:
        check(ex, V3)
    assert (caught.value.clause_id, caught.value.check) == (clause, check.__name__)


@pytest.mark.parametrize("check", [c for c, _, _ in BAD])
@pytest.mark.parametrize("version", profiles.versions())
def test_check_passes_a_good_error(check, version):
    p = profiles.load(version)
    check(exchange(content=body(p.role("missing_key").code), profile=p), p)


def test_v4_error_schema_allows_extra_properties_v3_does_not():
    v4 = profiles.load("v4")
    responses.error_body_matches_schema(exchange(content=body(v4.role("missing_key").code, ',"x":1'), profile=v4), v4)


def test_outcome_allowed_forbidden_and_deferred():
    accepted = Expectation("UE-AUTH-04", "the valid key", forbidden=frozenset({401, 403}), defer=frozenset({429}))
    with pytest.raises(Violation) as caught:
        checks.outcome_as_expected(exchange(403), accepted)
    assert caught.value.clause_id == "UE-AUTH-04"
    checks.outcome_as_expected(exchange(400, body("RequestCannotBeParsed")), accepted)
    body_ok = Expectation("UE-BODY-01", "a valid update", allowed={200: None}, defer=frozenset({401, 403}))
    assert not body_ok.judges(403) and body_ok.judges(400)


def test_one_response_is_judged_by_every_clause_it_informs():
    """A 401 to a missing key breaks the declared-statuses clause and the missing-key clause: both record it."""
    no_key = Expectation("UE-AUTH-01", "no key", allowed={403: frozenset({"TokenRequired"})})
    verdicts = oracle.judge(exchange(401), V3, [no_key])
    failed = {clause for clause, v in verdicts if v is not None}
    assert failed == {"UE-RESP-01", "UE-AUTH-01"}


def test_stored_fields_and_same_outcome():
    ex = exchange(200, b"")
    with pytest.raises(Violation) as caught:
        checks.stored_fields_match("UE-SEM-03", {"tag": {"a": 1, "b": 2}}, {"tag": {"b": 2}}, ex)
    assert caught.value.check == "stored_fields_match"
    checks.stored_fields_match("UE-SEM-03", {"tag": {"b": 2}, "other": 1}, {"tag": {"b": 2}}, ex)
    with pytest.raises(Violation):  # JSON types matter: true is not 1
        checks.stored_fields_match("UE-SEM-01", {"suspect": 1}, {"suspect": True}, ex)
    with pytest.raises(Violation):
        semantics.same_outcome(exchange(200, b""), exchange(200, body("Failed")))
