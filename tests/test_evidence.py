"""Evidence behind every expectation (issue 29): sources parsed and checked at load, what rests on the
suite's judgement reported at SHOULD level (and failed under --strict), the relaxations bounded.

The servers that prove the relaxations end to end are in tests/variants/live.py and tests/test_live.py.
"""

import json

import pytest
from hypothesis import given
from hypothesis import strategies as st

from fpjs_conformance import aliases, checks, clauses, deviations, evidence, gateway, oracle, sources, variety
from fpjs_conformance import profile as profiles
from fpjs_conformance.checks import Expectation, Violation
from fpjs_conformance.ledger import Ledger
from fpjs_conformance.limits import not_ready_waits
from fpjs_conformance.model import Body, Credentials, Events, Exchange, Key, Request
from fpjs_conformance.options import OptionError, parse
from fpjs_conformance.rules import body as body_rules
from fpjs_conformance.rules import responses, semantics
from fpjs_conformance.transport import intermediary

V3, V4 = profiles.load("v3"), profiles.load("v4")
EV = Events("1708102555327.NLOjmg", "1600000000000.expird", "1708102555999.notRdy")
COMMIT = "0" * 40


# -- sources -----------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    "text",
    [
        "document",
        "document:/components/schemas",
        "rfc:RFC 9110, 11.1",
        "rfc:RFC 8259",
        f"vendor:https://github.com/o/r/blob/{COMMIT}/a/b.ts",
        "vendor:https://github.com/o/r/issues/204",
        "vendor:https://docs.fingerprint.com/reference/js-agent-get-function",
        "judgement:why",
    ],
)
def test_a_source_in_each_form_parses(text):
    assert sources.parse(text, "here").kind == text.partition(":")[0]


@pytest.mark.parametrize(
    "text",
    [
        "",
        "spec",
        "document:components",  # not a pointer
        "rfc:9110",
        "vendor:https://github.com/o/r/blob/main/a.ts",  # a branch moves: a commit does not
        "vendor:http://docs.example.com/x",
        "vendor:ftp://x",
        "judgement:",
    ],
)
def test_a_source_that_says_nothing_checkable_is_refused(text):
    with pytest.raises(sources.SourceError):
        sources.parse_all(text, "here")


@given(st.text(max_size=40))
def test_any_text_is_a_source_only_with_a_known_kind(text):
    try:
        found = sources.parse(text, "here")
    except sources.SourceError:
        return
    assert found.kind in sources.KINDS and text.strip().startswith(found.kind)


def test_every_clause_role_and_limit_names_its_sources_and_they_resolve():
    for version in profiles.versions():
        clauses.check_pointers(version)
        p = profiles.load(version)
        assert all(r.sources for r in p.roles.values()) and all(lim.sources for lim in p.limits.values())
    assert all(c.sources for c in clauses.catalogue().values())
    # no MUST clause rests on the suite's judgement alone: what does is a part of an expectation (a clause the
    # catalogue itself makes SHOULD, as the read-back's schema, is reported at that level whatever it rests on)
    assert not [c.id for c in clauses.catalogue().values() if c.rests_on_judgement and c.level != sources.SHOULD]


def _profile_data(version: str, **changes) -> dict:
    import tomllib

    data = tomllib.loads((profiles.data_dir() / f"{version}.toml").read_text())
    for role, spec in changes.items():
        data["roles"][role] = spec
    return data


@pytest.mark.parametrize(
    ("spec", "said"),
    [
        ({"status": 404, "codes": ["event_not_found"]}, "names no source"),
        ({"status": 404, "codes": ["event_not_found"], "source": "document:/paths/nowhere"}, "not in"),
        (
            {"status": 404, "codes": ["event_not_found"], "source": "vendor:https://github.com/o/r/blob/main/x"},
            "commit",
        ),
    ],
)
def test_a_role_without_a_usable_source_stops_the_profile_from_loading(spec, said):
    with pytest.raises(profiles.ProfileError, match=said):
        profiles.Profile(_profile_data("v4", unknown_event=spec))


def test_v4_pairs_413_with_too_large_by_evidence_only():
    role = V4.role("too_large")
    assert role.undeclared == {413} and 413 not in V4.declared_statuses
    assert any(s.kind == "vendor" for s in role.sources)
    assert V3.role("too_large").undeclared == frozenset() and not V3.undeclared_statuses
    assert V4.error_schema_name(413) == V4.error_schema_name(400)  # judged as an ErrorResponse


# -- limits whose unit is undocumented ------------------------------------------------------------------
def _string_limit(p):
    return next(lim for lim in p.limits.values() if lim.max_chars)


def _object_limit(p):
    return next(lim for lim in p.limits.values() if lim.max_bytes)


@pytest.mark.parametrize("p", [V3, V4], ids=["v3", "v4"])
def test_at_the_limit_by_some_count(p):
    s, o = _string_limit(p), _object_limit(p)
    assert s.at_limit("L" * s.max_chars) and s.at_limit("\u00e9" * s.max_chars) and s.at_limit("\u00e9" * 200)
    assert not s.at_limit("L" * (s.max_chars - 1)) and not s.at_limit("L" * (s.max_chars + 1))  # past it
    assert o.at_limit(body_rules._padded(o.max_bytes)) and o.at_limit(body_rules._padded(o.lowest))
    assert not o.at_limit(body_rules._padded(o.lowest - 1)) and not o.at_limit(body_rules._padded(o.max_bytes + 1))
    assert not o.at_limit(body_rules._wide(o.lowest - 1, past=False))


@given(st.text(max_size=300))
def test_at_limit_never_past_it_and_short_strings_never_at_it(value):
    limit = _string_limit(V3)
    if limit.at_limit(value):
        assert not limit.exceeded_by(value)
    if len(value.encode("utf-8", "surrogatepass")) < limit.max_chars and len(value) < limit.max_chars:
        utf16 = len(value.encode("utf-16-le", "surrogatepass")) // 2
        assert limit.at_limit(value) == (utf16 >= limit.max_chars)


@pytest.mark.parametrize("p", [V3, V4], ids=["v3", "v4"])
def test_the_class_values_stay_short_of_every_count(p):
    """A refusal of a string class is then never the limit's: only the at-limit cases are at the limit."""
    for field in p.fields_of_type("string"):
        values = [v for _, v in variety.field_values(p, field)] + variety.mixed_values(p, field)
        assert values and not [v for v in values if p.limits[field].at_limit(v)]


# -- verdicts at SHOULD level ---------------------------------------------------------------------------
def _ex(status, code=None, p=V3, body=None):
    content = json.dumps({"error": {"code": code, "message": "m"}}).encode() if code else b""
    request = body or Request(EV.live, Credentials.of(header=Key("valid")), Body.of({p.fields[0]: "x"}))
    headers = {"content-type": "application/json"} if code else {}
    return Exchange(request, p.update_method, "http://t/x", {}, status, headers, content)


def test_an_answer_the_expectation_takes_at_should_level_is_a_should_finding():
    judged = sources.parse("judgement:the unit", "here")
    exp = Expectation("UE-BODY-01", "a valid update", allowed={200: None}, should={400: None}, should_basis=(judged,))
    with pytest.raises(Violation) as should:
        checks.outcome_as_expected(_ex(400, "RequestCannotBeParsed"), exp)
    assert should.value.level == "SHOULD" and should.value.basis == (judged,)
    with pytest.raises(Violation) as must:
        checks.outcome_as_expected(_ex(404, "RequestNotFound"), exp)
    assert must.value.level == "MUST"


@pytest.mark.parametrize("strict", [False, True])
def test_a_should_finding_is_a_warning_unless_strict(strict):
    ledger = Ledger("v3", strict=strict)
    found = Violation("UE-BODY-01", "200", "400", _ex(400, "RequestCannotBeParsed"))
    found.rests_on((sources.parse("judgement:the unit", "here"),))
    ledger.record([("UE-BODY-01", found)])
    tally = ledger.clauses["UE-BODY-01"]
    assert (tally.failed, tally.warned, found.binding) == ((1, 0, True) if strict else (0, 1, False))
    assert (len(ledger.failures), len(ledger.warnings)) == ((1, 0) if strict else (0, 1))
    assert ledger.warnings[:1] == [] or ledger.warnings[0]["level"] == "SHOULD"
    if strict:
        with pytest.raises(Violation):
            checks.raise_all([found])
    else:
        checks.raise_all([found])  # not raised: the test of its clause passes


@pytest.mark.parametrize("p", [V3, V4], ids=["v3", "v4"])
def test_a_value_at_the_limit_refused_otherwise_fails(p):
    field = next(f for f, lim in p.limits.items() if lim.max_chars)
    request = Request(EV.live, Credentials.of(header=Key("valid")), Body.of({field: "L" * p.limits[field].max_chars}))
    exps = oracle.expect(p, request, EV)
    refused = _ex(p.role("too_large").status, p.role("too_large").code, p, request)
    levels = {c: v.level for c, v in oracle.judge(refused, p, exps) if v is not None}
    assert levels == {"UE-BODY-01": "SHOULD"}
    not_found = _ex(404, p.role("unknown_event").code, p, request)
    assert {c: v.level for c, v in oracle.judge(not_found, p, exps) if v is not None} == {"UE-BODY-01": "MUST"}


def test_413_is_declared_only_as_the_answer_to_a_body_past_the_limit():
    past = Request(EV.live, Credentials.of(header=Key("valid")), Body.of({V4.fields[0]: "L" * 300}))
    valid = Request(EV.live, Credentials.of(header=Key("valid")), Body.of({V4.fields[0]: "L"}))

    def failed(p, request):
        return {
            c for c, v in oracle.judge(_ex(413, "payload_too_large", p, request), p, oracle.expect(p, request, EV)) if v
        }

    assert failed(V4, past) == set()
    assert responses.DECLARED in failed(V4, valid) and body_rules.VALID_ACCEPTED in failed(V4, valid)
    past3 = Request(EV.live, Credentials.of(header=Key("valid")), Body.of({V3.fields[0]: "L" * 300}))
    assert responses.DECLARED in failed(V3, past3)


# -- the vendor's own aliases ---------------------------------------------------------------------------
def test_v3_takes_the_vendors_tags_as_a_should_level_deviation_only():
    assert set(evidence.aliases(V3)) == {"tags"} and not evidence.aliases(V4)
    key = Credentials.of(header=Key("valid"))
    requests = [Request(EV.live, key, Body.of({"tag": {"a": 1}})), Request(EV.live, key, Body.of({"tags": {"b": 2}}))]
    assert [a.name for a in aliases.explaining(V3, requests, {"tag": {"b": 2}}, {"tag": {"a": 1}})] == ["tags"]
    assert aliases.explaining(V3, requests, {"tag": {"c": 3}}, {"tag": {"a": 1}}) == []  # not what `tags` carried
    check = aliases.excusing(V3, requests, checks.stored_fields_match)
    with pytest.raises(Violation) as caught:
        check(semantics.PARTIAL, {"tag": {"b": 2}}, {"tag": {"a": 1}}, _ex(200))
    assert caught.value.level == "SHOULD" and "tags" in caught.value.deviation
    with pytest.raises(Violation) as other:
        check(semantics.PARTIAL, {"tag": {"c": 3}}, {"tag": {"a": 1}}, _ex(200))
    assert other.value.level == "MUST"


def test_v4_read_back_without_tags_reads_as_empty():
    assert V4.absent_reads_as["tags"] == {}
    checks.stored_fields_match(semantics.STORED, {}, {"tags": {}}, _ex(200, p=V4), V4.absent_reads_as)


# -- waits and intermediaries ---------------------------------------------------------------------------
@given(st.floats(min_value=0.01, max_value=3600))
def test_not_ready_waits_fill_the_budget_quick_first(budget):
    waits = not_ready_waits(budget)
    assert sum(waits) == pytest.approx(budget) and waits[0] < waits[5] and len(waits) >= 12


def test_an_intermediarys_page_is_not_the_apis_answer():
    assert intermediary(_ex(502)) and intermediary(_ex(504))
    assert not intermediary(_ex(502, "Failed")) and not intermediary(_ex(500)) and not intermediary(_ex(200))


def test_intermediary_pages_are_transient_while_rare():
    page = _ex(502)
    rare = gateway.Transients()
    assert [rare.seen("t", page) for _ in range(gateway.MOST)] == [[]] * gateway.MOST
    assert rare.settle(requests=1000) == [] and all(r["transient"] for r in rare.records(""))
    assert len(rare.settle(requests=100)) == gateway.MOST  # more than 1 % of the requests: every one fails
    many = gateway.Transients()
    for _ in range(gateway.MOST):
        many.seen("t", page)
    assert len(many.seen("t", page)) == gateway.MOST + 1 and many.seen("t", page) == [("t", page)]
    strict = gateway.Transients(strict=True)
    assert strict.seen("t", page) == [("t", page)]


# -- options --------------------------------------------------------------------------------------------
def _options(tmp_path, **given):
    return parse(lambda dest: given.get(dest), tmp_path)


def test_the_not_ready_budget_is_an_option_within_the_run_timeout(tmp_path, monkeypatch):
    monkeypatch.delenv("FPJS_STRICT", raising=False)
    assert _options(tmp_path, not_ready_budget="4").not_ready_budget == 4.0
    assert _options(tmp_path).not_ready_budget is None and not _options(tmp_path).strict
    with pytest.raises(OptionError, match="shorter than --run-timeout"):
        _options(tmp_path, not_ready_budget="60", run_timeout="60")
    with pytest.raises(OptionError):
        _options(tmp_path, not_ready_budget="nan")
    assert _options(tmp_path, strict=True).strict
    monkeypatch.setenv("FPJS_STRICT", "1")
    assert _options(tmp_path).strict


# -- the live deviation set -----------------------------------------------------------------------------
@pytest.mark.parametrize("url", ["https://api.fpjs.io", "https://eu.api.fpjs.io/v4", "https://ap.api.fpjs.io"])
def test_the_production_hosts_get_the_live_set_and_it_holds_no_guess(url):
    sets = deviations.load(deviations.DEFAULT_PATH, clauses.catalogue())
    for version in profiles.versions():
        chosen = deviations.select(sets, None, url, version)
        assert chosen is not None and chosen.name == "live" and dict(chosen.deviations) == {}
