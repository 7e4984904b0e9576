"""The oracle's predictions for hand-picked requests, per version, including the clauses left open."""

import pytest

from fpjs_conformance import oracle
from fpjs_conformance import profile as profiles
from fpjs_conformance.model import (
    EMPTY,
    NO_KEY,
    VALID,
    WRONG_REGION,
    Body,
    Credential,
    Credentials,
    Events,
    Key,
    Request,
)

EV = Events("1708102555327.NLOjmg", "1600000000000.expird", "1708102555999.notRdy")
V3, V4 = profiles.load("v3"), profiles.load("v4")
HEADER, QUERY = Credentials.of(header=VALID), Credentials.of(query=VALID)


def ok(p):
    return Body.of({p.fields[0]: "x"})


def lead(p, request):
    """(clause, statuses) of the leading expectation: what the answer is judged under first."""
    exp = oracle.expect(p, request, EV)[0]
    return exp.clause_id, set(exp.allowed or {})


def clauses(p, request):
    return [e.clause_id for e in oracle.expect(p, request, EV)]


@pytest.mark.parametrize("p", [V3, V4], ids=["v3", "v4"])
@pytest.mark.parametrize(
    ("make", "clause", "statuses"),
    [
        (lambda p: Request(EV.live, NO_KEY, ok(p)), "UE-AUTH-01", {403}),
        (lambda p: Request(EV.live, Credentials.of(header=EMPTY), ok(p)), "UE-AUTH-02", {403}),
        (lambda p: Request(EV.live, Credentials.of(header=Key("near", "drop-last")), ok(p)), "UE-AUTH-03", {403}),
        (lambda p: Request(EV.live, Credentials.of(header=WRONG_REGION), ok(p)), "UE-AUTH-06", {403}),
        (lambda p: Request("1000000000000.unknwn", NO_KEY, Body.bytes_(b"{")), "UE-AUTH-01", {403}),
        (lambda p: Request(EV.live, HEADER, ok(p)), "UE-BODY-01", {200}),
        (lambda p: Request(EV.live, HEADER, Body.of({p.fields[0]: None})), "UE-BODY-02", {400, 409}),
        (lambda p: Request(EV.live, HEADER, Body.of([])), "UE-BODY-03", {400, 409}),
        (lambda p: Request(EV.live, HEADER, Body.bytes_(b"\xff")), "UE-BODY-04", {400, 409}),
        (lambda p: Request(EV.live, HEADER), "UE-BODY-05", {400, 409}),
        (lambda p: Request(EV.live, HEADER, Body.of({})), "UE-BODY-07", {200, 400}),
        (lambda p: Request("1000000000000.unknwn", HEADER, ok(p)), "UE-ID-01", {404}),
        (lambda p: Request("a/b", HEADER, ok(p)), "UE-ID-02", {400, 404}),
        (lambda p: Request(EV.expired, HEADER, ok(p)), "UE-ID-03", {400, 403, 404, 409}),
        (lambda p: Request("1000000000000.unknwn", HEADER, Body.of([])), "UE-OPEN-01", {400, 404}),
        (lambda p: Request(EV.live, HEADER, ok(p), content_type=None), "UE-OPEN-03", {200, 400}),
        (lambda p: Request(EV.not_ready, HEADER, ok(p)), "UE-TRANS-01", {200}),
    ],
)
def test_prediction(p, make, clause, statuses):
    assert lead(p, make(p)) == (clause, statuses)


@pytest.mark.parametrize("p", [V3, V4], ids=["v3", "v4"])
def test_past_the_limit_any_answer_of_the_too_large_role(p):
    """Accepted, or the too_large role's answer: under v4 413 too (the vendor pairs it with payload_too_large)."""
    request = Request(EV.live, HEADER, Body.of({p.fields[0]: "x" * 300}))
    assert lead(p, request) == ("UE-BODY-06", {200, *p.role("too_large").statuses})
    assert (413 in p.role("too_large").statuses) == (p.version == "v4")


@pytest.mark.parametrize("p", [V3, V4], ids=["v3", "v4"])
def test_a_value_at_an_undocumented_limit_may_be_refused_at_should_level(p):
    field = next(f for f, limit in p.limits.items() if limit.max_chars)
    at = oracle.expect(p, Request(EV.live, HEADER, Body.of({field: "\u00e9" * 200})), EV)[0]
    assert (at.clause_id, set(at.allowed)) == ("UE-BODY-01", {200})
    assert at.should == p.role("too_large").answers and all(s.judgement for s in at.should_basis)
    within = oracle.expect(p, Request(EV.live, HEADER, Body.of({field: "x" * 100})), EV)[0]
    assert within.should is None


def test_missing_key_on_a_bad_request_informs_auth_first_too():
    request = Request("a/b", NO_KEY, Body.bytes_(b"\xff"))
    assert clauses(V3, request) == ["UE-AUTH-01", "UE-AUTH-07"]
    assert oracle.expect(V3, request, EV)[0].allowed == {403: frozenset({"TokenRequired"})}


def test_valid_key_informs_the_place_clause():
    assert clauses(V3, Request(EV.live, HEADER, ok(V3)))[1:] == ["UE-AUTH-04"]
    assert clauses(V3, Request(EV.live, QUERY, ok(V3)))[1:] == ["UE-AUTH-05"]
    lower = Credentials((Credential("header", VALID, name_case="lower"),))
    assert clauses(V4, Request(EV.live, lower, ok(V4)))[1:] == ["UE-HTTP-01"]
    bearer = Credentials((Credential("header", VALID, scheme="bearer"),))
    assert clauses(V4, Request(EV.live, bearer, ok(V4)))[1:] == ["UE-AUTH-08"]


def test_two_places_differ_is_left_open():
    creds = Credentials.of(header=VALID, query=Key("literal", "abc"))
    assert lead(V3, Request(EV.live, creds, ok(V3))) == ("UE-OPEN-02", {200, 403})


@pytest.mark.parametrize("scheme", [None, "Basic"])
def test_key_without_its_scheme_is_refused_either_way(scheme):
    creds = Credentials((Credential("header", VALID, scheme=scheme),))
    exp = oracle.expect(V4, Request(EV.live, creds, ok(V4)), EV)[0]
    assert exp.clause_id == "UE-AUTH-09"
    assert exp.allowed == V4.role("unreadable_key").answers


def test_retired_place_never_authenticates():
    creds = Credentials.of(**{"retired-query": VALID})
    assert clauses(V4, Request(EV.live, creds, ok(V4))) == ["UE-AUTH-10"]


def test_expired_event_relaxes_code_rule():
    assert oracle.expect(V3, Request(EV.expired, HEADER, ok(V3)), EV)[0].relaxed_codes


def test_also_adds_a_clause_that_judges_like_the_lead():
    found = oracle.expect(V3, Request(EV.live, HEADER, Body.of({"tag": None})), EV, also=("UE-BODY-09",))
    assert [e.clause_id for e in found][:2] == ["UE-BODY-02", "UE-BODY-09"]
    assert found[0].allowed == found[1].allowed


# -- near misses of names, and optional headers (UE-HTTP-02) ------------------------------------------
def test_the_key_under_a_near_miss_name_is_no_key():
    for p, place, name in ((V3, "query", "apiKey"), (V3, "query", "API_KEY"), (V3, "header", "Auth_API_Key")):
        creds = Credentials((Credential(place, VALID, name=name),))
        exp = oracle.expect(p, Request(EV.live, creds, ok(p)), EV)[0]
        assert (exp.clause_id, exp.allowed) == ("UE-AUTH-01", p.role("missing_key").answers)
    misses = Credentials(tuple(Credential("header", VALID, name=n) for n in ("Authorizatio", "Authorizations")))
    assert lead(V4, Request(EV.live, misses, ok(V4))) == ("UE-AUTH-01", {403})


def test_a_header_name_in_another_case_is_the_place_itself():
    creds = Credentials((Credential("header", VALID, name="auth-api-key"),))
    assert clauses(V3, Request(EV.live, creds, ok(V3))) == ["UE-BODY-01", "UE-HTTP-01"]
    # a query parameter's name is compared exactly: another case is another parameter
    creds = Credentials((Credential("query", VALID, name="Api_key"),))
    assert lead(V3, Request(EV.live, creds, ok(V3))) == ("UE-AUTH-01", {403})
    # the name of a retired place is that place
    creds = Credentials((Credential("header", VALID, name="auth-api-key"),))
    assert clauses(V4, Request(EV.live, creds, ok(V4))) == ["UE-AUTH-10"]


@pytest.mark.parametrize("word", ["Bearerr", "Beare", "Beares"])
def test_a_near_miss_of_the_scheme_word_does_not_authenticate(word):
    creds = Credentials((Credential("header", VALID, scheme=word),))
    exp = oracle.expect(V4, Request(EV.live, creds, ok(V4)), EV)[0]
    assert (exp.clause_id, exp.allowed) == ("UE-AUTH-09", V4.role("unreadable_key").answers)


@pytest.mark.parametrize("p", [V3, V4], ids=["v3", "v4"])
def test_near_miss_members_are_unknown_members_of_a_valid_update(p):
    body = Body.of({p.fields[0]: "x", p.fields[0].upper(): "y", " " + p.fields[0]: "z"})
    assert lead(p, Request(EV.live, HEADER, body)) == ("UE-BODY-01", {200})
    only_misses = Body.of({p.fields[0].upper(): "y"})
    assert lead(p, Request(EV.live, HEADER, only_misses)) == ("UE-BODY-07", {200, 400})


@pytest.mark.parametrize("p", [V3, V4], ids=["v3", "v4"])
@pytest.mark.parametrize(
    "shaped",
    [
        {"headers_as": (("Accept", None),)},
        {"headers_as": (("Accept", None), ("User-Agent", None), ("Accept-Encoding", None), ("Connection", None))},
        {"headers_as": (("Accept", "application/json;q=0.9, */*;q=0.1"),)},
        {"content_type": "application/json;charset=UTF-8"},
        {"content_type": "Application/JSON"},
    ],
)
def test_optional_headers_and_the_json_media_type_get_the_plain_answer_under_http_02(p, shaped):
    from dataclasses import replace

    for plain in (
        Request(EV.live, HEADER, ok(p)),  # accepted
        Request(EV.live, HEADER, Body.of({p.fields[0]: None})),  # a bad request
        Request(EV.expired, HEADER, ok(p)),  # any code with the status
    ):
        want = oracle.expect(p, plain, EV)
        got = oracle.expect(p, replace(plain, **shaped), EV)
        assert [e.clause_id for e in got] == [*(e.clause_id for e in want), "UE-HTTP-02"]
        varied = got[-1]
        assert (varied.allowed, varied.forbidden, varied.defer, varied.relaxed_codes) == (
            want[0].allowed,
            want[0].forbidden,
            want[0].defer,
            want[0].relaxed_codes,
        )
        shown = ", ".join(f"{n}: {v}" if v else f"no {n}" for n, v in shaped.get("headers_as", ()))
        assert (shown or shaped.get("content_type")) in varied.why
    # Refused for its credentials: refused still (which code, or a 200, is the auth clauses' to judge).
    refused = Request(EV.live, Credentials.of(header=Key("near", "drop-last")), ok(p))
    want = oracle.expect(p, refused, EV)
    got = oracle.expect(p, replace(refused, **shaped), EV)
    assert [e.clause_id for e in got] == [*(e.clause_id for e in want), "UE-HTTP-02"]
    assert set(got[-1].allowed) == p.refusal_statuses and 200 in got[-1].defer
    assert not got[-1].judges(200) and got[-1].judges(406) and got[-1].judges(400)


@pytest.mark.parametrize("p", [V3, V4], ids=["v3", "v4"])
def test_only_another_media_type_or_none_stays_left_open(p):
    for content_type in (None, "text/plain"):
        got = oracle.expect(p, Request(EV.live, HEADER, ok(p), content_type=content_type), EV)
        assert got[0].clause_id == "UE-OPEN-03" and "UE-HTTP-02" not in [e.clause_id for e in got]
    assert lead(p, Request(EV.live, HEADER, ok(p), content_type="application/json; charset=utf-8"))[0] == "UE-BODY-01"
