"""The class tables of contracts/variety.toml as the coverage table uses them: derived character classes,
JSON escapes, near misses of names, header shapes, and how they ride on the table within its budget."""

import json
import unicodedata

import pytest

from fpjs_conformance import oracle, table_run, variety
from fpjs_conformance import profile as profiles
from fpjs_conformance.model import VALID, Body, Credential, Credentials, Events, Request, strict_json
from fpjs_conformance.table import PROBE_MARK, marked, text_body

EV = Events("1708102555327.NLOjmg", "1600000000000.expird", "1708102555999.notRdy")
VERSIONS = [profiles.load(v) for v in ("v3", "v4")]
BUDGET = {"v3": 190, "v4": 183}  # the coverage table's requests before the class tables: it must not grow


def table(p):
    return table_run.cases(p, EV, wrong_region=True)


# -- character classes -------------------------------------------------------------------------------
def test_every_category_of_the_table_is_probed_by_its_own_code_points():
    spec = variety.data()["strings"]
    found = {c.name: c for c in variety.classes()}
    assert list(found) == [*spec["categories"], "noncharacter"]
    for name in spec["categories"]:
        assert found[name].code_points and all(unicodedata.category(chr(cp)) == name for cp in found[name].code_points)


@pytest.mark.parametrize("category", ["Zs", "Mn", "Co", "Cf"])
def test_representatives_are_the_first_of_their_category_in_each_utf8_length(category):
    starts = [variety.code_point(s) for s in variety.data()["strings"]["starts"]]
    derived = next(c for c in variety.classes() if c.name == category).code_points
    for start, end in zip(starts, [*starts[1:], 0x110000], strict=True):
        first = next(
            (cp for cp in range(start, min(end, start + 0x10000)) if unicodedata.category(chr(cp)) == category), None
        )
        assert first is None or first in derived


def test_noncharacters_and_the_open_class():
    non = next(c for c in variety.classes() if c.name == "noncharacter")
    assert {0xFDD0, 0xFDEF, 0xFFFE, 0xFFFF, 0x1FFFE, 0x10FFFF} <= set(non.code_points)
    assert all(unicodedata.category(chr(cp)) == "Cn" for cp in non.code_points)
    lone = variety.open_classes()["lone-surrogate"]
    assert all(unicodedata.category(chr(cp)) == "Cs" for cp in lone.code_points)
    for value in (lone.only(), lone.mixed()):  # never a pair: each half stays lone through JSON
        assert json.loads(variety.escaped(value)) == value
    assert variety.open_class_in({"a": ["x", lone.mixed()]}) == "lone-surrogate"
    assert variety.open_class_in({"k": "\U0001f98a"}) is None


def test_only_and_mixed_values():
    letters = set(variety.data()["strings"]["letters"])
    for cls in variety.classes():
        assert set(cls.only()) == set(map(chr, cls.code_points))
        mixed = cls.mixed()
        assert set(cls.only()) <= set(mixed) and set(mixed) - set(cls.only()) <= letters
    zs = next(c for c in variety.classes() if c.name == "Zs")
    assert zs.only().isspace() and " " in zs.only()  # a space-only value


@pytest.mark.parametrize("p", VERSIONS, ids=["v3", "v4"])
def test_single_string_field_values_fit_the_limit(p):
    field = p.fields_of_type("string")[0]
    top = p.limits[field].max_chars
    groups = [g for g, _ in variety.field_values(p, field)]
    assert groups == list(dict.fromkeys(c.group for c in variety.classes()))
    mixed = variety.mixed_values(p, field)
    assert all(len(v) <= top for _, v in variety.field_values(p, field)) and all(len(v) <= top for v in mixed)
    assert {ch for c in variety.classes() for ch in c.only()} <= set("".join(mixed))


# -- JSON escapes ------------------------------------------------------------------------------------
@pytest.mark.parametrize("upper", [False, True])
def test_escapes_stand_for_the_characters(upper):
    for cls in variety.classes():
        for value in (cls.only(), cls.mixed()):
            text = variety.escaped(value, upper=upper)
            assert text.isascii() and json.loads(text) == value
    assert variety.escaped("\U0001f98a/\t") == '"\\ud83e\\udd8a\\/\\t"'
    assert variety.escaped("\u00e9", upper=True) == '"\\u00E9"'
    assert variety.escaped("tags", letters=True) == '"\\u0074\\u0061\\u0067\\u0073"'


def test_a_text_body_stands_for_its_value_and_keeps_its_text_when_marked():
    body = text_body([("tags", {"\u00e9": "\U0001f98a"}, "name+ESCAPED"), ("linked_id", "a\u2028b", "raw")])
    assert body.raw.startswith(b'{"\\u0074\\u0061') and "\u2028".encode() in body.raw
    assert strict_json(body.raw) == body.json_value == {"tags": {"\u00e9": "\U0001f98a"}, "linked_id": "a\u2028b"}
    again = marked(Request(EV.live, Credentials.of(header=VALID), body), "m").body
    assert again.raw.startswith(body.raw[:-1]) and strict_json(again.raw) == {**body.json_value, "fpjs_case": "m"}


# -- near misses of names ----------------------------------------------------------------------------
def test_near_misses_of_field_names():
    v3, v4 = VERSIONS
    misses = variety.field_near_misses(v3)
    assert {"linkedid", "LINKEDID", "LinkedId", "linked_id", "linked-id", " linkedId", "linkedId ", "linkedI"} <= set(
        misses["linkedId"]
    )
    assert "tags" in misses["tag"]  # v4's name, and the plural
    assert "linkedId" in variety.field_near_misses(v4)["linked_id"] and "tag" in variety.field_near_misses(v4)["tags"]
    for p in VERSIONS:
        found = [m for ms in variety.field_near_misses(p).values() for m in ms]
        assert len(found) == len(set(found)) and not set(found) & set(p.fields)


def test_near_misses_of_key_places_and_schemes():
    header = variety.near_misses("Auth-API-Key", "header")
    assert "auth_api_key" in header and all(variety.HTTP_TOKEN.fullmatch(h) for h in header)
    assert len({h.lower() for h in header}) == len(header) and "auth-api-key" not in {h.lower() for h in header}
    assert {"API_KEY", "apiKey", "api-key", " api_key"} <= set(variety.near_misses("api_key", "query"))
    assert variety.near_misses("Authorization", "header") == [
        "Authorizationn",
        "Authorizatio",
        "Authorizatioo",
        "Authorizations",
    ]
    assert variety.near_misses("Bearer", "scheme") == ["Bearerr", "Beare", "Beares"]


# -- header shapes -----------------------------------------------------------------------------------
def test_every_optional_header_is_left_out_and_varied():
    shapes = variety.shapes()
    for name in variety.data()["headers"]["optional"]:
        assert any(s.headers_as == ((name, None),) for s in shapes)
    assert any(all(v is None for _, v in s.headers_as) and len(s.headers_as) == 4 for s in shapes)
    json_types = [s.content_type for s in shapes if s.content_type]
    assert json_types and all(variety.json_media(ct) and ct != "application/json" for ct in json_types)
    assert not variety.json_media("text/plain") and not variety.json_media(None)


# -- riding on the table -----------------------------------------------------------------------------
@pytest.mark.parametrize("p", VERSIONS, ids=["v3", "v4"])
def test_the_table_does_not_grow(p):
    assert sum(table_run.requests_of(c) for c in table(p)) <= BUDGET[p.version]


@pytest.mark.parametrize("p", VERSIONS, ids=["v3", "v4"])
def test_every_shape_is_seen_accepted_and_refused(p):
    seen: dict[str, set[int]] = {}
    for case in table(p):
        for request in case.requests:
            statuses = set(oracle.expect(p, request, EV)[0].allowed or {})
            for shape in variety.shapes():
                if (
                    request.headers_as == shape.headers_as
                    and (shape.content_type or "application/json") == request.content_type
                ):
                    seen.setdefault(shape.name, set()).update(statuses)
    for shape in variety.shapes():
        assert 200 in seen.get(shape.name, set()) and 403 in seen[shape.name], shape.name


@pytest.mark.parametrize("p", VERSIONS, ids=["v3", "v4"])
def test_every_class_is_read_back_in_every_place(p):
    field = p.fields_of_type("string")[0]
    objects = p.fields_of_type("object")[0]
    read_back = [r for c in table(p) if c.compare for r in c.requests[-1:]]
    linked = set()
    for case in table(p):  # what each case's read-back compares: the last value each field was sent
        if case.compare:
            want = {}
            for request in case.requests:
                want.update(request.body.json_value)
            linked.add(want.get(field))
    assert {v for _, v in variety.field_values(p, field)} <= linked
    assert set(variety.mixed_values(p, field)) <= linked
    whole = set(variety.object_of_classes((PROBE_MARK, "x"))) - {PROBE_MARK}
    packed = [r for r in read_back if whole <= set(r.body.json_value.get(objects) or {})]
    # twice: the object's strings raw (the string field's escaped), then escaped (every name escaped too)
    assert len(packed) == 2 and all(r.body.raw is not None for r in packed)
    raw, escaped = (r.body.raw for r in packed)
    assert "\u00c0".encode() in raw and b"\\u00c0" in raw and b"\\u00C0" not in raw
    assert escaped.startswith(b'{"\\u') and b"\\u00C0" in escaped and b"\\u00c0" not in escaped


@pytest.mark.parametrize("p", VERSIONS, ids=["v3", "v4"])
def test_near_misses_ride_with_and_without_their_field(p):
    misses = variety.field_near_misses(p)
    cases = {c.id: c for c in table(p)}
    body = cases["body/all-fields"].requests[0].body.json_value
    order = list(body)
    for field, names in misses.items():
        assert all(order.index(n) > order.index(field) for n in names)  # after it: the last one wins in Go
    for field in p.fields:
        second = cases[f"semantics/partial:{field}"].requests[-1].body.json_value
        for other in p.fields:
            if other != field:
                assert other not in second and set(misses[other]) <= set(second)


def test_lone_surrogates_go_only_where_the_profile_says_what_they_get(monkeypatch):
    p = VERSIONS[1]
    assert "lone-surrogate" in variety.open_strings(p)
    spec = variety.data()["strings"]["open"]["lone-surrogate"]
    sent = [c.id for c in table(p) if ":lone-surrogate:" in c.id]
    assert sent == ([] if spec.get("send") is False else sent)
    monkeypatch.setitem(spec, "send", True)
    cases = [c for c in table(p) if ":lone-surrogate:" in c.id]
    assert [c.id for c in cases] == [
        "body/linked_id/open:lone-surrogate:only",
        "body/linked_id/open:lone-surrogate:mixed",
    ]
    for case in cases:
        (request,) = case.requests
        assert request.body.raw.isascii() and case.compare == "fold"
        lead = oracle.expect(p, request, EV)[0]
        assert lead.clause_id == "UE-BODY-01" and set(lead.allowed) == {200, 400}


def test_a_near_miss_name_holds_no_key_however_the_client_spells_it():
    v3 = VERSIONS[0]
    body = Body.of({"linkedId": "x"})
    for name in variety.near_misses("api_key", "query"):
        creds = Credentials((Credential("query", VALID, name=name),))
        assert oracle.expect(v3, Request(EV.live, creds, body), EV)[0].clause_id == "UE-AUTH-01"
